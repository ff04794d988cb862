"""Time, always timezone-aware.

Everything stored is UTC; everything shown to a person is in their own zone
(Europe/London unless they chose another). A `Clock` is passed to handlers so tests
can move time forward without patching the standard library.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock:
    """The real clock. `now()` is UTC and aware."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and demos."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def as_utc(value: datetime) -> datetime:
    """Refuse naive datetimes: a naive time is a bug waiting for the clocks to change."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)


def format_when(value: datetime, tz: ZoneInfo = LONDON) -> str:
    """'Friday 6 March 2026, 5pm' — the GOV.UK style for dates and times."""
    local = value.astimezone(tz)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    if local.hour == 12 and local.minute == 0:
        time = "midday"
    elif local.hour == 0 and local.minute == 0:
        time = "midnight"
    elif local.minute:
        time = f"{hour}:{local.minute:02d}{suffix}"
    else:
        time = f"{hour}{suffix}"
    return f"{local:%A} {local.day} {local:%B %Y}, {time}"


def format_day(value: datetime, tz: ZoneInfo = LONDON) -> str:
    """'Friday 6 March 2026'."""
    local = value.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y}"


def format_date(value: date) -> str:
    """A day with no time (a planned date, an award date): 'Friday 6 March 2026'."""
    return f"{value:%A} {value.day} {value:%B %Y}"
