"""The audit log: how a council shows its engagement was open and equal."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.turn import Turn
from storage.db import now_for
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
        at=at or now_for(session),
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


class Audited(Protocol):
    """Anything refused is a row with an id and the authority it belongs to."""

    id: int
    authority_id: int


async def record_refusal(
    session: AsyncSession,
    turn: Turn,
    action: str,
    object_type: str,
    subject: Audited | None,
    attempted: str,
    reason: str,
    *,
    authority_id: int | None = None,
    **fields: Any,
) -> AuditEvent:
    """Keep a record of an attempt that was refused (nothing else changes): what was tried
    on what, and why not, so a council can show who tried what they may not."""
    return await record_turn(
        session,
        turn,
        action,
        object_type=object_type,
        object_id=subject.id if subject else None,
        authority_id=subject.authority_id if subject else authority_id,
        attempted=attempted,
        reason=reason,
        **fields,
    )
