"""When engagement reminders go out, counted in working days (the core's
`bot.core.working_days`: weekdays less bank holidays from the `holidays` package)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import LONDON
from bot.core.working_days import is_working_day

#: Reminders before a deadline go out at 10am, when people are at work to act on them.
REMINDER_TIME = time(10, 0)


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
