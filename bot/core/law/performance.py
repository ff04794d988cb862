"""Contract performance (Procurement Act 2023 s.71) and ending a contract (s.80): when an
assessment against KPIs is owed, the rating scale it uses, and when a notice is due.

The figures (12 months, 30 days, the working days a provider has to respond) are dated
rules in `rules.toml`; only the shape of the rules is here. An assessment can lead to a
supplier's exclusion (s.57 and Sch. 7), so nothing here decides one: it only says when a
person must.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.core.law.notices import last_day_within
from bot.core.law.rules import whole_number
from bot.core.law.thresholds import Money, kpis_required
from bot.core.months import add_months


class Rating(StrEnum):
    """The rating of performance against one KPI in a contract performance notice
    (Procurement Regulations 2024 reg. 39). The values are stored: never rename one."""

    GOOD = "good"
    APPROACHING_TARGET = "approaching_target"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    OTHER = "other"


#: What each rating means, in the regulations' own order.
RATING_MEANINGS: dict[Rating, tuple[str, str]] = {
    Rating.GOOD: ("Good", "Meeting or doing better than the KPI"),
    Rating.APPROACHING_TARGET: ("Approaching target", "Close to meeting the KPI"),
    Rating.REQUIRES_IMPROVEMENT: ("Requires improvement", "Below the KPI"),
    Rating.INADEQUATE: ("Inadequate", "Well below the KPI"),
    Rating.OTHER: ("Other", "None of these fits (say why in the note)"),
}


def assessment_required(
    value: Money | None, light_touch: bool, framework: bool, grant: bool, on: date
) -> bool:
    """Whether s.71(1) makes KPI assessments a duty: a public contract (not a grant) whose
    KPIs had to be set under s.52 (over £5m, not light-touch, not a framework). Raises
    `LawError` for a contract begun before the Act."""
    if grant or value is None:
        return False
    return kpis_required(Decimal(value), light_touch, framework, on) > 0


def next_assessment_due(last: date, started_on: date) -> date:
    """The last day for the next assessment: `last` (the start, or the last assessment
    decided) plus the months the rule gives, by the rule in force on the start day."""
    return add_months(last, whole_number("performance.assessment_months", started_on))


def performance_notice_due(assessed_on: date, started_on: date) -> date:
    """The last day to publish the contract performance notice after an assessment."""
    return last_day_within(assessed_on, whole_number("performance.notice_days", started_on))


def provider_response_working_days(started_on: date) -> int:
    """Working days the provider has to respond before the team decides (good practice)."""
    return whole_number("performance.provider_response_working_days", started_on)


def termination_notice_required(grant: bool, below_threshold: bool) -> bool:
    """A contract termination notice (UK11, s.80) is for public contracts, whether they end
    early or on their end date, light-touch ones included. Grants are not procurement, and
    a below-threshold contract is not a public contract under the Act."""
    return not grant and not below_threshold


def termination_notice_due(ended_on: date, started_on: date) -> date:
    """The last day to publish the contract termination notice (within 30 days, s.80)."""
    return last_day_within(ended_on, whole_number("termination.notice_days", started_on))
