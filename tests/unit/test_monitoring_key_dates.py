"""An agreement's key dates: every figure from the dated legal rules with its citation, each
date for the right people, and contradictory dates refused in plain words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.law import rule
from bot.core.monitoring import (
    THE_AGREEMENT,
    AgreementDates,
    Audience,
    BreakClause,
    KeyDate,
    KeyDateKind,
    KeyDatesError,
    key_dates,
    last_day_within,
)
from bot.core.working_days import is_working_day, working_day_on_or_before

K = KeyDateKind

AGREEMENT = AgreementDates(
    starts=date(2026, 4, 1),
    ends=date(2029, 3, 31),
    entered_on=date(2026, 3, 20),
    extension_decision_on=date(2028, 9, 30),
    break_clauses=(BreakClause(date(2027, 3, 31), notice_days=90),),
    uplift_dates=(date(2027, 4, 1),),
    review_dates=(date(2027, 3, 1),),
    kpis_set=True,
    transfer_on=date(2026, 4, 1),
    invoices=(date(2026, 4, 30),),
    member_invoices=(date(2026, 5, 5),),
)


def _by_kind(dates: list[KeyDate]) -> dict[KeyDateKind, list[date]]:
    found: dict[KeyDateKind, list[date]] = {}
    for key_date in dates:
        found.setdefault(key_date.kind, []).append(key_date.on)
    return found


def test_every_key_date_of_a_three_year_contract() -> None:
    dates = key_dates(AGREEMENT)
    assert _by_kind(dates) == {
        K.END_OF_TERM_FIRST: [date(2028, 9, 30)],  # 6 months before the end
        K.END_OF_TERM_SECOND: [date(2028, 12, 31)],  # 3 months before
        K.END_OF_TERM: [date(2029, 3, 31)],
        K.EXTENSION_DECISION: [date(2028, 9, 30)],
        K.BREAK_NOTICE: [date(2026, 12, 31)],  # 90 days before 31 March 2027
        K.PRICE_UPLIFT: [date(2027, 4, 1)],
        K.REVIEW: [date(2027, 3, 1)],
        # At least every 12 months from the start, and when it ends (s.71).
        K.PERFORMANCE_ASSESSMENT: [date(2027, 4, 1), date(2028, 4, 1), date(2029, 3, 31)],
        # 30 days beginning with the day it was signed (s.53).
        K.CONTRACT_DETAILS_NOTICE: [date(2026, 4, 18)],
        K.TERMINATION_NOTICE: [date(2029, 4, 29)],  # 30 days beginning with the last day
        K.EMPLOYEE_LIABILITY_INFORMATION: [date(2026, 3, 4)],  # 28 days before the transfer
        K.PAYMENT_DUE: [date(2026, 5, 29)],  # s.68
        K.MEMBER_PAYMENT_DUE: [date(2026, 6, 3)],  # s.73, the lead paying a member
    }
    assert [d.on for d in dates] == sorted(d.on for d in dates)


def test_each_key_date_says_who_it_is_for_and_cites_the_law() -> None:
    dates = {d.kind: d for d in key_dates(AGREEMENT)}
    on = AGREEMENT.starts
    expected = {
        K.END_OF_TERM_FIRST: (Audience.BOTH, "key_dates.end_of_term_first_months"),
        K.END_OF_TERM_SECOND: (Audience.BOTH, "key_dates.end_of_term_second_months"),
        K.PERFORMANCE_ASSESSMENT: (Audience.TEAM, "performance.assessment_months"),
        K.CONTRACT_DETAILS_NOTICE: (Audience.TEAM, "contract_details.days"),
        K.TERMINATION_NOTICE: (Audience.TEAM, "termination.notice_days"),
        K.EMPLOYEE_LIABILITY_INFORMATION: (
            Audience.BOTH,
            "tupe.employee_liability_information_days",
        ),
        K.PAYMENT_DUE: (Audience.TEAM, "payment.days"),
        K.MEMBER_PAYMENT_DUE: (Audience.PROVIDER, "payment.subcontract_days"),
    }
    for kind, (audience, name) in expected.items():
        assert dates[kind].audience is audience, kind
        assert dates[kind].citation == rule(name, on).citation, kind
    assert "s.71" in dates[K.PERFORMANCE_ASSESSMENT].citation
    assert "s.53" in dates[K.CONTRACT_DETAILS_NOTICE].citation
    assert "s.80" in dates[K.TERMINATION_NOTICE].citation
    assert "s.68" in dates[K.PAYMENT_DUE].citation
    for kind in (K.EXTENSION_DECISION, K.BREAK_NOTICE, K.PRICE_UPLIFT, K.REVIEW, K.END_OF_TERM):
        assert dates[kind].citation == THE_AGREEMENT
    assert dates[K.EXTENSION_DECISION].audience is Audience.TEAM
    assert "Saturday 31 March 2029" in dates[K.END_OF_TERM_FIRST].what
    assert "Wednesday 31 March 2027" in dates[K.BREAK_NOTICE].what


def test_a_light_touch_contract_has_120_days_for_its_contract_details_notice() -> None:
    light = AgreementDates(date(2026, 4, 1), date(2027, 3, 31), light_touch=True)
    (notice,) = [d for d in key_dates(light) if d.kind is K.CONTRACT_DETAILS_NOTICE]
    assert notice.on == date(2026, 7, 29)  # 120 days beginning with 1 April
    assert "120 days" in notice.what


def test_a_grant_has_none_of_the_acts_notices_or_assessments() -> None:
    grant = AgreementDates(
        date(2026, 4, 1),
        date(2027, 3, 31),
        grant=True,
        kpis_set=True,
        invoices=(date(2026, 6, 1),),
    )
    kinds = {d.kind for d in key_dates(grant)}
    assert kinds == {K.END_OF_TERM_FIRST, K.END_OF_TERM_SECOND, K.END_OF_TERM}
    with_terms = AgreementDates(
        date(2026, 4, 1),
        date(2027, 3, 31),
        grant=True,
        invoices=(date(2026, 6, 1),),
        payment_terms_days=14,
    )
    (payment,) = [d for d in key_dates(with_terms) if d.kind is K.PAYMENT_DUE]
    assert payment.on == date(2026, 6, 14) and payment.citation == THE_AGREEMENT


def test_no_assessments_where_no_kpis_were_set() -> None:
    plain = AgreementDates(date(2026, 4, 1), date(2029, 3, 31))
    assert K.PERFORMANCE_ASSESSMENT not in {d.kind for d in key_dates(plain)}


def test_payment_terms_longer_than_the_law_give_way_and_shorter_ones_stand() -> None:
    longer = AgreementDates(
        date(2026, 4, 1), date(2027, 3, 31), invoices=(date(2026, 6, 1),), payment_terms_days=45
    )
    shorter = AgreementDates(
        date(2026, 4, 1), date(2027, 3, 31), invoices=(date(2026, 6, 1),), payment_terms_days=10
    )
    (by_law,) = [d for d in key_dates(longer) if d.kind is K.PAYMENT_DUE]
    (by_terms,) = [d for d in key_dates(shorter) if d.kind is K.PAYMENT_DUE]
    assert by_law.on == date(2026, 6, 30) and "s.68" in by_law.citation
    assert by_terms.on == date(2026, 6, 10) and by_terms.citation == THE_AGREEMENT


def test_ending_early_drops_the_dates_it_will_not_reach_and_keeps_what_is_owed() -> None:
    ended = AgreementDates(
        starts=AGREEMENT.starts,
        ends=AGREEMENT.ends,
        extension_decision_on=AGREEMENT.extension_decision_on,
        uplift_dates=(date(2027, 4, 1), date(2028, 4, 1)),
        kpis_set=True,
        terminated_on=date(2027, 6, 30),
    )
    found = _by_kind(key_dates(ended))
    assert K.END_OF_TERM_FIRST not in found and K.EXTENSION_DECISION not in found
    assert found[K.PRICE_UPLIFT] == [date(2027, 4, 1)]
    assert found[K.PERFORMANCE_ASSESSMENT] == [date(2027, 4, 1), date(2027, 6, 30)]
    assert found[K.TERMINATION_NOTICE] == [date(2027, 7, 29)]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"ends": date(2026, 3, 31)}, "ends before it starts"),
        ({"break_clauses": (BreakClause(date(2029, 4, 1), 90),)}, "break clause"),
        ({"extension_decision_on": date(2029, 4, 1)}, "extension decision"),
        ({"uplift_dates": (date(2030, 4, 1),)}, "price uplift"),
        ({"review_dates": (date(2026, 1, 1),)}, "review"),
        ({"terminated_on": date(2026, 1, 1)}, "before it starts"),
        ({"payment_terms_days": 0}, "at least 1 day"),
    ],
)
def test_dates_that_contradict_each_other_are_refused(
    changes: dict[str, object], complaint: str
) -> None:
    arguments: dict[str, object] = {"starts": date(2026, 4, 1), "ends": date(2029, 3, 31)}
    arguments.update(changes)
    with pytest.raises(KeyDatesError, match=complaint):
        AgreementDates(**arguments)  # type: ignore[arg-type]


def test_a_reminder_about_a_weekend_deadline_goes_the_working_day_before() -> None:
    (first,) = [d for d in key_dates(AGREEMENT) if d.kind is K.END_OF_TERM_FIRST]
    assert first.on == date(2028, 9, 30)  # a Saturday
    assert working_day_on_or_before(first.on) == date(2028, 9, 29)
    # A notice due on Boxing Day 2026's holiday is reminded about on Christmas Eve.
    assert working_day_on_or_before(date(2026, 12, 28)) == date(2026, 12, 24)


def test_a_period_beginning_with_a_day_counts_that_day() -> None:
    assert last_day_within(date(2026, 3, 1), 30) == date(2026, 3, 30)
    with pytest.raises(ValueError):
        last_day_within(date(2026, 3, 1), 0)


@given(
    st.dates(min_value=date(2025, 2, 24), max_value=date(2035, 1, 1)),
    st.integers(1, 3650),
    st.booleans(),
    st.booleans(),
)
def test_key_dates_are_in_order_and_their_reminders_are_never_late(
    starts: date, length: int, light_touch: bool, kpis: bool
) -> None:
    agreement = AgreementDates(
        starts, starts + timedelta(days=length), light_touch=light_touch, kpis_set=kpis
    )
    dates = key_dates(agreement)
    assert [d.on for d in dates] == sorted(d.on for d in dates)
    assert all(d.citation for d in dates)
    for key_date in dates:
        reminder = working_day_on_or_before(key_date.on)
        assert reminder <= key_date.on and is_working_day(reminder)
        assert (key_date.on - reminder).days <= 4
    assessments = [d.on for d in dates if d.kind is K.PERFORMANCE_ASSESSMENT]
    if kpis:
        gaps = [b - a for a, b in zip([starts, *assessments], assessments, strict=False)]
        assert all(gap <= timedelta(days=366) for gap in gaps)
        assert assessments[-1] == agreement.ends
    else:
        assert assessments == []


def test_a_short_agreement_has_no_warning_from_before_it_started() -> None:
    short = AgreementDates(date(2026, 4, 1), date(2026, 8, 31))
    kinds = {d.kind for d in key_dates(short)}
    assert K.END_OF_TERM_FIRST not in kinds and K.END_OF_TERM_SECOND in kinds
