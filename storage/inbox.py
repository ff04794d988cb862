"""The web inbox: what Convene sent to somebody who uses the web pages, and what they read.

The web door shows it and the web sender fills it; both ask here, so no door writes SQL.
Delivery is an INSERT keyed by the outbox idempotency key, so a sender can always tell
whether an earlier attempt landed, and the database refuses a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxItem

#: How many messages the inbox page shows, newest first.
SHOWN = 100


@dataclass(frozen=True)
class InboxEntry:
    """One message as the inbox page shows it: unread as it was before this look."""

    created_at: datetime
    unread: bool
    payload: dict[str, Any]


async def unread_count(session: AsyncSession, person_id: int) -> int:
    """How many messages the person has not seen yet (the "Messages (3)" in the header)."""
    count = await session.scalar(
        select(func.count())
        .select_from(InboxItem)
        .where(InboxItem.person_id == person_id, InboxItem.read_at.is_(None))
    )
    return int(count or 0)


async def read_inbox(session: AsyncSession, person_id: int, *, now: datetime) -> list[InboxEntry]:
    """The newest messages, as they were, and every message now marked read: the person
    has looked at their inbox."""
    rows = (
        await session.scalars(
            select(InboxItem)
            .where(InboxItem.person_id == person_id)
            .order_by(InboxItem.created_at.desc())
            .limit(SHOWN)
        )
    ).all()
    entries = [
        InboxEntry(created_at=row.created_at, unread=row.read_at is None, payload=row.payload)
        for row in rows
    ]
    await session.execute(
        update(InboxItem)
        .where(InboxItem.person_id == person_id, InboxItem.read_at.is_(None))
        .values(read_at=now)
    )
    return entries


async def delivered_item(session: AsyncSession, idempotency_key: str) -> int | None:
    """The inbox item an outbox message became, if it was delivered."""
    item_id: int | None = await session.scalar(
        select(InboxItem.id).where(InboxItem.idempotency_key == idempotency_key)
    )
    return item_id


async def add_to_inbox(
    session: AsyncSession,
    *,
    person_id: int,
    idempotency_key: str,
    payload: dict[str, Any],
    at: datetime,
) -> int:
    """Put a message in the person's inbox. Raises IntegrityError for a repeat (or a person
    who no longer exists), which the caller tells apart with `delivered_item`."""
    item = InboxItem(
        person_id=person_id, idempotency_key=idempotency_key, payload=payload, created_at=at
    )
    session.add(item)
    await session.flush()
    return item.id
