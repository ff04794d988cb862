"""Which rules a contract falls under, from its value and kind, on its start date.

Convene serves councils, so goods and services use the sub-central threshold. Values are
estimated contract values in pounds including VAT, as the Act's thresholds are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from bot.core.law.rules import whole_number, yes_or_no
from bot.core.months import add_months

#: What a contract is for, as far as thresholds care.
ContractKind = Literal["goods_services", "works", "light_touch"]
#: An estimated value in pounds, including VAT.
Money = Decimal | int

_THRESHOLD = {
    "goods_services": "threshold.sub_central_goods_services",
    "works": "threshold.works",
    "light_touch": "threshold.light_touch",
}


def _value(value: Money) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError("a contract value is a number of pounds")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise ValueError("a contract value cannot be negative")
    return amount


def threshold_for(kind: ContractKind, on: date) -> int:
    """The threshold amount for a council's contract of this kind started `on`
    (s.3, Sch. 1; sub-central and works figures changed on 1 January 2026)."""
    if kind not in _THRESHOLD:
        raise ValueError(f"unknown contract kind {kind!r}")
    return whole_number(_THRESHOLD[kind], on)


def is_above_threshold(value: Money, kind: ContractKind, on: date) -> bool:
    """Whether the contract is a public contract under the Act: its estimated value is not
    less than the threshold amount (s.3), so a value exactly at the threshold is above."""
    return _value(value) >= threshold_for(kind, on)


def is_regulated_below_threshold(
    value: Money, kind: ContractKind, on: date, central_government: bool = False
) -> bool:
    """Whether it is a regulated below-threshold contract (s.84): below the threshold but at
    least £30,000 for a council (£12,000 for central government)."""
    floor = whole_number(
        "below_threshold.central_government" if central_government else "below_threshold.council",
        on,
    )
    amount = _value(value)
    return floor <= amount < threshold_for(kind, on)


def is_outside_the_act_as_a_grant(grant: bool, on: date) -> bool:
    """A grant is not a procurement: subsidy control applies instead (s.2)."""
    return grant and yes_or_no("route.grants_outside_the_act", on)


def hand_off_to_provider_selection_regime(health_care_services: bool, on: date) -> bool:
    """Health care services may be arranged under the Provider Selection Regime (S.I.
    2023/1348), not the Act: Convene flags them and hands them off, never runs them."""
    return health_care_services and yes_or_no("route.health_care_provider_selection_regime", on)


def kpis_required(value: Money, light_touch: bool, framework: bool, on: date) -> int:
    """How many key performance indicators the contract needs at least (s.52): 3 for a
    contract worth more than £5m, unless it is light-touch or a framework; otherwise 0."""
    if light_touch or framework:
        return 0
    if _value(value) > whole_number("kpis.contract_value_over", on):
        return whole_number("kpis.minimum", on)
    return 0


def performance_assessment_months(on: date) -> int:
    """Where KPIs were set, assess performance at least this often, and when the contract
    ends (s.71). The assessment is a person's decision: it can lead to exclusion."""
    return whole_number("performance.assessment_months", on)


def pipeline_notice_required(expected_annual_spend: Money, on: date) -> bool:
    """An authority expecting to spend more than £100m in the financial year publishes a
    pipeline notice of its contracts over £2m planned for the next 18 months (s.93)."""
    return _value(expected_annual_spend) > whole_number("pipeline.spend_over", on)


def in_pipeline(value: Money, on: date) -> bool:
    """Whether a planned contract is big enough to be listed in a pipeline notice (s.93)."""
    return _value(value) > whole_number("pipeline.contracts_over", on)


def pipeline_months(on: date) -> int:
    """How many months ahead a pipeline notice looks (s.93)."""
    return whole_number("pipeline.months_ahead", on)


def pipeline_ends(on: date) -> date:
    """The last day a pipeline published `on` covers: the same day, `pipeline_months` later
    (the month's last day when that month is shorter)."""
    return add_months(on, pipeline_months(on))


def pipeline_contract_floor(on: date) -> int:
    """The value (pounds, including VAT) a planned contract must be over to be listed."""
    return whole_number("pipeline.contracts_over", on)


def pipeline_spend_floor(on: date) -> int:
    """The yearly spend (pounds, including VAT) over which a council must publish a UK1."""
    return whole_number("pipeline.spend_over", on)


def pipeline_publish_within_days(on: date) -> int:
    """Days after the financial year starts within which the UK1 is published."""
    return whole_number("pipeline.days_after_year_start", on)
