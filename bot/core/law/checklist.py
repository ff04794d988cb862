"""The checklist a route needs: each notice and step, in order, with its due date.

Opportunities show it to the commissioner and record each step as done with the Find a
Tender notice identifier. Every figure comes from the rules in force on the procurement's
start date; due dates are worked out when the dates they hang on are known (the tender
notice, the award decision, the contract signed), and are None until then.

Standstill is counted in working days (weekends and England and Wales bank holidays
skipped, from `bot.core.working_days`); the contract details notice in calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.core.law.notices import (
    NOTICE_NAMES,
    contract_details_notice_days,
    last_day_within,
    standstill_days,
)
from bot.core.law.routes import Route, RouteDecision
from bot.core.law.rules import notice_code, rule, yes_or_no
from bot.core.law.thresholds import Money, is_above_threshold, is_regulated_below_threshold
from bot.core.working_days import last_working_day_of_period, next_working_day


class StepKey(StrEnum):
    """Stable keys for checklist steps: stored with the record of each step done."""

    PRELIMINARY_ENGAGEMENT_NOTICE = "preliminary_engagement_notice"
    TENDER_NOTICE = "tender_notice"
    TRANSPARENCY_NOTICE = "transparency_notice"
    CONTRACT_AWARD_NOTICE = "contract_award_notice"
    STANDSTILL = "standstill"
    CONTRACT_DETAILS_NOTICE = "contract_details_notice"
    BELOW_THRESHOLD_TENDER_NOTICE = "below_threshold_tender_notice"
    BELOW_THRESHOLD_CONTRACT_DETAILS_NOTICE = "below_threshold_contract_details_notice"
    NO_NOTICES = "no_notices"
    SUBSIDY_CONTROL = "subsidy_control"
    PLAN_THE_CONTRACT = "plan_the_contract"
    PROVIDER_SELECTION_REGIME = "provider_selection_regime"


@dataclass(frozen=True)
class ChecklistStep:
    """One step. `notice` is the Find a Tender code (UK4) for a notice, else None: a notice
    step is recorded as done with the notice's identifier. `due` is the last day for it,
    when it can be worked out."""

    key: StepKey
    title: str
    words: str
    citation: str
    notice: str | None = None
    due: date | None = None


class ChecklistDateError(ValueError):
    """Dates that cannot all be right (an award before the tender). Plain English."""


def _full(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _notice(key: StepKey, rule_name: str, words: str, on: date, due: date | None) -> ChecklistStep:
    found = rule(rule_name, on)
    title = NOTICE_NAMES.get(rule_name, found.description)
    code = notice_code(rule_name, on)
    return ChecklistStep(key, f"{title} ({code})", words, found.citation, code, due)


def _check_order(
    tender_published_on: date | None, award_decided_on: date | None, signed_on: date | None
) -> None:
    if tender_published_on and award_decided_on and award_decided_on < tender_published_on:
        raise ChecklistDateError(
            "The award decision cannot come before the tender notice. Check the dates."
        )
    if award_decided_on and signed_on and signed_on < award_decided_on:
        raise ChecklistDateError(
            "The contract cannot be signed before the award decision. Check the dates."
        )


def _by(due: date | None) -> str:
    return f" Due by {_full(due)}." if due else ""


def _award_steps(
    decision: RouteDecision, on: date, award_decided_on: date | None, signed_on: date | None
) -> list[ChecklistStep]:
    """The contract award notice, standstill (where mandatory) and contract details."""
    steps = [
        _notice(
            StepKey.CONTRACT_AWARD_NOTICE,
            "notice.contract_award",
            "Publish this when you have chosen the provider, before you sign the contract."
            + _by(award_decided_on),
            on,
            award_decided_on,
        )
    ]
    days = standstill_days(decision.light_touch, on)
    if decision.route is Route.FRAMEWORK_CALL_OFF and not yes_or_no(
        "standstill.framework_call_off_mandatory", on
    ):
        days = 0
    if decision.direct_ground == "direct_urgent" and not yes_or_no(
        "standstill.urgent_direct_award_mandatory", on
    ):
        days = 0
    if days:
        ends = last_working_day_of_period(award_decided_on, days) if award_decided_on else None
        if ends and signed_on and signed_on <= ends:
            raise ChecklistDateError(
                f"The contract cannot be signed until the standstill ends on {_full(ends)}. "
                "Check the dates."
            )
        words = (
            f"Wait {days} working days after the contract award notice before you sign, so "
            "anyone who was not chosen can check the decision."
        )
        if ends:
            words += (
                f" The standstill ends on {_full(ends)}: you can sign from "
                f"{_full(next_working_day(ends))}."
            )
        steps.append(
            ChecklistStep(
                StepKey.STANDSTILL,
                "Standstill before signing",
                words,
                rule("standstill.working_days", on).citation,
                None,
                ends,
            )
        )
    within = contract_details_notice_days(decision.light_touch, on)
    due = last_day_within(signed_on, within) if signed_on else None
    steps.append(
        _notice(
            StepKey.CONTRACT_DETAILS_NOTICE,
            "notice.contract_details",
            f"Publish this within {within} days of signing the contract." + _by(due),
            on,
            due,
        )
    )
    return steps


def _below_threshold_steps(
    decision: RouteDecision, value: Money | None, on: date, tender_published_on: date | None
) -> list[ChecklistStep]:
    regulated = (
        is_regulated_below_threshold(value, decision.contract_kind, on)
        if value is not None
        else decision.regulated_below_threshold
    )
    if not regulated:
        return [
            ChecklistStep(
                StepKey.NO_NOTICES,
                "No notices needed",
                "It is worth too little for the Act's notices. Keep a note of how you chose "
                "the provider.",
                rule("below_threshold.council", on).citation,
            )
        ]
    steps: list[ChecklistStep] = []
    if not decision.direct_award and decision.route is not Route.FRAMEWORK_CALL_OFF:
        steps.append(
            _notice(
                StepKey.BELOW_THRESHOLD_TENDER_NOTICE,
                "below_threshold.tender_notice",
                "If you advertise it, publish a tender notice on Find a Tender when it opens."
                + _by(tender_published_on),
                on,
                tender_published_on,
            )
        )
    steps.append(
        _notice(
            StepKey.BELOW_THRESHOLD_CONTRACT_DETAILS_NOTICE,
            "below_threshold.contract_details",
            "Publish the contract details on Find a Tender after you sign the contract.",
            on,
            None,
        )
    )
    return steps


def route_checklist(
    decision: RouteDecision,
    *,
    started_on: date,
    value: Money | None,
    tender_published_on: date | None = None,
    award_decided_on: date | None = None,
    contract_signed_on: date | None = None,
) -> list[ChecklistStep]:
    """The steps this route needs, in order, for a procurement started on `started_on`.

    `value` is the current estimated value in pounds including VAT (None if not known: then
    the value the decision was made on is used, and with none, the contract is treated as
    above the threshold). The dates are when the tender notice is (or was) published, the
    award decided, and the contract signed; each due date that hangs on one is None until
    it is known. Raises ChecklistDateError for dates in an impossible order.
    """
    on = started_on
    _check_order(tender_published_on, award_decided_on, contract_signed_on)
    route = decision.route
    if route is Route.PROVIDER_SELECTION_REGIME:
        return [
            ChecklistStep(
                StepKey.PROVIDER_SELECTION_REGIME,
                "Hand this to your health commissioning team",
                "Health care services may be arranged under the Provider Selection Regime. "
                "Convene does not run it: your health commissioning or procurement team "
                "decides and publishes what that regime needs.",
                rule("route.health_care_provider_selection_regime", on).citation,
            )
        ]
    if route in (Route.GRANT, Route.PARTICIPATORY_GRANTS, Route.GRANT_THEN_CONTRACT):
        steps = [
            ChecklistStep(
                StepKey.SUBSIDY_CONTROL,
                "Check subsidy control",
                "A grant is not a procurement, so no Find a Tender notices are needed. Check "
                "the grant meets the subsidy control principles before you award it.",
                rule("route.grants_outside_the_act", on).citation,
            )
        ]
        if route is Route.GRANT_THEN_CONTRACT:
            steps.append(
                ChecklistStep(
                    StepKey.PLAN_THE_CONTRACT,
                    "Plan the contract that follows",
                    "When you are ready to move from the grant to a contract, answer the "
                    "route questions again for the contract. The rules on the day that "
                    "procurement starts will apply.",
                    "Procurement Act 2023 s.3",
                )
            )
        return steps

    if value is None:
        value = decision.value
    above = True if value is None else is_above_threshold(value, decision.contract_kind, on)
    if not above:
        return _below_threshold_steps(decision, value, on, tender_published_on)

    steps = []
    if decision.direct_award:
        steps.append(
            _notice(
                StepKey.TRANSPARENCY_NOTICE,
                "notice.transparency",
                "Publish this before you give the contract directly, saying why the law "
                "allows it." + _by(award_decided_on),
                on,
                award_decided_on,
            )
        )
    elif route is not Route.FRAMEWORK_CALL_OFF:
        steps.append(
            _notice(
                StepKey.PRELIMINARY_ENGAGEMENT_NOTICE,
                "notice.preliminary_market_engagement",
                "Publish this before the tender notice about any talks you had with "
                "providers, or give your reasons in the tender notice." + _by(tender_published_on),
                on,
                tender_published_on,
            )
        )
        steps.append(
            _notice(
                StepKey.TENDER_NOTICE,
                "notice.tender",
                "Publish this when the tender opens." + _by(tender_published_on),
                on,
                tender_published_on,
            )
        )
    steps.extend(_award_steps(decision, on, award_decided_on, contract_signed_on))
    return steps
