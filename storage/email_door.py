"""The email door's storage: whether email is on, and who turned it off.

Email reaches people on neither Slack nor Teams (or who chose it). Whether the app has an
email backend at all is set once at start (`open_email_door`), so routing in
`storage.outbox` never queues a message no sender could deliver.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatIdentity, Door, EmailUnsubscribe, Person
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


async def doors_for(session: AsyncSession, person_id: int) -> tuple[str | None, list[str], bool]:
    """A person's chosen door (None: the default), the doors they can choose (the web inbox
    always; email if they have an address and the app sends email; each chat door they
    use), and whether they turned email off."""
    person = await session.get(Person, person_id)
    if person is None:
        return None, [], False
    platforms = set(
        (
            await session.scalars(
                select(ChatIdentity.platform).where(ChatIdentity.person_id == person_id)
            )
        ).all()
    )
    choices = [Door.WEB.value]
    if person.email and _door_open:
        choices.append(Door.EMAIL.value)
    choices.extend(door.value for door in (Door.SLACK, Door.TEAMS) if door.value in platforms)
    return person.preferred_door, choices, await is_unsubscribed(session, person_id)


async def choose_door(session: AsyncSession, person_id: int, door: str) -> None:
    """Send this person's notices to `door` from now on. Choosing email turns it back on."""
    person = await session.get(Person, person_id)
    assert person is not None
    person.preferred_door = door
    if door == Door.EMAIL:
        await resubscribe(session, person_id)
