"""The rules an opportunity must keep to stay on its route: plain messages with the law."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.core.law import RouteDecision, choose_route, route_problems

SPRING = date(2026, 3, 2)


def decide(on: date = SPRING, **changes: Any) -> RouteDecision:
    base: dict[str, Any] = {
        "funding": "purchase",
        "health_care": "no",
        "service_kind": "people_services",
        "value": 700_000_00,
        "how_chosen": "open",
        "reserve": "mutual",
    }
    return choose_route({**base, **changes}, on)


def test_a_mutual_reservation_that_keeps_the_rules_has_no_problems() -> None:
    assert (
        route_problems(
            decide(),
            value=700_000,
            length_months=60,
            light_touch_service=True,
            awarded_to_mutual=True,
            previous_reserved_awards_to_that_mutual=[date(2022, 3, 1)],
        )
        == []
    )


def test_a_mutual_reservation_longer_than_five_years() -> None:
    problems = route_problems(decide(), value=700_000, length_months=61)
    assert len(problems) == 1
    assert "5 years at most" in problems[0] and "s.33" in problems[0]


def test_a_mutual_reservation_to_an_organisation_that_is_not_a_mutual() -> None:
    problems = route_problems(decide(), value=700_000, length_months=36, awarded_to_mutual=False)
    assert len(problems) == 1
    assert "not marked as a mutual" in problems[0] and "s.33" in problems[0]


@pytest.mark.parametrize(
    ("last_award", "problem"),
    [
        (date(2024, 1, 5), True),  # within the previous 3 years
        (date(2023, 3, 3), True),
        (date(2023, 3, 2), False),  # exactly 3 years before the start
        (date(2021, 6, 1), False),
    ],
)
def test_a_mutual_given_a_reserved_contract_in_the_previous_three_years(
    last_award: date, problem: bool
) -> None:
    problems = route_problems(
        decide(),
        value=700_000,
        length_months=36,
        previous_reserved_awards_to_that_mutual=[date(2019, 1, 1), last_award],
    )
    assert any("last 3 years" in p and "s.33" in p for p in problems) is problem


def test_a_mutual_reservation_for_a_service_that_is_not_light_touch() -> None:
    chosen_as_other = decide(service_kind="other_services")
    problems = route_problems(chosen_as_other, value=700_000, length_months=24)
    assert any("light-touch" in p and "s.33" in p for p in problems)
    # and when the service turns out not to be light-touch later
    problems = route_problems(decide(), value=700_000, length_months=24, light_touch_service=False)
    assert any("light-touch" in p for p in problems)


def test_a_supported_employment_reservation_needs_enough_disabled_or_disadvantaged_workers() -> (
    None
):
    decision = decide(reserve="supported_employment")
    few = route_problems(decision, value=700_000, awarded_to_supported_employment_percent=20)
    assert len(few) == 1 and "30%" in few[0] and "s.32" in few[0]
    enough = route_problems(decision, value=700_000, awarded_to_supported_employment_percent=30)
    assert enough == []


def test_a_below_threshold_route_with_a_value_above_the_threshold() -> None:
    decision = decide(service_kind="other_services", value=150_000_00, reserve="no")
    assert route_problems(decision, value=150_000) == []
    problems = route_problems(decision, value=250_000)
    assert len(problems) == 1
    assert "£250,000" in problems[0] and "£207,720" in problems[0] and "Sch. 1" in problems[0]


def test_the_threshold_a_below_threshold_route_keeps_is_from_its_start_date() -> None:
    before = decide(on=date(2025, 12, 31), service_kind="other_services", value=1, reserve="no")
    after = decide(on=date(2026, 1, 1), service_kind="other_services", value=1, reserve="no")
    assert route_problems(before, value=210_000) == []
    assert len(route_problems(after, value=210_000)) == 1


def test_a_light_touch_route_for_a_service_that_is_not_light_touch() -> None:
    decision = decide(reserve="no")
    assert route_problems(decision, value=700_000, light_touch_service=True) == []
    problems = route_problems(decision, value=700_000, light_touch_service=False)
    assert len(problems) == 1 and "not one of those" in problems[0]
