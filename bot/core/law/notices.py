"""The notices a procurement needs on Find a Tender, and when each is due.

Opportunities show these as a checklist; agreements remind about the ones after award.
Every figure comes from the rules in force on the procurement's start date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.law.rules import notice_code, rule, whole_number, yes_or_no


@dataclass(frozen=True)
class NoticeStep:
    """One notice on the checklist: its code (UK4), what it is, when it is due, the law."""

    code: str
    name: str
    due: str
    citation: str


def standstill_days(light_touch: bool, on: date) -> int:
    """Working days to wait after the contract award notice before entering into the
    contract (s.51): 8; 0 for a light-touch contract, where it is not mandatory."""
    if light_touch and not yes_or_no("standstill.light_touch_mandatory", on):
        return 0
    return whole_number("standstill.working_days", on)


def contract_details_notice_days(light_touch: bool, on: date) -> int:
    """Days after entering into the contract to publish the contract details notice (s.53):
    30, or 120 for a light-touch contract."""
    return whole_number(
        "contract_details.light_touch_days" if light_touch else "contract_details.days", on
    )


def termination_notice_days(on: date) -> int:
    """Days after a contract ends to publish the contract termination notice (s.80)."""
    return whole_number("termination.notice_days", on)


def payment_days(on: date, subcontract: bool = False) -> int:
    """Days to pay a valid invoice, implied in every public contract (s.68) and in its
    sub-contracts, such as a consortium lead paying its members (s.73)."""
    return whole_number("payment.subcontract_days" if subcontract else "payment.days", on)


def has_statutory_minimum_tender_period(light_touch: bool, on: date) -> bool:
    """Whether the Act sets a minimum tender period (s.54). It sets none for light-touch
    contracts (s.54(3)); six weeks is still good practice for every tender."""
    return not light_touch or yes_or_no("tender_period.light_touch_statutory_minimum", on)


def preliminary_engagement_notice_applies(above_threshold: bool, on: date) -> bool:
    """A preliminary market engagement notice (UK2) is for above-threshold procurements
    only: published before the tender notice, or reasons given in it (s.17). It is not
    needed before engagement starts."""
    rule("notice.preliminary_market_engagement", on)
    return above_threshold


#: What people call each notice, by its rule's name.
NOTICE_NAMES = {
    "notice.preliminary_market_engagement": "Preliminary market engagement notice",
    "notice.tender": "Tender notice",
    "notice.transparency": "Transparency notice",
    "notice.contract_award": "Contract award notice",
    "notice.contract_details": "Contract details notice",
    "notice.contract_performance": "Contract performance notice",
    "notice.contract_change": "Contract change notice",
    "notice.contract_termination": "Contract termination notice",
}


def _step(name: str, due: str, on: date) -> NoticeStep:
    found = rule(name, on)
    return NoticeStep(notice_code(name, on), NOTICE_NAMES[name], due, found.citation)


def notice_steps(
    above_threshold: bool, light_touch: bool, direct_award: bool, on: date
) -> list[NoticeStep]:
    """The notices a public contract's procurement needs, in order, with when each is due.

    Below the threshold the Act's notices for public contracts do not apply, so the list
    is empty (regulated below-threshold notices, ss.85-87, are not in the data yet).
    """
    if not above_threshold:
        return []
    steps: list[NoticeStep] = []
    if direct_award:
        steps.append(_step("notice.transparency", "Before the contract is awarded", on))
    else:
        if preliminary_engagement_notice_applies(above_threshold, on):
            steps.append(
                _step(
                    "notice.preliminary_market_engagement",
                    "Before the tender notice, or give the reasons in the tender notice",
                    on,
                )
            )
        steps.append(_step("notice.tender", "When the tender opens", on))
    standstill = standstill_days(light_touch, on)
    award_due = "Before entering into the contract"
    if standstill:
        award_due += f", then wait {standstill} working days (standstill)"
    steps.append(_step("notice.contract_award", award_due, on))
    days = contract_details_notice_days(light_touch, on)
    steps.append(
        _step("notice.contract_details", f"Within {days} days of entering into the contract", on)
    )
    return steps


def last_day_within(first_day: date, days: int) -> date:
    """The last day of a period of `days` days beginning with `first_day`, as the Act counts
    ("within the period of 30 days beginning with the day on which ..."): the first day
    counts, so 30 days from 1 March end on 30 March."""
    if days < 1:
        raise ValueError("a period is at least a day")
    return first_day + timedelta(days=days - 1)
