"""When in a working day a monitoring message goes: at the start of the person's day.

A check-in or a chase is a request for someone's time, so it arrives when their working
day starts (8am unless they chose another hour, in their own time zone), on a working day
(never a weekend or an England and Wales bank holiday). Worked out on the person's own
calendar, so a clock change the night before still gives 8am local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.core.quiet_hours import DEFAULT, Preferences
from bot.core.working_days import working_day_on_or_after


def start_of_working_day(day: date, tz: ZoneInfo, preferences: Preferences = DEFAULT) -> datetime:
    """The moment (in UTC) the person's day starts on the first working day on or after
    `day`, in their zone.

    A start time the clocks skip (1:30am where clocks jump from 1am to 2am) becomes the
    same wall time after the jump, which is still that day and still awake.
    """
    working = working_day_on_or_after(day)
    local = datetime.combine(working, preferences.day_starts, tzinfo=tz)
    return local.astimezone(UTC)
