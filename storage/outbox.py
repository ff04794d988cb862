"""The outbox table: every outbound message is queued here first.

Handlers call `enqueue` inside their own unit of work, so a message exists if and
only if the change that caused it was committed. The sender (`bot/outbox`) does
the delivering.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatIdentity, Door, OutboxMessage, Person, WorkState
from storage.upsert import insert_ignoring_duplicates

WEB_INBOX = "inbox"


async def enqueue(
    session: AsyncSession,
    *,
    door: Door,
    address: str,
    payload: dict[str, Any],
    idempotency_key: str,
    person_id: int | None = None,
    workspace_id: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue one message. Queuing the same key twice returns the first message unchanged."""
    values = {
        "door": door,
        "address": address,
        "payload": payload,
        "idempotency_key": idempotency_key,
        "person_id": person_id,
        "workspace_id": workspace_id,
        "next_attempt_at": not_before or datetime.now(UTC),
        "state": WorkState.PENDING,
        "attempts": 0,
        "created_at": datetime.now(UTC),
    }
    # One statement whatever happens: a second message with the same key is simply not added.
    await insert_ignoring_duplicates(session, OutboxMessage, values, ["idempotency_key"])
    message = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    assert message is not None
    return message


async def enqueue_for_person(
    session: AsyncSession,
    person: Person,
    payload: dict[str, Any],
    idempotency_key: str,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue a message on the door this person uses: their chosen door, else chat, else web inbox."""
    identities = list(
        (
            await session.scalars(select(ChatIdentity).where(ChatIdentity.person_id == person.id))
        ).all()
    )
    chosen: ChatIdentity | None = None
    if person.preferred_door != Door.WEB:
        preferred = [i for i in identities if i.platform == person.preferred_door]
        candidates = preferred or identities
        chosen = candidates[0] if candidates else None
    if chosen is None:
        return await enqueue(
            session,
            door=Door.WEB,
            address=WEB_INBOX,
            payload=payload,
            idempotency_key=idempotency_key,
            person_id=person.id,
            not_before=not_before,
        )
    return await enqueue(
        session,
        door=Door(chosen.platform),
        address=str(chosen.data.get("chat_address") or chosen.user_id),
        workspace_id=chosen.workspace_id,
        payload=payload,
        idempotency_key=idempotency_key,
        person_id=person.id,
        not_before=not_before,
    )
