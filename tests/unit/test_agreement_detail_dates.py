"""The monitoring core's pieces for an agreement's own dates: a yearly date repeats to the
end (29 February on 28 February in other years), a payment is reminded of five working
days before its pay-by day (bank holidays skipped, from the legal data), other dates on the
working day on or before, and a TUPE transfer after the end is refused."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.law.rules import whole_number
from bot.core.monitoring import (
    AgreementDates,
    Audience,
    KeyDate,
    KeyDateKind,
    KeyDatesError,
    every_year,
    pay_by,
    reminder_day,
)

START = date(2026, 4, 1)


def test_a_yearly_date_repeats_until_the_end() -> None:
    assert every_year(date(2026, 4, 1), date(2028, 3, 31)) == (date(2026, 4, 1), date(2027, 4, 1))
    assert every_year(date(2028, 2, 29), date(2030, 3, 1)) == (
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
    )
    assert every_year(date(2026, 4, 1), date(2026, 3, 31)) == ()


def _on(kind: KeyDateKind, day: date) -> KeyDate:
    return KeyDate(kind, "what", day, Audience.TEAM, "why")


def test_a_payment_is_reminded_working_days_before_its_pay_by_day() -> None:
    assert whole_number("key_dates.payment_reminder_working_days", START) == 5
    # Pay by Christmas Day 2026: the working day before is Thursday 24 December; five
    # working days before that, Thursday 17 December.
    assert reminder_day(_on(KeyDateKind.PAYMENT_DUE, date(2026, 12, 25)), START) == date(
        2026, 12, 17
    )
    # Over the spring bank holiday (Monday 25 May 2026).
    assert reminder_day(_on(KeyDateKind.MEMBER_PAYMENT_DUE, date(2026, 6, 2)), START) == date(
        2026, 5, 26
    )
    # Any other date: the working day on or before it.
    assert reminder_day(_on(KeyDateKind.REVIEW, date(2026, 12, 26)), START) == date(2026, 12, 24)


def test_pay_by_is_the_law_or_shorter_agreed_terms() -> None:
    dates = AgreementDates(starts=START, ends=date(2028, 3, 31))
    assert pay_by(dates, date(2026, 11, 26), subcontract=False) == date(2026, 12, 25)
    shorter = AgreementDates(starts=START, ends=date(2028, 3, 31), payment_terms_days=10)
    assert pay_by(shorter, date(2026, 11, 26), subcontract=True) == date(2026, 12, 5)
    grant = AgreementDates(starts=START, ends=date(2028, 3, 31), grant=True)
    assert pay_by(grant, date(2026, 11, 26), subcontract=False) is None


def test_staff_cannot_move_after_the_end() -> None:
    with pytest.raises(KeyDatesError, match="after the agreement ends"):
        AgreementDates(starts=START, ends=date(2027, 3, 31), transfer_on=date(2027, 4, 1))
