"""Working days, with UK bank holidays from the `holidays` package (never a hand-kept list)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.clock import LONDON

#: Reminders before a deadline go out at 10am, when people are at work to act on them.
REMINDER_TIME = time(10, 0)


@lru_cache(maxsize=16)
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year))


def is_working_day(day: date, region: str = "ENG") -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(region, day.year)


def working_days_before(
    moment: datetime, days: int, *, region: str = "ENG", tz: ZoneInfo = LONDON
) -> datetime:
    """10am on the working day `days` working days before `moment`'s day (in `tz`).

    Three working days before a Tuesday 7 April 2026 deadline skips Easter Monday and Good
    Friday, and lands on Tuesday 31 March.
    """
    day = moment.astimezone(tz).date()
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if is_working_day(day, region):
            counted += 1
    return datetime.combine(day, REMINDER_TIME, tzinfo=tz)
