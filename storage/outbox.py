"""The outbox table: every outbound message is queued here first.

Handlers call `enqueue` inside their own unit of work, so a message exists if and
only if the change that caused it was committed. The sender (`bot/outbox`) does
the delivering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.request_id import with_request_id
from storage.db import now_for
from storage.email_door import email_door_open
from storage.models import (
    ChatIdentity,
    Door,
    EmailUnsubscribe,
    OutboxMessage,
    Person,
    WorkState,
)
from storage.upsert import dialect_of, insert_many_ignoring_duplicates, insert_statement

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
    """Queue one message. Queuing the same key twice returns the first message unchanged.

    Every chat reply passes through here, so it is one prepared Core statement (built and
    compiled once, see `insert_statement`) rather than an ORM insert built per call, which
    cost half as much again. The message returned is the row as written; it is not added
    to `session`."""
    now = now_for(session)
    values = {
        "door": door,
        "address": address,
        # The request that queued it, so the logs of its sending can be matched to it.
        "payload": with_request_id(payload),
        "idempotency_key": idempotency_key,
        "person_id": person_id,
        "workspace_id": workspace_id,
        "next_attempt_at": not_before or now,
        "state": WorkState.PENDING,
        "attempts": 0,
        "created_at": now,
    }
    # When the key is new (the usual case) the insert returns the id. A second message with
    # the same key is simply not added, and the first is looked up.
    statement = insert_statement(
        dialect_of(session), OutboxMessage, ("idempotency_key",), returning_id=True
    )
    added = await session.scalar(statement, values)
    if added is not None:
        return OutboxMessage(id=added, **values)
    message = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    assert message is not None
    return message


@dataclass(frozen=True)
class Address:
    """Where a person's messages go: a door, the address on it, and the workspace or tenant."""

    door: Door
    address: str
    workspace_id: str | None = None


def choose_address(
    preferred_door: str | None, identities: Sequence[ChatIdentity], email: str | None = None
) -> Address:
    """The door a person uses: their chosen door, else a chat door they have, else email (when
    they have an address, have not turned email off, and the app sends email), else the web
    inbox. `email` is the address to use, None when email is not for them."""
    wants_email = preferred_door == Door.EMAIL or (not identities and preferred_door != Door.WEB)
    if email and email_door_open() and wants_email:
        return Address(Door.EMAIL, email)
    chosen: ChatIdentity | None = None
    if preferred_door != Door.WEB:
        preferred = [i for i in identities if i.platform == preferred_door]
        candidates = preferred or list(identities)
        chosen = candidates[0] if candidates else None
    if chosen is None:
        return Address(Door.WEB, WEB_INBOX)
    return Address(
        Door(chosen.platform),
        str(chosen.data.get("chat_address") or chosen.user_id),
        chosen.workspace_id,
    )


async def enqueue_for_person(
    session: AsyncSession,
    person: Person,
    payload: dict[str, Any],
    idempotency_key: str,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue a message on the door this person uses: their chosen door, else chat, else web inbox."""
    identities = (
        await session.scalars(select(ChatIdentity).where(ChatIdentity.person_id == person.id))
    ).all()
    email = None
    if person.email and email_door_open():
        off = await session.scalar(
            select(EmailUnsubscribe.person_id).where(EmailUnsubscribe.person_id == person.id)
        )
        email = None if off is not None else person.email
    where = choose_address(person.preferred_door, identities, email)
    if where.door == Door.EMAIL:
        await enqueue(session, **_inbox_copy(person.id, payload, idempotency_key, not_before))
    return await enqueue(
        session,
        door=where.door,
        address=where.address,
        workspace_id=where.workspace_id,
        payload=payload,
        idempotency_key=idempotency_key,
        person_id=person.id,
        not_before=not_before,
    )


async def addresses_for(
    session: AsyncSession, person_ids: Select[Any] | Sequence[int]
) -> dict[int, Address]:
    """Where to reach each of many people, in two queries (for fan-outs to thousands)."""
    people = (
        await session.execute(
            select(Person.id, Person.preferred_door, Person.email, EmailUnsubscribe.person_id)
            .outerjoin(EmailUnsubscribe, EmailUnsubscribe.person_id == Person.id)
            .where(Person.id.in_(person_ids))
        )
    ).all()
    identities: dict[int, list[ChatIdentity]] = {}
    for identity in (
        await session.scalars(select(ChatIdentity).where(ChatIdentity.person_id.in_(person_ids)))
    ).all():
        identities.setdefault(identity.person_id, []).append(identity)
    return {
        person_id: choose_address(
            preferred, identities.get(person_id, []), None if off is not None else email
        )
        for person_id, preferred, email, off in people
    }


def _inbox_copy(
    person_id: int, payload: dict[str, Any], key: str, not_before: datetime | None
) -> dict[str, Any]:
    """The web inbox's copy of a message that goes by email: the inbox always keeps one."""
    return {
        "door": Door.WEB,
        "address": WEB_INBOX,
        "payload": payload,
        "idempotency_key": f"{key}:inbox",
        "person_id": person_id,
        "not_before": not_before,
    }


async def send_to_people(
    session: AsyncSession,
    person_ids: Select[Any] | Sequence[int],
    payload: dict[str, Any],
    key: str,
    *,
    not_before: datetime | Mapping[int, datetime] | None = None,
) -> dict[int, tuple[Address, str]]:
    """Queue the same message for many people, in bulk.

    `key` is an idempotency key with `{person_id}` in it, so running the fan-out again (after
    a crash, say) adds nothing twice. Returns each person's address and message key.
    `not_before` is one moment for all, or each person's own (quiet hours); anyone missing
    from the mapping is due now.
    """
    return await send_each(session, person_ids, lambda _: payload, key, not_before=not_before)


async def send_each(
    session: AsyncSession,
    person_ids: Select[Any] | Sequence[int],
    payload_for: Callable[[int], dict[str, Any] | None],
    key: str,
    *,
    not_before: datetime | Mapping[int, datetime] | None = None,
) -> dict[int, tuple[Address, str]]:
    """`send_to_people` with each person's own message (a digest): `payload_for(person_id)`
    gives it, or None to send that person nothing. Still two reads and bulk inserts."""
    now = now_for(session)
    each = not_before if isinstance(not_before, Mapping) else {}
    at = not_before if isinstance(not_before, datetime) else now
    sent: dict[int, tuple[Address, str]] = {}
    rows: list[dict[str, Any]] = []
    for person_id, where in (await addresses_for(session, person_ids)).items():
        payload = payload_for(person_id)
        if payload is None:
            continue
        message_key = key.format(person_id=person_id)
        sent[person_id] = (where, message_key)
        if where.door == Door.EMAIL:
            rows.append(
                {
                    "door": Door.WEB,
                    "address": WEB_INBOX,
                    "workspace_id": None,
                    "payload": payload,
                    "idempotency_key": f"{message_key}:inbox",
                    "person_id": person_id,
                    "next_attempt_at": each.get(person_id, at),
                    "state": WorkState.PENDING,
                    "attempts": 0,
                    "created_at": at,
                }
            )
        rows.append(
            {
                "door": where.door,
                "address": where.address,
                "workspace_id": where.workspace_id,
                "payload": with_request_id(payload),
                "idempotency_key": message_key,
                "person_id": person_id,
                "next_attempt_at": each.get(person_id, at),
                "state": WorkState.PENDING,
                "attempts": 0,
                "created_at": at,
            }
        )
    await insert_many_ignoring_duplicates(session, OutboxMessage, rows, ["idempotency_key"])
    return sent
