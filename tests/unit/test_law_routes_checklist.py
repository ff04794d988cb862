"""Each route's checklist of notices and steps, with due dates across weekends and bank
holidays (England and Wales), and the working-day helper they use."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.core.law import (
    ChecklistDateError,
    ChecklistStep,
    RouteDecision,
    StepKey,
    choose_route,
    route_checklist,
)
from bot.core.working_days import is_working_day, last_working_day_of_period, next_working_day

SPRING = date(2026, 3, 2)
K = StepKey


def decide(**changes: Any) -> RouteDecision:
    base: dict[str, Any] = {
        "funding": "purchase",
        "health_care": "no",
        "service_kind": "other_services",
        "value": 300_000_00,
        "how_chosen": "open",
        "reserve": "no",
    }
    return choose_route({**base, **changes}, SPRING)


def checklist(decision: RouteDecision, **dates: date) -> list[ChecklistStep]:
    return route_checklist(decision, started_on=SPRING, value=decision.value, **dates)


def keys(steps: list[ChecklistStep]) -> list[StepKey]:
    return [s.key for s in steps]


def step(steps: list[ChecklistStep], key: StepKey) -> ChecklistStep:
    return next(s for s in steps if s.key is key)


# --- working days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day falls on a Saturday: Monday instead
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday (England and Wales, not Scotland)
        (date(2026, 3, 7), False),  # a Saturday
        (date(2026, 3, 9), True),
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("first", "days", "last"),
    [
        (date(2026, 3, 4), 8, date(2026, 3, 13)),  # one weekend
        (date(2026, 4, 1), 8, date(2026, 4, 14)),  # Easter
        (date(2026, 12, 17), 8, date(2026, 12, 30)),  # Christmas and Boxing Day
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # begins on a Saturday: Monday is day one
    ],
)
def test_a_period_of_working_days_begins_with_its_first_day(
    first: date, days: int, last: date
) -> None:
    assert last_working_day_of_period(first, days) == last


def test_the_next_working_day_skips_a_long_weekend() -> None:
    assert next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)
    with pytest.raises(ValueError, match="at least one"):
        last_working_day_of_period(SPRING, 0)


# --- a standard contract above the threshold ----------------------------------------------


def test_a_standard_contract_needs_uk2_then_uk4_uk6_standstill_and_uk7() -> None:
    steps = checklist(
        decide(),
        tender_published_on=date(2026, 9, 1),
        award_decided_on=date(2026, 12, 17),
        contract_signed_on=date(2026, 12, 31),
    )
    assert keys(steps) == [
        K.PRELIMINARY_ENGAGEMENT_NOTICE,
        K.TENDER_NOTICE,
        K.CONTRACT_AWARD_NOTICE,
        K.STANDSTILL,
        K.CONTRACT_DETAILS_NOTICE,
    ]
    assert [s.notice for s in steps] == ["UK2", "UK4", "UK6", None, "UK7"]
    assert step(steps, K.PRELIMINARY_ENGAGEMENT_NOTICE).citation.endswith("ss.16-17")
    assert step(steps, K.TENDER_NOTICE).due == date(2026, 9, 1)
    assert step(steps, K.CONTRACT_AWARD_NOTICE).due == date(2026, 12, 17)
    standstill = step(steps, K.STANDSTILL)
    assert standstill.due == date(2026, 12, 30)  # Christmas Day and 28 December skipped
    assert "Thursday 31 December 2026" in standstill.words
    assert "s.51" in standstill.citation
    details = step(steps, K.CONTRACT_DETAILS_NOTICE)
    # 30 days beginning with the day it was signed (s.53), so the day itself counts.
    assert details.due == date(2027, 1, 29)
    assert "within 30 days" in details.words and "Friday 29 January 2027" in details.words
    assert "s.53" in details.citation


def test_standstill_across_a_weekend() -> None:
    steps = checklist(decide(), award_decided_on=date(2026, 3, 4))
    assert step(steps, K.STANDSTILL).due == date(2026, 3, 13)
    assert "Monday 16 March 2026" in step(steps, K.STANDSTILL).words


def test_due_dates_wait_for_the_dates_they_hang_on() -> None:
    steps = checklist(decide())
    assert all(s.due is None for s in steps)
    assert "Due by" not in " ".join(s.words for s in steps)


def test_the_same_checklist_for_innovation_partnerships_and_reserved_contracts() -> None:
    for decision in (
        decide(how_chosen="innovation"),
        decide(reserve="supported_employment"),
        decide(reserve="mutual", service_kind="people_services", value=700_000_00),
    ):
        found = keys(checklist(decision))
        assert found[:3] == [
            K.PRELIMINARY_ENGAGEMENT_NOTICE,
            K.TENDER_NOTICE,
            K.CONTRACT_AWARD_NOTICE,
        ]
        assert found[-1] is K.CONTRACT_DETAILS_NOTICE


# --- light-touch ----------------------------------------------------------------------------


def test_light_touch_has_no_standstill_and_120_days_for_uk7() -> None:
    decision = decide(service_kind="people_services", value=700_000_00)
    steps = checklist(
        decision,
        tender_published_on=date(2026, 5, 1),
        award_decided_on=date(2026, 12, 17),
        contract_signed_on=date(2026, 12, 18),  # no standstill to wait for
    )
    assert keys(steps) == [
        K.PRELIMINARY_ENGAGEMENT_NOTICE,
        K.TENDER_NOTICE,
        K.CONTRACT_AWARD_NOTICE,
        K.CONTRACT_DETAILS_NOTICE,
    ]
    details = step(steps, K.CONTRACT_DETAILS_NOTICE)
    assert details.due == date(2027, 4, 16)  # 120 days beginning with Friday 18 December 2026
    assert "within 120 days" in details.words


# --- direct award -------------------------------------------------------------------------


def test_a_direct_award_has_the_transparency_notice_first() -> None:
    steps = checklist(
        decide(how_chosen="direct_only_one"),
        award_decided_on=date(2026, 4, 1),
        contract_signed_on=date(2026, 4, 15),
    )
    assert keys(steps) == [
        K.TRANSPARENCY_NOTICE,
        K.CONTRACT_AWARD_NOTICE,
        K.STANDSTILL,
        K.CONTRACT_DETAILS_NOTICE,
    ]
    transparency = steps[0]
    assert transparency.notice == "UK5" and "s.44" in transparency.citation
    assert transparency.due == date(2026, 4, 1)
    assert step(steps, K.STANDSTILL).due == date(2026, 4, 14)  # across Easter
    assert K.TENDER_NOTICE not in keys(steps)


def test_an_urgent_direct_award_and_a_framework_call_off_have_no_standstill() -> None:
    urgent = keys(checklist(decide(how_chosen="direct_urgent")))
    assert urgent == [K.TRANSPARENCY_NOTICE, K.CONTRACT_AWARD_NOTICE, K.CONTRACT_DETAILS_NOTICE]
    call_off = checklist(decide(how_chosen="framework"))
    assert keys(call_off) == [K.CONTRACT_AWARD_NOTICE, K.CONTRACT_DETAILS_NOTICE]


# --- below the threshold ----------------------------------------------------------------------


def test_a_regulated_below_threshold_contract_has_its_own_notices() -> None:
    steps = checklist(decide(value=50_000_00), tender_published_on=date(2026, 6, 1))
    assert keys(steps) == [
        K.BELOW_THRESHOLD_TENDER_NOTICE,
        K.BELOW_THRESHOLD_CONTRACT_DETAILS_NOTICE,
    ]
    assert [s.notice for s in steps] == ["UK4", "UK7"]
    assert "s.86" in steps[0].citation and "s.87" in steps[1].citation
    assert steps[0].due == date(2026, 6, 1)


def test_a_small_contract_needs_no_notices() -> None:
    steps = checklist(decide(value=20_000_00))
    assert keys(steps) == [K.NO_NOTICES]
    assert steps[0].notice is None


def test_the_checklist_follows_the_value_now() -> None:
    """Chosen as below the threshold, then the value grew: the Act's notices are listed."""
    decision = decide(value=50_000_00)
    steps = route_checklist(decision, started_on=SPRING, value=400_000)
    assert K.TENDER_NOTICE in keys(steps) and K.STANDSTILL in keys(steps)


