"""Working days: Monday to Friday, less England and Wales bank holidays.

The law counts some periods in working days (the 8-day standstill, s.51), so the core
needs them too; the bank holidays come from the `holidays` package, never a hand-kept
list. This is the neutral core's own helper: features may use it, and it imports
nothing of ours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

#: England and Wales share their bank holidays; the `holidays` package files them as ENG.
ENGLAND_AND_WALES = "ENG"


@lru_cache(maxsize=32)
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year))


def _a_day(day: date) -> date:
    """A datetime would count from its own (possibly UTC) day; callers pass the day."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError("pass a date, not a time")
    return day


def is_working_day(day: date, region: str = ENGLAND_AND_WALES) -> bool:
    """Whether `day` is a weekday that is not a bank holiday."""
    day = _a_day(day)
    return day.weekday() < 5 and day not in _bank_holidays(region, day.year)


def last_working_day_of_period(
    first_day: date, working_days: int, region: str = ENGLAND_AND_WALES
) -> date:
    """The last day of a period of `working_days` working days beginning with `first_day`.

    A period "beginning with" a day counts that day when it is a working day (s.51's
    standstill). Eight working days from Thursday 17 December 2026 skip Christmas Day and
    the Boxing Day holiday (Monday 28 December) and end on Wednesday 30 December.
    """
    if working_days < 1:
        raise ValueError("a period needs at least one working day")
    day = _a_day(first_day)
    counted = 1 if is_working_day(day, region) else 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day, region):
            counted += 1
    return day


def next_working_day(after: date, region: str = ENGLAND_AND_WALES) -> date:
    """The first working day after `after`."""
    day = _a_day(after) + timedelta(days=1)
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def working_day_on_or_after(day: date, region: str = ENGLAND_AND_WALES) -> date:
    """`day` itself if it is a working day, else the next one: where a check-in planned
    for a Saturday or a bank holiday goes."""
    return day if is_working_day(day, region) else next_working_day(day, region)


def working_day_on_or_before(day: date, region: str = ENGLAND_AND_WALES) -> date:
    """`day` itself if it is a working day, else the working day before it: where a
    reminder about a deadline that falls on a non-working day goes, so it is never late."""
    day = _a_day(day)
    while not is_working_day(day, region):
        day -= timedelta(days=1)
    return day


def working_days_after(day: date, count: int, region: str = ENGLAND_AND_WALES) -> date:
    """The `count`-th working day after `day` (not counting `day` itself): a message sent on
    a Monday is chased "after 3 working days" on Thursday."""
    if count < 1:
        raise ValueError("count at least one working day")
    for _ in range(count):
        day = next_working_day(day, region)
    return day
