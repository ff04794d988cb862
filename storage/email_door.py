"""The email door's storage: whether email is on, and who turned it off.

Email reaches people on neither Slack nor Teams (or who chose it). Whether the app has an
email backend at all is set once at start (`open_email_door`), so routing in
`storage.outbox` never queues a message no sender could deliver.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EmailUnsubscribe, Person
from storage.upsert import insert_many_ignoring_duplicates

_door_open = False


def open_email_door(on: bool) -> None:
    """The app says whether it can send email (CONVENE_EMAIL_BACKEND is not `none`)."""
    global _door_open
    _door_open = on


def email_door_open() -> bool:
    return _door_open


async def unsubscribe(session: AsyncSession, person_id: int, *, now: datetime) -> None:
    """Turn email off for this person, at once: the next message goes to the web inbox."""
    await insert_many_ignoring_duplicates(
        session,
        EmailUnsubscribe,
        [{"person_id": person_id, "unsubscribed_at": now}],
        ["person_id"],
    )


async def resubscribe(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(EmailUnsubscribe).where(EmailUnsubscribe.person_id == person_id))


async def is_unsubscribed(session: AsyncSession, person_id: int) -> bool:
    found = await session.scalar(
        select(EmailUnsubscribe.person_id).where(EmailUnsubscribe.person_id == person_id)
    )
    return found is not None


async def email_address_of(session: AsyncSession, person_id: int) -> str | None:
    return await session.scalar(select(Person.email).where(Person.id == person_id))
