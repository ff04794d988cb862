"""The law Convene applies, as dated data, and small typed questions about it.

The figures (thresholds, notice periods, percentages) live in `rules.toml`, each with the
date it takes effect and its citation. Code asks by the **procurement's start date**,
never a constant: a procurement begun on 31 December 2025 keeps that day's thresholds.

This is part of the neutral core: it imports nothing of ours outside `bot.core` (working
days come from `bot.core.working_days`), so features (opportunities, agreements) and pages
can all use it.
"""

from __future__ import annotations

from bot.core.law.checklist import ChecklistDateError, ChecklistStep, StepKey, route_checklist
from bot.core.law.modifications import (
    AwardedContract,
    Modification,
    changes_term_substantially,
    modification_allowed_by_value,
    must_publish_modified_contract,
    needs_change_notice,
    value_percent_limit,
)
from bot.core.law.notices import (
    NoticeStep,
    contract_details_notice_days,
    has_statutory_minimum_tender_period,
    notice_steps,
    payment_days,
    preliminary_engagement_notice_applies,
    standstill_days,
    termination_notice_days,
)
from bot.core.law.reserved import mutual_reservation_problems, supported_employment_qualifies
from bot.core.law.route_rules import route_problems
from bot.core.law.routes import (
    ROUTE_FORM_KEY,
    ROUTE_NAMES,
    Reason,
    Route,
    RouteAnswerError,
    RouteDecision,
    choose_route,
)
from bot.core.law.rules import (
    LawError,
    NoRuleOnDate,
    Rule,
    UnknownRule,
    all_rules,
    parse_rules,
    rule,
    rule_names,
    rules_in_force,
)
from bot.core.law.thresholds import (
    ContractKind,
    Money,
    hand_off_to_provider_selection_regime,
    in_pipeline,
    is_above_threshold,
    is_outside_the_act_as_a_grant,
    is_regulated_below_threshold,
    kpis_required,
    performance_assessment_months,
    pipeline_contract_floor,
    pipeline_ends,
    pipeline_months,
    pipeline_notice_required,
    pipeline_publish_within_days,
    pipeline_spend_floor,
    threshold_for,
)

__all__ = [
    "ROUTE_FORM_KEY",
    "ROUTE_NAMES",
    "AwardedContract",
    "ChecklistDateError",
    "ChecklistStep",
    "ContractKind",
    "LawError",
    "Modification",
    "Money",
    "NoRuleOnDate",
    "NoticeStep",
    "Reason",
    "Route",
    "RouteAnswerError",
    "RouteDecision",
    "Rule",
    "StepKey",
    "UnknownRule",
    "all_rules",
    "changes_term_substantially",
    "choose_route",
    "contract_details_notice_days",
    "hand_off_to_provider_selection_regime",
    "has_statutory_minimum_tender_period",
    "in_pipeline",
    "is_above_threshold",
    "is_outside_the_act_as_a_grant",
    "is_regulated_below_threshold",
    "kpis_required",
    "modification_allowed_by_value",
    "must_publish_modified_contract",
    "mutual_reservation_problems",
    "needs_change_notice",
    "notice_steps",
    "parse_rules",
    "payment_days",
    "performance_assessment_months",
    "pipeline_contract_floor",
    "pipeline_ends",
    "pipeline_months",
    "pipeline_notice_required",
    "pipeline_publish_within_days",
    "pipeline_spend_floor",
    "preliminary_engagement_notice_applies",
    "route_checklist",
    "route_problems",
    "rule",
    "rule_names",
    "rules_in_force",
    "standstill_days",
    "supported_employment_qualifies",
    "termination_notice_days",
    "threshold_for",
    "value_percent_limit",
]
