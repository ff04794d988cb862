"""Messages the outbox could not deliver are shown to an admin, with the reason, and can be retried."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import SENDER
from bot.services import Services
from storage.models import AuditEvent, Door, InboxItem, OutboxMessage, Person, WorkState
from storage.outbox import enqueue
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


async def test_dead_message_is_shown_and_retried(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    async with services.db.session() as session:
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        assert grace is not None
        # A web message with no person can never be delivered: the sender marks it dead.
        stuck = await enqueue(
            session,
            door=Door.WEB,
            address="inbox",
            payload={"replies": []},
            idempotency_key="stuck-1",
        )
        stuck_id = stuck.id
    sender = app_server.runner.app[SENDER]
    await sender.drain()
    async with services.db.session() as session:
        row = await session.get(OutboxMessage, stuck_id)
        assert row is not None and row.state == WorkState.DEAD

    # Providers can't see deliveries.
    await web_user.sign_in_locally("Grace Lee")
    _, html = await web_user.get("/do/deliveries")
    assert "Only Convene admins" in text_of(html)

    admin = WebUser(app_server.url)
    try:
        await admin.sign_in_locally("Alex Morgan")
        _, html = await admin.get("/do/deliveries")
        page = text_of(html)
        assert "These messages could not be delivered" in page
        assert "web inbox message has no person" in page
        assert "Could not be sent 1" in page

        # Once the cause is fixed (here: give it a person), "Try again" delivers it.
        async with services.db.session() as session:
            row = await session.get(OutboxMessage, stuck_id)
            assert row is not None
            row.person_id = grace.id
        _, html = await admin.post("/actions/deliveries.retry", {"value": str(stuck_id)})
        assert "try to send that message again" in text_of(html)
        _, html = await admin.post("/actions/deliveries.retry", {"value": str(stuck_id)})
        assert "not waiting for a retry" in text_of(html)
        await sender.drain()
        _, html = await admin.get("/do/deliveries")
        assert "Every message was delivered" in text_of(html)
    finally:
        await admin.close()
    async with services.db.session() as session:
        row = await session.get(OutboxMessage, stuck_id)
        assert row is not None and row.state == WorkState.DONE
        assert await session.scalar(select(InboxItem).where(InboxItem.person_id == grace.id))
        assert await session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
