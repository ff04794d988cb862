"""The questions opportunities and agreements ask of the law, answered from the dated data
by the procurement's start date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.core import law
from bot.core.law import AwardedContract, Modification

OLD = date(2025, 12, 31)  # the last start date under the first thresholds
NEW = date(2026, 1, 1)  # the first day of the revised thresholds
SPRING = date(2026, 3, 6)


# --- thresholds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "on", "above"),
    [
        (214_904, "goods_services", OLD, True),  # exactly at the threshold: "not less than"
        (214_903, "goods_services", OLD, False),
        (210_000, "goods_services", OLD, False),
        (210_000, "goods_services", NEW, True),  # the same contract started a day later
        (207_719, "goods_services", NEW, False),
        (5_200_000, "works", OLD, False),
        (5_200_000, "works", NEW, True),
        (663_540, "light_touch", SPRING, True),
        (663_539, "light_touch", SPRING, False),
        (Decimal("663539.99"), "light_touch", SPRING, False),
    ],
)
def test_is_above_threshold_by_the_procurements_start_date(
    value: int | Decimal, kind: law.ContractKind, on: date, above: bool
) -> None:
    assert law.is_above_threshold(value, kind, on) is above


def test_regulated_below_threshold_between_30000_and_the_threshold() -> None:
    assert law.is_regulated_below_threshold(30_000, "goods_services", SPRING)
    assert not law.is_regulated_below_threshold(29_999, "goods_services", SPRING)
    assert not law.is_regulated_below_threshold(207_720, "goods_services", SPRING)
    assert law.is_regulated_below_threshold(
        12_000, "goods_services", SPRING, central_government=True
    )
    assert not law.is_regulated_below_threshold(12_000, "goods_services", SPRING)


def test_bad_values_and_kinds_are_refused_plainly() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        law.is_above_threshold(-1, "works", SPRING)
    with pytest.raises(ValueError, match="unknown contract kind"):
        law.threshold_for("concessions", SPRING)  # type: ignore[arg-type]
    with pytest.raises(law.NoRuleOnDate):
        law.threshold_for("works", date(2024, 6, 1))


def test_grants_and_health_care_routes() -> None:
    assert law.is_outside_the_act_as_a_grant(True, SPRING)
    assert not law.is_outside_the_act_as_a_grant(False, SPRING)
    assert law.hand_off_to_provider_selection_regime(True, SPRING)
    assert not law.hand_off_to_provider_selection_regime(False, SPRING)


# --- KPIs, performance, pipeline ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "light_touch", "framework", "at_least"),
    [
        (5_000_001, False, False, 3),
        (5_000_000, False, False, 0),  # "more than £5m"
        (9_000_000, True, False, 0),  # not light-touch
        (9_000_000, False, True, 0),  # not frameworks
    ],
)
def test_kpis_required_by_s52(
    value: int, light_touch: bool, framework: bool, at_least: int
) -> None:
    assert law.kpis_required(value, light_touch, framework, SPRING) == at_least


def test_performance_assessment_and_pipeline() -> None:
    assert law.performance_assessment_months(SPRING) == 12
    assert law.pipeline_notice_required(100_000_001, SPRING)
    assert not law.pipeline_notice_required(100_000_000, SPRING)
    assert law.in_pipeline(2_000_001, SPRING) and not law.in_pipeline(2_000_000, SPRING)


# --- notices and time limits ----------------------------------------------------------------


def test_standstill_and_notice_periods() -> None:
    assert law.standstill_days(light_touch=False, on=SPRING) == 8
    assert law.standstill_days(light_touch=True, on=SPRING) == 0
    assert law.contract_details_notice_days(light_touch=False, on=SPRING) == 30
    assert law.contract_details_notice_days(light_touch=True, on=SPRING) == 120
    assert law.termination_notice_days(SPRING) == 30
    assert law.payment_days(SPRING) == 30
    assert law.payment_days(SPRING, subcontract=True) == 30
    assert law.has_statutory_minimum_tender_period(light_touch=False, on=SPRING)
    assert not law.has_statutory_minimum_tender_period(light_touch=True, on=SPRING)


def test_uk2_is_for_above_threshold_procurements_only() -> None:
    assert law.preliminary_engagement_notice_applies(True, SPRING)
    assert not law.preliminary_engagement_notice_applies(False, SPRING)


def test_notice_steps_for_an_open_above_threshold_tender() -> None:
    steps = law.notice_steps(above_threshold=True, light_touch=False, direct_award=False, on=SPRING)
    assert [s.code for s in steps] == ["UK2", "UK4", "UK6", "UK7"]
    assert "8 working days" in steps[2].due
    assert "30 days" in steps[3].due
    assert all(s.citation.startswith("Procurement Act 2023") for s in steps)


def test_notice_steps_for_a_light_touch_tender_have_no_standstill_and_120_days() -> None:
    steps = law.notice_steps(above_threshold=True, light_touch=True, direct_award=False, on=SPRING)
    assert [s.code for s in steps] == ["UK2", "UK4", "UK6", "UK7"]
    assert "standstill" not in steps[2].due
    assert "120 days" in steps[3].due


def test_a_direct_award_starts_with_a_transparency_notice_and_no_tender() -> None:
    steps = law.notice_steps(above_threshold=True, light_touch=False, direct_award=True, on=SPRING)
    assert [s.code for s in steps] == ["UK5", "UK6", "UK7"]
    assert "s.44" in steps[0].citation


def test_below_threshold_needs_none_of_the_public_contract_notices() -> None:
    assert law.notice_steps(False, False, False, SPRING) == []


# --- modifications and change notices -------------------------------------------------------

SERVICES = AwardedContract(value=1_000_000, max_term_days=1000, started_on=SPRING)
WORKS = AwardedContract(value=6_000_000, max_term_days=1000, started_on=SPRING, works=True)
LIGHT_TOUCH = AwardedContract(
    value=1_000_000, max_term_days=1000, started_on=SPRING, light_touch=True
)


@pytest.mark.parametrize(
    ("contract", "change", "notice"),
    [
        (SERVICES, Modification(value_change=100_000), False),  # exactly 10%
        (SERVICES, Modification(value_change=100_001), True),
        (SERVICES, Modification(value_change=-100_001), True),  # decreases count too
        (WORKS, Modification(value_change=900_000), False),  # 15% for works
        (WORKS, Modification(value_change=900_001), True),
        (SERVICES, Modification(term_change_days=100), False),  # 10% of term
        (SERVICES, Modification(term_change_days=101), True),
        (SERVICES, Modification(value_change=50_000, term_change_days=101), True),
        (SERVICES, Modification(value_change=1, corporate_restructuring=True), True),
        (LIGHT_TOUCH, Modification(value_change=900_000, term_change_days=900), False),
        (LIGHT_TOUCH, Modification(corporate_restructuring=True), False),
    ],
)
def test_needs_change_notice_by_s75(
    contract: AwardedContract, change: Modification, notice: bool
) -> None:
    assert law.needs_change_notice(contract, change) is notice


def test_a_small_change_that_belonged_with_an_earlier_one_is_added_to_it() -> None:
    """s.75(4)-(5): 6% now and 6% earlier that could reasonably have been made together."""
    now = Modification(value_change=60_000)
    earlier = Modification(value_change=60_000)
    assert not law.needs_change_notice(SERVICES, now)
    assert law.needs_change_notice(SERVICES, now, linked_earlier=[earlier])
    # An earlier change that was not linked (the caller judged so) is not added.
    assert not law.needs_change_notice(SERVICES, now, linked_earlier=[])
    # Light-touch contracts never need one, however the changes add up (s.75(6)(b)).
    assert not law.needs_change_notice(LIGHT_TOUCH, now, linked_earlier=[earlier, earlier])


def test_modification_allowed_by_value_adds_earlier_below_threshold_changes() -> None:
    assert law.modification_allowed_by_value(SERVICES, Modification(value_change=100_000))
    assert not law.modification_allowed_by_value(SERVICES, Modification(value_change=100_001))
    earlier = [Modification(value_change=50_000), Modification(value_change=40_000)]
    assert law.modification_allowed_by_value(SERVICES, Modification(value_change=10_000), earlier)
    assert not law.modification_allowed_by_value(
        SERVICES, Modification(value_change=10_001), earlier
    )
    assert law.modification_allowed_by_value(LIGHT_TOUCH, Modification(value_change=500_000))


def test_a_below_threshold_modification_also_moves_less_than_the_threshold_amount() -> None:
    """15% of a £40m works contract is £6m: more than the works threshold, so not allowed
    on value alone, though within the percentage."""
    big = AwardedContract(value=40_000_000, max_term_days=1000, started_on=SPRING, works=True)
    assert law.modification_allowed_by_value(big, Modification(value_change=5_192_999))
    assert not law.modification_allowed_by_value(big, Modification(value_change=5_193_000))
    # Started before 1 January 2026, the old, higher works threshold applies.
    older = AwardedContract(value=40_000_000, max_term_days=1000, started_on=OLD, works=True)
    assert law.modification_allowed_by_value(older, Modification(value_change=5_193_000))


def test_term_changes_over_ten_percent_are_substantial() -> None:
    assert not law.changes_term_substantially(SERVICES, Modification(term_change_days=100))
    assert law.changes_term_substantially(SERVICES, Modification(term_change_days=101))
    assert law.changes_term_substantially(
        SERVICES, Modification(term_change_days=60), [Modification(term_change_days=41)]
    )


def test_modified_contracts_over_5m_are_published() -> None:
    assert law.must_publish_modified_contract(WORKS)
    assert not law.must_publish_modified_contract(SERVICES)


def test_a_contract_needs_a_value_and_a_term() -> None:
    with pytest.raises(ValueError, match="more than £0"):
        AwardedContract(value=0, max_term_days=10, started_on=SPRING)
    with pytest.raises(ValueError, match="at least a day"):
        AwardedContract(value=10, max_term_days=0, started_on=SPRING)


# --- reserved contracts ----------------------------------------------------------------------


def test_supported_employment_needs_30_percent() -> None:
    assert law.supported_employment_qualifies(30, SPRING)
    assert not law.supported_employment_qualifies(Decimal("29.9"), SPRING)


def test_mutual_reservation_conditions_of_s33() -> None:
    assert law.mutual_reservation_problems(True, 60, None, SPRING) == []
    problems = law.mutual_reservation_problems(False, 61, date(2024, 3, 7), SPRING)
    assert len(problems) == 3
    assert "light-touch" in problems[0] and "5 years" in problems[1] and "3 years" in problems[2]
    # Exactly three years before the start is outside the window; a day later is inside.
    assert law.mutual_reservation_problems(True, 60, date(2023, 3, 6), SPRING) == []
    assert len(law.mutual_reservation_problems(True, 60, date(2023, 3, 7), SPRING)) == 1
