"""The key dates in an agreement's life, each with who it is for and the law behind it.

From an agreement's own dates (start, end, break clauses, uplifts, reviews, invoices) and
the legal rules in force when its procurement started, this lists what is due when:
end-of-term warnings, the extension decision, the last day to give notice for each break
clause, price uplifts and reviews, contract performance assessments (s.71), the contract
details notice (s.53), the termination notice (s.80), TUPE employee liability
information, and payment due dates (ss.68, 73). Every figure comes from `rules.toml`;
dates the parties set themselves cite the agreement.

Each date is the day itself, even on a weekend: a reminder about it goes on the working
day on or before it (`bot.core.working_days.working_day_on_or_before`), never after.
Grants are not public contracts, so the Act's notices and s.71 assessments never apply
to them; the same goes for contracts outside the Act (`public_contract=False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.core.clock import format_date
from bot.core.law.notices import (
    contract_details_notice_days,
    last_day_within,
    payment_days,
    termination_notice_days,
)
from bot.core.law.rules import rule, whole_number
from bot.core.law.thresholds import performance_assessment_months
from bot.core.months import add_months
from bot.core.working_days import is_working_day, working_day_on_or_before

#: Dates the parties set themselves are cited to the agreement, not to the law.
THE_AGREEMENT = "The agreement's own terms"


class KeyDatesError(ValueError):
    """Dates that contradict each other; the message says which, in plain words."""


class Audience(StrEnum):
    """Who a key date is for: the commissioning team, the provider, or both."""

    TEAM = "team"
    PROVIDER = "provider"
    BOTH = "both"


class KeyDateKind(StrEnum):
    """What kind of date it is: stable keys for reminders, whatever the wording."""

    END_OF_TERM_FIRST = "end_of_term_first"
    END_OF_TERM_SECOND = "end_of_term_second"
    END_OF_TERM = "end_of_term"
    EXTENSION_DECISION = "extension_decision"
    BREAK_NOTICE = "break_notice"
    PRICE_UPLIFT = "price_uplift"
    REVIEW = "review"
    PERFORMANCE_ASSESSMENT = "performance_assessment"
    CONTRACT_DETAILS_NOTICE = "contract_details_notice"
    TERMINATION_NOTICE = "termination_notice"
    EMPLOYEE_LIABILITY_INFORMATION = "employee_liability_information"
    PAYMENT_DUE = "payment_due"
    MEMBER_PAYMENT_DUE = "member_payment_due"


@dataclass(frozen=True)
class BreakClause:
    """A day the agreement may be ended early, and the notice (in days) needed before it."""

    on: date
    notice_days: int


@dataclass(frozen=True)
class AgreementDates:
    """An agreement's dates, as the parties set them.

    `procurement_started_on` picks the legal rules in force (the agreement's start when
    not given). `entered_on` is the day the contract was signed (its start when not given).
    `invoices` are days the council received a valid invoice; `member_invoices` are days a
    consortium lead received one from a member. `kpis_set`: key performance indicators
    were set under s.52, so s.71 assessments are due.
    """

    starts: date
    ends: date
    procurement_started_on: date | None = None
    entered_on: date | None = None
    extension_decision_on: date | None = None
    break_clauses: tuple[BreakClause, ...] = ()
    uplift_dates: tuple[date, ...] = ()
    review_dates: tuple[date, ...] = ()
    light_touch: bool = False
    grant: bool = False
    public_contract: bool = True
    kpis_set: bool = False
    transfer_on: date | None = None
    invoices: tuple[date, ...] = ()
    member_invoices: tuple[date, ...] = ()
    payment_terms_days: int | None = None
    terminated_on: date | None = None

    def __post_init__(self) -> None:
        if self.ends < self.starts:
            raise KeyDatesError("The agreement ends before it starts. Check the two dates.")
        if self.terminated_on is not None and self.terminated_on < self.starts:
            raise KeyDatesError("The agreement cannot end early before it starts.")
        if self.extension_decision_on is not None and self.extension_decision_on > self.ends:
            raise KeyDatesError("The extension decision must come before the agreement ends.")
        for clause in self.break_clauses:
            if not self.starts <= clause.on <= self.ends:
                raise KeyDatesError("A break clause must fall between the start and the end.")
            if clause.notice_days < 0:
                raise KeyDatesError("A break clause's notice cannot be less than 0 days.")
        for label, days in (("price uplift", self.uplift_dates), ("review", self.review_dates)):
            if any(not self.starts <= d <= self.ends for d in days):
                raise KeyDatesError(f"Every {label} date must fall between the start and the end.")
        if self.transfer_on is not None and self.transfer_on > self.ends:
            raise KeyDatesError("Staff cannot move to a new employer after the agreement ends.")
        if self.payment_terms_days is not None and self.payment_terms_days < 1:
            raise KeyDatesError("Payment terms must be at least 1 day.")

    @property
    def rules_on(self) -> date:
        """The day whose legal rules apply: when the procurement started."""
        return self.procurement_started_on or self.starts

    @property
    def under_the_act(self) -> bool:
        """Whether the Act's notices and duties apply: a public contract, not a grant."""
        return self.public_contract and not self.grant

    @property
    def last_day(self) -> date:
        """The day it actually ends: early, if it was terminated."""
        if self.terminated_on is not None and self.terminated_on < self.ends:
            return self.terminated_on
        return self.ends


