"""Variations added up against the award: running totals, and a contract change notice only
when the law asks for one (never for light-touch contracts, never for grants)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.law import AwardedContract
from bot.core.monitoring import Variation, running_totals

SPRING = date(2026, 3, 6)
AWARD = AwardedContract(value=1_000_000, max_term_days=1_000, started_on=SPRING)


def test_small_changes_add_up_and_only_the_one_past_the_limit_needs_a_notice() -> None:
    totals = running_totals(
        AWARD,
        [
            Variation(value_change=50_000),
            Variation(value_change=40_000, term_change_days=30),
            Variation(value_change=150_000),  # 15% on its own
            Variation(value_change=-20_000),
        ],
    )
    assert [t.value for t in totals] == [
        Decimal(1_050_000),
        Decimal(1_090_000),
        Decimal(1_240_000),
        Decimal(1_220_000),
    ]
    assert [t.value_change_percent for t in totals] == [
        Decimal("5.00"),
        Decimal("9.00"),
        Decimal("24.00"),
        Decimal("22.00"),
    ]
    assert totals[1].term_days == 1_030 and totals[1].term_change_percent == Decimal("3.00")
    assert [t.change_notice_required for t in totals] == [False, False, True, False]
    # Taken all together the changes are past 10%: a prompt to ask whether they are linked.
    assert [t.together_beyond_limits for t in totals] == [False, False, True, True]


def test_linked_changes_are_judged_together() -> None:
    first = Variation(value_change=60_000)
    second = Variation(value_change=60_000, linked_with=frozenset({0}))
    unlinked = running_totals(AWARD, [first, Variation(value_change=60_000)])
    linked = running_totals(AWARD, [first, second])
    assert unlinked[1].change_notice_required is False
    assert linked[1].change_notice_required is True


def test_a_term_change_over_ten_percent_is_substantial_and_needs_a_notice() -> None:
    (total,) = running_totals(AWARD, [Variation(term_change_days=101)])
    assert total.substantial_term_change and total.change_notice_required
    (total,) = running_totals(AWARD, [Variation(term_change_days=100)])
    assert not total.substantial_term_change and not total.change_notice_required


def test_never_a_notice_for_a_light_touch_contract() -> None:
    light = AwardedContract(
        value=1_000_000, max_term_days=1_000, started_on=SPRING, light_touch=True
    )
    totals = running_totals(light, [Variation(value_change=500_000, term_change_days=500)])
    assert totals[0].value_change_percent == Decimal("50.00")
    assert not totals[0].change_notice_required and not totals[0].together_beyond_limits


def test_never_a_notice_for_a_grant() -> None:
    totals = running_totals(AWARD, [Variation(value_change=500_000)], grant=True)
    assert totals[0].value == Decimal(1_500_000)
    assert not totals[0].change_notice_required and not totals[0].together_beyond_limits


def test_works_allow_fifteen_percent() -> None:
    works = AwardedContract(value=10_000_000, max_term_days=1_000, started_on=SPRING, works=True)
    assert not running_totals(works, [Variation(value_change=1_500_000)])[0].change_notice_required
    assert running_totals(works, [Variation(value_change=1_500_001)])[0].change_notice_required


def test_a_restructuring_always_needs_a_notice() -> None:
    (total,) = running_totals(AWARD, [Variation(corporate_restructuring=True)])
    assert total.change_notice_required


def test_a_link_to_a_later_variation_is_refused() -> None:
    with pytest.raises(ValueError, match="earlier"):
        running_totals(AWARD, [Variation(linked_with=frozenset({0}))])


@given(st.lists(st.integers(-200_000, 200_000), max_size=10))
def test_the_running_value_is_the_award_plus_every_change_so_far(changes: list[int]) -> None:
    totals = running_totals(AWARD, [Variation(value_change=c) for c in changes])
    for n, total in enumerate(totals, start=1):
        assert total.value == Decimal(1_000_000) + sum(changes[:n])
        assert total.term_days == 1_000
