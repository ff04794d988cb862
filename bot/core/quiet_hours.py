"""Notification preferences and quiet hours, as the core sees them.

People choose how they hear about new opportunities (at once, in a weekly digest, or
not at all) and when Convene may message them: by default only between 8am and 8pm in
their own time zone. This is a neutral helper: storage keeps each person's choice,
features ask `next_waking_moment` when a message may go, and nothing here knows about
doors or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Convene messages people from 8am to 8pm in their own time zone unless they choose otherwise.
DAY_STARTS = time(8, 0)
DAY_ENDS = time(20, 0)


class HowOften(StrEnum):
    """How a person hears about new opportunities that fit their organisation."""

    IMMEDIATELY = "immediately"
    WEEKLY = "weekly"
    NONE = "none"


@dataclass(frozen=True)
class Preferences:
    """One person's choices. The defaults are what somebody who never chose gets."""

    opportunities: HowOften = HowOften.IMMEDIATELY
    #: The weekday a weekly digest goes on: 0 is Monday, as `date.weekday()` counts.
    digest_weekday: int = 0
    #: False when the person said messages may come at any hour.
    quiet_hours: bool = True
    day_starts: time = DAY_STARTS
    day_ends: time = DAY_ENDS


DEFAULT = Preferences()


def is_awake(moment: datetime, tz: ZoneInfo, preferences: Preferences = DEFAULT) -> bool:
    """Whether a message may reach this person at `moment` (an aware time)."""
    if moment.tzinfo is None:
        raise ValueError("pass an aware time")
    if not preferences.quiet_hours:
        return True
    local = moment.astimezone(tz).time()
    starts, ends = preferences.day_starts, preferences.day_ends
    if starts <= ends:
        return starts <= local < ends
    return local >= starts or local < ends  # a day that runs past midnight


def next_waking_moment(
    moment: datetime, tz: ZoneInfo, preferences: Preferences = DEFAULT
) -> datetime:
    """`moment` itself if the person is awake then, else the next start of their day.

    Worked out in the person's own zone, so a clock change between now and the morning
    still gives 8am local time. Returned in the same zone as `moment` was given in.
    """
    if is_awake(moment, tz, preferences):
        return moment
    local = moment.astimezone(tz)
    start = datetime.combine(local.date(), preferences.day_starts, tzinfo=tz)
    if start <= local:
        start = datetime.combine(
            local.date() + timedelta(days=1), preferences.day_starts, tzinfo=tz
        )
    return start.astimezone(moment.tzinfo)


def zone_named(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """A person's stored time zone, or `default` when they have none (or a broken one)."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def digest_day(moment: datetime, tz: ZoneInfo, preferences: Preferences) -> date | None:
    """The person's own day, when `moment` is on their digest weekday, at or after the start
    of their day and while they are awake; else None. A weekly digest may go then."""
    if preferences.opportunities != HowOften.WEEKLY:
        return None
    local = moment.astimezone(tz)
    if local.weekday() != preferences.digest_weekday:
        return None
    if local.time() < preferences.day_starts or not is_awake(moment, tz, preferences):
        return None
    return local.date()