@dataclass(frozen=True)
class KeyDate:
    """One key date: what, when, who it is for, and the law (or the agreement) behind it."""

    kind: KeyDateKind
    what: str
    on: date
    audience: Audience
    citation: str


def _cited(name: str, on: date) -> str:
    return rule(name, on).citation


def _end_of_term(agreement: AgreementDates) -> list[KeyDate]:
    on = agreement.rules_on
    dates = []
    for kind, name in (
        (KeyDateKind.END_OF_TERM_FIRST, "key_dates.end_of_term_first_months"),
        (KeyDateKind.END_OF_TERM_SECOND, "key_dates.end_of_term_second_months"),
    ):
        months = whole_number(name, on)
        if add_months(agreement.ends, -months) < agreement.starts:
            continue  # a short agreement: it started less than that before its end
        dates.append(
            KeyDate(
                kind,
                f"The agreement ends in {months} months, on {format_date(agreement.ends)}: "
                "decide together whether to extend it, commission again or plan the end",
                add_months(agreement.ends, -months),
                Audience.BOTH,
                _cited(name, on),
            )
        )
    dates.append(
        KeyDate(
            KeyDateKind.END_OF_TERM,
            "The agreement ends",
            agreement.ends,
            Audience.BOTH,
            THE_AGREEMENT,
        )
    )
    return dates


def _agreed_dates(agreement: AgreementDates) -> list[KeyDate]:
    dates = []
    if agreement.extension_decision_on is not None:
        dates.append(
            KeyDate(
                KeyDateKind.EXTENSION_DECISION,
                "Decide whether to use the option to extend, and tell the provider",
                agreement.extension_decision_on,
                Audience.TEAM,
                THE_AGREEMENT,
            )
        )
    for clause in agreement.break_clauses:
        dates.append(
            KeyDate(
                KeyDateKind.BREAK_NOTICE,
                f"Last day to give notice to end the agreement early on "
                f"{format_date(clause.on)} ({clause.notice_days} days' notice)",
                clause.on - timedelta(days=clause.notice_days),
                Audience.BOTH,
                THE_AGREEMENT,
            )
        )
    for day in agreement.uplift_dates:
        dates.append(
            KeyDate(
                KeyDateKind.PRICE_UPLIFT, "The price goes up", day, Audience.BOTH, THE_AGREEMENT
            )
        )
    for day in agreement.review_dates:
        dates.append(
            KeyDate(
                KeyDateKind.REVIEW,
                "Review the agreement together",
                day,
                Audience.BOTH,
                THE_AGREEMENT,
            )
        )
    return dates


def performance_assessment_days(agreement: AgreementDates) -> list[date]:
    """Where KPIs were set: one assessment at least every 12 months from the start while it
    runs, and one when it ends or is terminated (s.71). None for a grant."""
    if not (agreement.kpis_set and agreement.under_the_act):
        return []
    months = performance_assessment_months(agreement.rules_on)
    days, n = [], 1
    while (day := add_months(agreement.starts, months * n)) < agreement.last_day:
        days.append(day)
        n += 1
    days.append(agreement.last_day)
    return days


def _notices(agreement: AgreementDates) -> list[KeyDate]:
    if not agreement.under_the_act:
        return []
    on = agreement.rules_on
    dates = [
        KeyDate(
            KeyDateKind.PERFORMANCE_ASSESSMENT,
            "Assess the provider's performance against the KPIs (a person decides; "
            "the provider is told first)",
            day,
            Audience.TEAM,
            _cited("performance.assessment_months", on),
        )
        for day in performance_assessment_days(agreement)
    ]
    entered = agreement.entered_on or agreement.starts
    details_days = contract_details_notice_days(agreement.light_touch, on)
    name = "contract_details.light_touch_days" if agreement.light_touch else "contract_details.days"
    dates.append(
        KeyDate(
            KeyDateKind.CONTRACT_DETAILS_NOTICE,
            f"Publish the contract details notice (within {details_days} days of signing)",
            last_day_within(entered, details_days),
            Audience.TEAM,
            _cited(name, on),
        )
    )
    days = termination_notice_days(on)
    dates.append(
        KeyDate(
            KeyDateKind.TERMINATION_NOTICE,
            f"Publish the contract termination notice (within {days} days of it ending)",
            last_day_within(agreement.last_day, days),
            Audience.TEAM,
            _cited("termination.notice_days", on),
        )
    )
    return dates


