"""Choosing a procurement route from the six route questions, by the procurement's start
date, and the form that asks them."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.core import law
from bot.core.forms.model import FieldType, FormDefinition, load_definition
from bot.core.forms.parsing import parse_answer
from bot.core.forms.validation import validate_all
from bot.core.law import Route, RouteAnswerError, choose_route, route_checklist

ROOT = Path(__file__).resolve().parents[2]
FORM = ROOT / "bot" / "core" / "forms" / "definitions" / "opportunity_route.yaml"

OLD = date(2025, 12, 31)  # the last start date under the first thresholds
NEW = date(2026, 1, 1)  # the first day of the revised thresholds
SPRING = date(2026, 3, 2)


def pence(pounds: int) -> int:
    return pounds * 100


def answers(**changes: Any) -> dict[str, Any]:
    """A plain purchase of other services worth £300,000, open competition, not reserved."""
    base: dict[str, Any] = {
        "funding": "purchase",
        "health_care": "no",
        "service_kind": "other_services",
        "value": pence(300_000),
        "how_chosen": "open",
        "reserve": "no",
    }
    return {**base, **changes}


def form() -> FormDefinition:
    return load_definition(FORM.read_text(encoding="utf-8"))


# --- every route from answers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "route"),
    [
        ({}, Route.STANDARD_CONTRACT),
        ({"how_chosen": "flexible"}, Route.STANDARD_CONTRACT),
        ({"funding": "grant"}, Route.GRANT),
        ({"funding": "community_chest"}, Route.PARTICIPATORY_GRANTS),
        ({"funding": "grant_then_contract"}, Route.GRANT_THEN_CONTRACT),
        ({"health_care": "yes"}, Route.PROVIDER_SELECTION_REGIME),
        ({"health_care": "yes", "funding": "grant"}, Route.PROVIDER_SELECTION_REGIME),
        ({"service_kind": "people_services", "value": pence(700_000)}, Route.LIGHT_TOUCH),
        ({"value": pence(50_000)}, Route.BELOW_THRESHOLD),
        ({"value": pence(10_000)}, Route.BELOW_THRESHOLD),
        ({"service_kind": "people_services"}, Route.BELOW_THRESHOLD),  # £300k < light-touch
        ({"how_chosen": "direct_only_one"}, Route.DIRECT_AWARD),
        ({"how_chosen": "direct_urgent"}, Route.DIRECT_AWARD),
        ({"how_chosen": "direct_user_choice"}, Route.DIRECT_AWARD),
        ({"how_chosen": "direct_only_one", "value": pence(20_000)}, Route.BELOW_THRESHOLD),
        ({"reserve": "supported_employment"}, Route.RESERVED_SUPPORTED_EMPLOYMENT),
        (
            {"reserve": "mutual", "service_kind": "people_services", "value": pence(700_000)},
            Route.RESERVED_MUTUAL,
        ),
        ({"how_chosen": "innovation"}, Route.INNOVATION_PARTNERSHIP),
        ({"how_chosen": "framework"}, Route.FRAMEWORK_CALL_OFF),
        ({"how_chosen": "framework", "value": pence(40_000)}, Route.FRAMEWORK_CALL_OFF),
    ],
)
def test_each_route_is_chosen_from_the_answers(changes: dict[str, Any], route: Route) -> None:
    decision = choose_route(answers(**changes), SPRING)
    assert decision.route is route
    assert decision.reasons, "every decision says why"
    for reason in decision.reasons:
        assert reason.words and reason.citation
        assert any(mark in reason.citation for mark in ("s.", "S.I.", "Act", "Sch."))


def test_a_standard_contract_says_which_procedure() -> None:
    assert choose_route(answers(), SPRING).procedure == "open"
    assert choose_route(answers(how_chosen="flexible"), SPRING).procedure == "competitive flexible"
    partnership = choose_route(answers(how_chosen="innovation"), SPRING)
    assert partnership.procedure == "competitive flexible"
    assert any("s.20(2)(b)" in r.citation for r in partnership.reasons)


def test_grants_and_health_care_are_outside_the_act() -> None:
    grant = choose_route(answers(funding="grant"), SPRING)
    assert not grant.under_the_act and grant.above_threshold is None
    assert "subsidy control" in grant.reasons[0].words.lower()
    assert "Subsidy Control Act 2022" in grant.reasons[0].citation
    psr = choose_route(answers(health_care="yes"), SPRING)
    assert not psr.under_the_act
    assert "S.I. 2023/1348" in psr.reasons[0].citation
    assert "does not run" in psr.reasons[0].words


def test_direct_award_cites_section_44_and_keeps_its_ground() -> None:
    decision = choose_route(answers(how_chosen="direct_urgent"), SPRING)
    assert decision.direct_award and decision.direct_ground == "direct_urgent"
    assert any("s.44" in r.citation and "Sch. 5" in r.citation for r in decision.reasons)


# --- the threshold change on 1 January 2026 ----------------------------------------------


@pytest.mark.parametrize(
    ("changes", "on", "route", "above"),
    [
        ({"value": pence(210_000)}, OLD, Route.BELOW_THRESHOLD, False),
        ({"value": pence(210_000)}, NEW, Route.STANDARD_CONTRACT, True),
        ({"value": pence(214_904)}, OLD, Route.STANDARD_CONTRACT, True),  # exactly at it
        ({"value": pence(207_719)}, NEW, Route.BELOW_THRESHOLD, False),
        ({"value": pence(5_200_000), "service_kind": "works"}, OLD, Route.BELOW_THRESHOLD, False),
        ({"value": pence(5_200_000), "service_kind": "works"}, NEW, Route.STANDARD_CONTRACT, True),
        (
            {"value": pence(663_540), "service_kind": "people_services"},
            NEW,
            Route.LIGHT_TOUCH,
            True,
        ),
        (
            {"value": pence(663_539), "service_kind": "people_services"},
            NEW,
            Route.BELOW_THRESHOLD,
            False,
        ),
    ],
)
def test_the_threshold_is_the_one_in_force_when_the_procurement_started(
    changes: dict[str, Any], on: date, route: Route, above: bool
) -> None:
    decision = choose_route(answers(**changes), on)
    assert (decision.route, decision.above_threshold) == (route, above)
    assert decision.started_on == on


def test_the_reason_names_the_limit_and_the_start_date() -> None:
    old = choose_route(answers(value=pence(210_000)), OLD)
    new = choose_route(answers(value=pence(210_000)), NEW)
    assert (
        "£214,904" in old.reasons[0].words and "Wednesday 31 December 2025" in old.reasons[0].words
    )
    assert "£207,720" in new.reasons[0].words and "Thursday 1 January 2026" in new.reasons[0].words
    assert "as revised from 1 January 2026" in new.reasons[0].citation


def test_regulated_below_threshold_from_thirty_thousand_pounds() -> None:
    assert choose_route(answers(value=pence(30_000)), SPRING).regulated_below_threshold
    assert not choose_route(answers(value=pence(29_999)), SPRING).regulated_below_threshold


# --- not sure -----------------------------------------------------------------------------


def test_not_sure_takes_the_careful_reading_and_says_what_to_check() -> None:
    decision = choose_route(
        {
            "funding": "not_sure",
            "health_care": "not_sure",
            "service_kind": "not_sure",
            "value": None,
            "how_chosen": "not_sure",
            "reserve": "not_sure",
        },
        SPRING,
    )
    assert decision.route is Route.STANDARD_CONTRACT
    assert decision.under_the_act and decision.above_threshold is True
    assert not decision.light_touch  # the lower money limit
    assert len(decision.checks) == 6  # one thing to check for each "not sure"


def test_no_value_counts_as_above_the_threshold() -> None:
    decision = choose_route(answers(value=None, service_kind="people_services"), SPRING)
    assert decision.route is Route.LIGHT_TOUCH and decision.above_threshold is True
    assert any("£663,540" in c for c in decision.checks)


def test_a_yes_no_answer_stored_as_true_or_false_is_understood() -> None:
    assert choose_route(answers(health_care=True), SPRING).route is Route.PROVIDER_SELECTION_REGIME
    assert choose_route(answers(health_care=False), SPRING).route is Route.STANDARD_CONTRACT


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"funding": "loan"}, "grant or buying"),
        ({"how_chosen": 3}, "choose who does the work"),
        ({"value": "lots"}, "amount in pounds"),
        ({"value": -100}, "less than £0"),
        ({"value": True}, "amount in pounds"),
    ],
)
def test_answers_the_form_would_never_store_get_a_plain_error(
    changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(RouteAnswerError, match=words):
        choose_route(answers(**changes), SPRING)


def test_a_start_date_before_the_act_has_no_rules() -> None:
    with pytest.raises(law.NoRuleOnDate):
        choose_route(answers(), date(2025, 2, 23))


# --- the form -----------------------------------------------------------------------------


def test_the_route_form_loads_and_asks_six_questions_each_with_not_sure_and_help() -> None:
    definition = form()
    assert definition.key == law.ROUTE_FORM_KEY
    fields = definition.all_fields()
    assert len(fields) <= 6
    for field in fields:
        assert field.help, f"{field.id} needs help text"
        if field.type is FieldType.SINGLE_CHOICE:
            assert "not_sure" in [c.value for c in field.choices], field.id
        else:  # the value: blank means not sure, and the hint says so
            assert field.type is FieldType.MONEY and not field.required
            assert field.hint and "not sure" in field.hint


def test_answers_typed_into_the_form_reach_a_decision() -> None:
    definition = form()
    typed = {
        "funding": "We are buying a service",
        "health_care": "No",
        "service_kind": "1",
        "value": "£700k",
        "how_chosen": "A competition open to anyone, in one stage",
        "reserve": "No, anyone can apply",
    }
    stored = {key: parse_answer(definition.field(key), raw) for key, raw in typed.items()}
    assert validate_all(definition, stored) == {}
    decision = choose_route(stored, SPRING)
    assert decision.route is Route.LIGHT_TOUCH
    assert decision.value == 700_000


def test_every_answer_path_through_the_form_reaches_a_decision_and_a_checklist() -> None:
    """The choices come from the YAML, so a choice added there that the code does not know
    fails here."""
    definition = form()
    choice_fields = [f for f in definition.all_fields() if f.type is FieldType.SINGLE_CHOICE]
    options = [[c.value for c in f.choices] for f in choice_fields]
    values = [None, pence(10_000), pence(250_000), pence(700_000), pence(6_000_000)]
    routes_seen: set[Route] = set()
    for combination in itertools.product(*options):
        for value in values:
            given = dict(zip((f.id for f in choice_fields), combination, strict=True))
            decision = choose_route({**given, "value": value}, SPRING)
            routes_seen.add(decision.route)
            assert decision.reasons or decision.checks
            steps = route_checklist(decision, started_on=SPRING, value=decision.value)
            assert steps, (given, value)
    assert routes_seen == set(Route)
