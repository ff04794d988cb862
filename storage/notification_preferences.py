"""Reading and saving people's notification preferences, in bulk where many are told."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.quiet_hours import DEFAULT, HowOften, Preferences
from storage.models import Person
from storage.notification_tables import NotificationPreference


@dataclass(frozen=True)
class Reach:
    """What deciding when to message one person needs: their choices and their time zone
    (its name as stored, None for the app's own)."""

    preferences: Preferences
    timezone: str | None


def _preferences(row: NotificationPreference) -> Preferences:
    return Preferences(
        opportunities=HowOften(row.opportunities),
        digest_weekday=row.digest_weekday,
        quiet_hours=row.quiet_hours,
        day_starts=row.day_starts,
        day_ends=row.day_ends,
    )


async def preferences_for(
    session: AsyncSession, person_ids: Iterable[int]
) -> dict[int, Preferences]:
    """Each person's choices; the defaults for anybody who never chose. One query."""
    wanted = list(dict.fromkeys(person_ids))
    found: dict[int, Preferences] = {}
    if wanted:
        rows = await session.scalars(
            select(NotificationPreference).where(NotificationPreference.person_id.in_(wanted))
        )
        found = {row.person_id: _preferences(row) for row in rows}
    return {person_id: found.get(person_id, DEFAULT) for person_id in wanted}


async def save_preferences(
    session: AsyncSession, person_id: int, preferences: Preferences, now: datetime
) -> None:
    """Store one person's choices, replacing what they chose before."""
    row = await session.get(NotificationPreference, person_id)
    if row is None:
        row = NotificationPreference(person_id=person_id)
        session.add(row)
    row.opportunities = preferences.opportunities
    row.digest_weekday = preferences.digest_weekday
    row.quiet_hours = preferences.quiet_hours
    row.day_starts = preferences.day_starts
    row.day_ends = preferences.day_ends
    row.updated_at = now
    await session.flush()


_COLUMNS = (
    NotificationPreference.opportunities,
    NotificationPreference.digest_weekday,
    NotificationPreference.quiet_hours,
    NotificationPreference.day_starts,
    NotificationPreference.day_ends,
)


def _from_columns(chosen: Sequence[Any]) -> Preferences:
    """Choices from a row's columns (plain columns are several times quicker to read in
    the thousands than whole rows); the defaults when the person has no row."""
    opportunities, weekday, quiet_hours, day_starts, day_ends = chosen
    if opportunities is None:
        return DEFAULT
    return Preferences(HowOften(opportunities), weekday, quiet_hours, day_starts, day_ends)


async def reach_of(
    session: AsyncSession, person_ids: Select[Any] | Sequence[int]
) -> dict[int, Reach]:
    """Each person's choices and time zone, for a fan-out to thousands. One query."""
    rows = await session.execute(
        select(Person.id, Person.timezone, *_COLUMNS)
        .outerjoin(NotificationPreference, NotificationPreference.person_id == Person.id)
        .where(Person.id.in_(person_ids))
    )
    return {
        person_id: Reach(_from_columns(chosen), timezone) for person_id, timezone, *chosen in rows
    }


async def weekly_readers(session: AsyncSession) -> dict[int, Reach]:
    """Everyone who chose a weekly digest, with their time zone. One query."""
    rows = await session.execute(
        select(Person.id, Person.timezone, *_COLUMNS)
        .join(NotificationPreference, NotificationPreference.person_id == Person.id)
        .where(NotificationPreference.opportunities == HowOften.WEEKLY)
    )
    return {
        person_id: Reach(_from_columns(chosen), timezone) for person_id, timezone, *chosen in rows
    }
