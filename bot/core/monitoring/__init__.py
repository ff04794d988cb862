"""Monitoring an agreement, as the neutral core sees it: when check-ins go, how unanswered
ones are chased, the agreement's key dates, and variations added up against the award.

Pure functions of dates, zones and the dated legal rules: no database, no doors. The
agreements and monitoring features turn these into reminders for the due sweep.
"""

from __future__ import annotations

from bot.core.monitoring.chasing import CHASING, Chase, ChasePolicy, ChaseStep, chase_moments
from bot.core.monitoring.key_dates import (
    PAYMENT_KINDS,
    THE_AGREEMENT,
    AgreementDates,
    Audience,
    BreakClause,
    KeyDate,
    KeyDateKind,
    KeyDatesError,
    every_year,
    key_dates,
    last_day_within,
    pay_by,
    payment_terms_for,
    performance_assessment_days,
    reminder_day,
)
from bot.core.monitoring.moments import start_of_working_day
from bot.core.monitoring.schedule import (
    CheckinMoment,
    Frequency,
    MonitoringPlan,
    PlanError,
    checkin_moments,
    planned_days,
)
from bot.core.monitoring.variations import RunningTotal, Variation, running_totals

__all__ = [
    "CHASING",
    "PAYMENT_KINDS",
    "THE_AGREEMENT",
    "AgreementDates",
    "Audience",
    "BreakClause",
    "Chase",
    "ChasePolicy",
    "ChaseStep",
    "CheckinMoment",
    "Frequency",
    "KeyDate",
    "KeyDateKind",
    "KeyDatesError",
    "MonitoringPlan",
    "PlanError",
    "RunningTotal",
    "Variation",
    "chase_moments",
    "checkin_moments",
    "every_year",
    "key_dates",
    "last_day_within",
    "pay_by",
    "payment_terms_for",
    "performance_assessment_days",
    "planned_days",
    "reminder_day",
    "running_totals",
    "start_of_working_day",
]
