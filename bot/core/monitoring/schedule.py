"""Check-in schedules from a monitoring plan both sides agreed.

Monitoring is agreed per agreement (DOMAIN, "Monitoring and agreements"): how often, or
on which days, is the commissioner's and provider's choice, so a plan with neither is
refused rather than given a system default. The first check-in comes one period after
the start (there is nothing to report on day one) and the last stretch is reported on at
the end; every one is counted from the start, not from the one before, so "monthly from
31 January" stays at the month's end rather than drifting to the 28th.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.monitoring.moments import start_of_working_day
from bot.core.months import add_months
from bot.core.quiet_hours import DEFAULT, Preferences
from bot.core.working_days import working_day_on_or_after, working_day_on_or_before


class PlanError(ValueError):
    """A plan Convene cannot schedule; the message says why in plain words."""


class Frequency(StrEnum):
    """How often both sides agreed to check in."""

    EVERY_N_WEEKS = "every_n_weeks"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SIX_MONTHLY = "six_monthly"
    YEARLY = "yearly"


#: Months between check-ins, for the frequencies counted in months.
_MONTHS = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.SIX_MONTHLY: 6,
    Frequency.YEARLY: 12,
}


@dataclass(frozen=True)
class MonitoringPlan:
    """What both sides agreed: a frequency, or explicit dates, from `starts` to `ends`.

    `every_weeks` goes with `Frequency.EVERY_N_WEEKS` only. Explicit `dates` must fall
    within the plan.
    """

    starts: date
    ends: date
    frequency: Frequency | None = None
    every_weeks: int | None = None
    dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.ends < self.starts:
            raise PlanError("The plan ends before it starts. Check the two dates.")
        if self.frequency is None and not self.dates:
            raise PlanError(
                "Say how often to check in, or on which dates. Both sides agree this: "
                "Convene does not choose for you."
            )
        if self.frequency is not None and self.dates:
            raise PlanError("Choose either how often to check in or a list of dates, not both.")
        weekly = self.frequency is Frequency.EVERY_N_WEEKS
        if weekly and (self.every_weeks is None or self.every_weeks < 1):
            raise PlanError("Say how many weeks apart the check-ins are: 1 or more.")
        if not weekly and self.every_weeks is not None:
            raise PlanError("A number of weeks only goes with 'every few weeks'.")
        outside = [d for d in self.dates if not self.starts <= d <= self.ends]
        if outside:
            raise PlanError("Every check-in date must fall between the plan's start and end.")


@dataclass(frozen=True)
class CheckinMoment:
    """One check-in: the day the plan gives, the working day it goes on, and the moment."""

    planned_on: date
    on: date
    at: datetime

    @property
    def moved(self) -> bool:
        """Whether it moved off a weekend or bank holiday."""
        return self.on != self.planned_on


def planned_days(plan: MonitoringPlan) -> list[date]:
    """The days the plan names, before any move to a working day, in order."""
    if plan.dates:
        return sorted(set(plan.dates))
    return list(_periodic_days(plan))


def _nth_period_end(plan: MonitoringPlan, n: int) -> date:
    """The day `n` periods after the start (0 is the start itself)."""
    if plan.frequency is Frequency.EVERY_N_WEEKS:
        assert plan.every_weeks is not None  # checked in __post_init__
        return plan.starts + timedelta(weeks=plan.every_weeks * n)
    assert plan.frequency is not None
    return add_months(plan.starts, _MONTHS[plan.frequency] * n)


def _periodic_days(plan: MonitoringPlan) -> Iterator[date]:
    """One check-in at the end of each whole period, then one on the plan's end date when
    the stretch left over is more than half a period (or nothing was asked yet), so the
    last months are reported on without two check-ins a few days apart."""
    n = 1
    while (day := _nth_period_end(plan, n)) <= plan.ends:
        yield day
        n += 1
    last = _nth_period_end(plan, n - 1)
    period = (_nth_period_end(plan, n) - last).days
    if n == 1 or 2 * (plan.ends - last).days > period:
        yield plan.ends


def _working_day_within(day: date, plan: MonitoringPlan) -> date:
    """The next working day, unless that is after the plan ends: then the one before, so
    every check-in falls while the agreement runs (if the plan has a working day left)."""
    later = working_day_on_or_after(day)
    if later <= plan.ends:
        return later
    earlier = working_day_on_or_before(day)
    return earlier if earlier >= plan.starts else later


def checkin_moments(
    plan: MonitoringPlan, tz: ZoneInfo, preferences: Preferences = DEFAULT
) -> list[CheckinMoment]:
    """Each check-in's moment: on a working day (a weekend or bank holiday moves to the
    next working day), at the start of the person's working day in their zone.

    Two planned days that land on one working day (a Saturday and a Sunday) make one
    check-in: nobody is asked twice in a morning.
    """
    moments: list[CheckinMoment] = []
    for planned in planned_days(plan):
        on = _working_day_within(planned, plan)
        if moments and on <= moments[-1].on:
            continue
        moments.append(CheckinMoment(planned, on, start_of_working_day(on, tz, preferences)))
    return moments