def _transfer(agreement: AgreementDates) -> list[KeyDate]:
    if agreement.transfer_on is None:
        return []
    name = "tupe.employee_liability_information_days"
    days = whole_number(name, agreement.rules_on)
    return [
        KeyDate(
            KeyDateKind.EMPLOYEE_LIABILITY_INFORMATION,
            f"Staff move to a new employer on {format_date(agreement.transfer_on)}: the old "
            f"employer must give the new one the employee liability information by today, "
            f"at least {days} days before",
            agreement.transfer_on - timedelta(days=days),
            Audience.BOTH,
            _cited(name, agreement.rules_on),
        )
    ]


def payment_terms_for(agreement: AgreementDates, *, subcontract: bool) -> tuple[int, str] | None:
    """Days to pay a valid invoice, and why. In a public contract, 30 days at most (s.68;
    s.73 for a consortium lead paying a member), so longer terms in the agreement give way
    to the law and shorter ones stand. In a grant, the agreement's own terms, if any."""
    terms = agreement.payment_terms_days
    if agreement.under_the_act:
        on = agreement.rules_on
        name = "payment.subcontract_days" if subcontract else "payment.days"
        legal = payment_days(on, subcontract=subcontract)
        if terms is not None and terms < legal:
            return terms, THE_AGREEMENT
        return legal, _cited(name, on)
    if terms is not None:
        return terms, THE_AGREEMENT
    return None


def pay_by(agreement: AgreementDates, received: date, *, subcontract: bool) -> date | None:
    """The last day to pay an invoice received on `received` (the day it came counts)."""
    terms = payment_terms_for(agreement, subcontract=subcontract)
    return None if terms is None else last_day_within(received, terms[0])


def _payments(agreement: AgreementDates) -> list[KeyDate]:
    """Payment due dates: one per invoice received and not yet paid."""
    dates = []
    for invoices, kind, audience, subcontract, what in (
        (agreement.invoices, KeyDateKind.PAYMENT_DUE, Audience.TEAM, False, "Pay the invoice"),
        (
            agreement.member_invoices,
            KeyDateKind.MEMBER_PAYMENT_DUE,
            Audience.PROVIDER,
            True,
            "Pay the consortium member's invoice",
        ),
    ):
        terms = payment_terms_for(agreement, subcontract=subcontract)
        if not invoices or terms is None:
            continue
        days, cited = terms
        for received in sorted(invoices):
            dates.append(
                KeyDate(
                    kind,
                    f"{what} received on {format_date(received)} ({days} days to pay)",
                    last_day_within(received, days),
                    audience,
                    cited,
                )
            )
    return dates


def every_year(first: date, until: date) -> tuple[date, ...]:
    """A date that repeats each year (an annual review on 1 April): `first`, then the same
    day each later year, up to and including `until`. 29 February falls on 28 February in
    other years."""
    days, n = [], 0
    while (day := add_months(first, 12 * n)) <= until:
        days.append(day)
        n += 1
    return tuple(days)


#: Kinds of date that are a payment: reminded of some working days before, time to pay.
PAYMENT_KINDS = frozenset({KeyDateKind.PAYMENT_DUE, KeyDateKind.MEMBER_PAYMENT_DUE})


def reminder_day(key_date: KeyDate, rules_on: date) -> date:
    """The day a key date's reminder goes: the working day on or before the date, never
    after; for a payment, `key_dates.payment_reminder_working_days` working days before
    its pay-by day, so the finance people have time to pay."""
    day = working_day_on_or_before(key_date.on)
    if key_date.kind in PAYMENT_KINDS:
        count = whole_number("key_dates.payment_reminder_working_days", rules_on)
        while count > 0:
            day -= timedelta(days=1)
            if is_working_day(day):
                count -= 1
    return day


def key_dates(agreement: AgreementDates) -> list[KeyDate]:
    """Every key date of the agreement, in date order.

    Once an agreement is terminated early, the dates it will no longer reach (end-of-term
    warnings, reviews, uplifts, break clauses after it ends) are left out; the termination
    notice, the last assessment and payments still owed remain.
    """
    contractual = _end_of_term(agreement) + _agreed_dates(agreement)
    if agreement.last_day < agreement.ends:
        contractual = [d for d in contractual if d.on <= agreement.last_day]
    dates = contractual + _notices(agreement) + _transfer(agreement) + _payments(agreement)
    return sorted(dates, key=lambda d: (d.on, list(KeyDateKind).index(d.kind)))