# --- outside the Act ----------------------------------------------------------------------


@pytest.mark.parametrize("funding", ["grant", "community_chest", "grant_then_contract"])
def test_grants_have_no_notices_and_mention_subsidy_control(funding: str) -> None:
    steps = checklist(decide(funding=funding), award_decided_on=date(2026, 4, 1))
    assert steps[0].key is K.SUBSIDY_CONTROL
    assert all(s.notice is None for s in steps)
    assert "no Find a Tender notices" in steps[0].words
    assert "subsidy control" in steps[0].words
    assert "Subsidy Control Act 2022" in steps[0].citation
    if funding == "grant_then_contract":
        assert keys(steps) == [K.SUBSIDY_CONTROL, K.PLAN_THE_CONTRACT]
    else:
        assert len(steps) == 1


def test_health_care_is_handed_off_only() -> None:
    steps = checklist(decide(health_care="yes"), tender_published_on=date(2026, 6, 1))
    assert keys(steps) == [K.PROVIDER_SELECTION_REGIME]
    assert steps[0].notice is None and "S.I. 2023/1348" in steps[0].citation


# --- dates in an impossible order ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "words"),
    [
        (
            {"tender_published_on": date(2026, 6, 1), "award_decided_on": date(2026, 5, 1)},
            "before the tender notice",
        ),
        (
            {"award_decided_on": date(2026, 6, 1), "contract_signed_on": date(2026, 5, 1)},
            "before the award decision",
        ),
        (
            {"award_decided_on": date(2026, 12, 17), "contract_signed_on": date(2026, 12, 30)},
            "Wednesday 30 December 2026",
        ),
    ],
)
def test_dates_in_an_impossible_order_get_a_plain_error(dates: dict[str, date], words: str) -> None:
    with pytest.raises(ChecklistDateError, match=words):
        checklist(decide(), **dates)
