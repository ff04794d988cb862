"""Weekly digests: who had one which week, what each has been told already, and the one
periodic job (a reminder row) that builds them. Rows and sets, never words."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import as_utc
from storage.digest_tables import OpportunityDigest, OpportunityDigestItem
from storage.engagements import PROVIDER_ROLES
from storage.models import Membership, Reminder, WorkState
from storage.opportunity_tables import OpportunityAnnouncement
from storage.upsert import insert_many_ignoring_duplicates

#: The due sweep's kind for the periodic job that builds every digest that is due.
DIGEST_KIND = "opportunity.digests"
DIGEST_TARGET = ("opportunity_digests", "weekly")


async def ensure_digest_job(
    session: AsyncSession, due_at: datetime, *, running: int | None = None
) -> None:
    """Start the periodic digest job unless it is already waiting or running (apart from
    `running`, the run that is asking for the next one)."""
    query = select(Reminder.id).where(
        Reminder.kind == DIGEST_KIND,
        Reminder.state.in_((WorkState.PENDING, WorkState.CLAIMED)),
    )
    if running is not None:
        query = query.where(Reminder.id != running)
    waiting = await session.scalar(query.limit(1))
    if waiting is None:
        session.add(
            Reminder(
                kind=DIGEST_KIND,
                due_at=as_utc(due_at),
                target_type=DIGEST_TARGET[0],
                target_id=DIGEST_TARGET[1],
                payload={},
            )
        )
        await session.flush()


async def had_digest(session: AsyncSession, days: dict[int, date]) -> set[int]:
    """Of these people, those who already had their digest for the day given. One query."""
    if not days:
        return set()
    rows = await session.execute(
        select(OpportunityDigest.person_id, OpportunityDigest.week_of).where(
            OpportunityDigest.person_id.in_(list(days)),
            OpportunityDigest.week_of.in_(set(days.values())),
        )
    )
    return {person_id for person_id, day in rows if days.get(person_id) == day}


async def organisations_of(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each person's provider organisations. One query."""
    found: dict[int, set[int]] = {}
    rows = await session.execute(
        select(Membership.person_id, Membership.organisation_id).where(
            Membership.person_id.in_(list(person_ids)),
            Membership.role.in_(PROVIDER_ROLES),
            Membership.organisation_id.is_not(None),
        )
    )
    for person_id, organisation_id in rows:
        if organisation_id is not None:
            found.setdefault(person_id, set()).add(organisation_id)
    return found


async def told_already(
    session: AsyncSession, person_ids: Iterable[int], opportunity_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """(person, opportunity) pairs already told, at once or in an earlier digest. One query."""
    people, opportunities = list(person_ids), list(opportunity_ids)
    if not people or not opportunities:
        return set()
    announced = select(
        OpportunityAnnouncement.person_id, OpportunityAnnouncement.opportunity_id
    ).where(
        OpportunityAnnouncement.person_id.in_(people),
        OpportunityAnnouncement.opportunity_id.in_(opportunities),
    )
    in_digests = select(
        OpportunityDigestItem.person_id, OpportunityDigestItem.opportunity_id
    ).where(
        OpportunityDigestItem.person_id.in_(people),
        OpportunityDigestItem.opportunity_id.in_(opportunities),
    )
    return {(p, o) for p, o in await session.execute(announced.union(in_digests)) if p is not None}


async def record_digests(
    session: AsyncSession, digests: list[dict[str, Any]], items: list[dict[str, Any]]
) -> None:
    """Put the digests queued, and each opportunity in them, on the record (in bulk)."""
    await insert_many_ignoring_duplicates(
        session, OpportunityDigest, digests, ["person_id", "week_of"]
    )
    await insert_many_ignoring_duplicates(
        session, OpportunityDigestItem, items, ["person_id", "opportunity_id"]
    )
