"""Choosing where notices go (the web messages page, email, Slack, Teams), in-process.

Grace Lee is on the web only and has an email address: with email on, her notices go by
email by default (a copy on her messages page); she can choose the messages page only,
and back; a door she doesn't use is refused with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.core.reply import Message, ReplyList
from bot.services import Services
from storage.email_door import open_email_door, unsubscribe
from storage.models import AuditEvent, Door, OutboxMessage
from storage.outbox import send_to_people
from tests.support.inprocess import TestDoor, text_of


@pytest.fixture
def email_on() -> Iterator[None]:
    open_email_door(True)
    yield
    open_email_door(False)


async def _doors_of(services: Services, person_id: int, key: str) -> set[str]:
    async with services.db.session() as session:
        await send_to_people(
            session,
            [person_id],
            ReplyList(replies=[Message(text="News.")]).model_dump(),
            key + ":{person_id}",
        )
        rows = await session.scalars(
            select(OutboxMessage.door).where(OutboxMessage.idempotency_key.startswith(key))
        )
        return set(rows.all())


async def test_a_web_person_chooses_between_email_and_the_messages_page(
    door: TestDoor, services: Services, email_on: None
) -> None:
    grace = await door.sign_in("Grace Lee")
    home = text_of(await grace.say("home"))
    assert "Where we send your messages" in home
    assert "We send your messages by email" in home
    assert await _doors_of(services, grace.person_id, "one") == {Door.EMAIL, Door.WEB}

    saved = text_of(await grace.press("notifications.door", "web"))
    assert "Your messages go to your Convene messages page only" in saved
    assert await _doors_of(services, grace.person_id, "two") == {Door.WEB}

    refused = text_of(await grace.press("notifications.door", "slack"))
    assert "Nothing has changed" in refused
    assert await _doors_of(services, grace.person_id, "three") == {Door.WEB}

    # Turned off by the link in an email; choosing email again turns it back on.
    text_of(await grace.press("notifications.door", "email"))
    async with services.db.session() as session:
        await unsubscribe(session, grace.person_id, now=services.clock.now())
    assert "You turned email off" in text_of(await grace.say("home"))
    assert await _doors_of(services, grace.person_id, "four") == {Door.WEB}
    text_of(await grace.press("notifications.door", "email"))
    assert await _doors_of(services, grace.person_id, "five") == {Door.EMAIL, Door.WEB}
    async with services.db.session() as session:
        chosen = (
            await session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "notifications.door_chosen")
            )
        ).all()
    assert [d["door_chosen"] for d in chosen] == ["web", "email", "email"]


async def test_without_email_there_is_nothing_to_choose_for_a_web_person(
    door: TestDoor, services: Services
) -> None:
    grace = await door.sign_in("Grace Lee")
    assert "Where we send your messages" not in text_of(await grace.say("home"))
    assert await _doors_of(services, grace.person_id, "off") == {Door.WEB}
