"""The audit log: how a council shows its engagement was open and equal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.turn import Turn
from storage.models import AuditEvent


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: object | None = None,
    door: str | None = None,
    authority_id: int | None = None,
    organisation_id: int | None = None,
    at: datetime | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event in the caller's unit of work, so it commits (or not) with the change."""
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor_id=actor_id,
        door=door,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        authority_id=authority_id,
        organisation_id=organisation_id,
        details=details,
    )
    session.add(event)
    return event


async def record_turn(
    session: AsyncSession,
    turn: Turn,
    action: str,
    *,
    object_type: str,
    object_id: object | None = None,
    **fields: Any,
) -> AuditEvent:
    """Record what the person behind a turn did, from whichever door they used."""
    return await record(
        session,
        action,
        actor_id=turn.actor.person_id if turn.actor else None,
        door=turn.door,
        object_type=object_type,
        object_id=object_id,
        **fields,
    )
