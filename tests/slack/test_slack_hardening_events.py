"""A turn and its reply are one unit of work, and a failed event is tried again.

Slack sends an event again (with `X-Slack-Retry-Num`) when we answer anything but 200.
So a DM is handled before Slack is answered: if handling it fails, nothing is kept
(not even the mark that it was handled), Slack gets 503, and its retry is handled like
a first delivery. A retry of an event that *was* handled is still ignored.

Replies that go to the person's DM (a chat-mode question, an export's file) are queued
in the same transaction as the handler's changes, so one never commits without the other.
And when the database is what failed, the person is told so, not that Convene doesn't
know who they are.

The database is broken here by renaming a table the turn needs, which fails the same
way on SQLite and PostgreSQL (see test_slack_hardening_database_down for a locked one).
"""

from __future__ import annotations

import json
import time
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import text

from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack.door import SlackDoor
from bot.turns import DATABASE_DOWN
from storage.models import AuditEvent, FormResponse, ProcessedEvent
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import count, eventually, outbox_rows, settle, stored_counts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import event_body

PRIYA = "U0002"


def dm(text_: str, user: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text_,
        "ts": f"{time.time():.6f}",
    }


async def break_table(services: Services, table: str) -> None:
    async with services.db.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))


async def mend_table(services: Services, table: str) -> None:
    async with services.db.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


def retry(number: int) -> dict[str, str]:
    return {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_error"}


async def answer(fake: FakeSlack, key: str) -> str:
    """The text of what the person was told through the command's response URL."""
    said = await eventually(lambda: fake.responses.get(key))
    return str(said[-1]["text"])


async def test_a_dm_that_failed_is_answered_when_slack_sends_it_again(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
    services: Services,
    sender: OutboxSender,
) -> None:
    event = dm("help", tom)
    await break_table(services, "outbox_messages")  # the reply can't be queued
    try:
        status, _ = await slack.event(event, event_id="EvBroken")
    finally:
        await mend_table(services, "outbox_messages")
    assert status == 503, "not 200: Slack must send it again"
    assert await count(services, ProcessedEvent) == 0, "not marked as handled"

    status, _ = await slack.event(event, event_id="EvBroken", headers=retry(1))
    assert status == 200
    await settle(sender)
    assert len(fake_slack.delivered(tom)) == 1
    assert await count(services, ProcessedEvent) == 1

    # Slack may still send it once more (its retry raced our answer): ignored.
    status, _ = await slack.event(event, event_id="EvBroken", headers=retry(2))
    assert status == 200
    await settle(sender)
    assert len(fake_slack.delivered(tom)) == 1
    assert len(await outbox_rows(services)) == 1


async def test_a_chat_mode_question_and_its_draft_are_saved_together_or_not_at_all(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services
) -> None:
    """`profile chat` starts a draft and sends the first question to the DM. If the question
    can't be queued, the draft is not kept either, and Tom is told why."""
    await slack.command("help", response_url=fake_slack.response_url("first"))
    await answer(fake_slack, "first")  # Tom has been met (his Slack identity is kept)
    before = await stored_counts(services)
    drafts = await count(services, FormResponse)
    await break_table(services, "outbox_messages")
    try:
        status, _ = await slack.command("profile chat", response_url=fake_slack.response_url("c"))
        assert status == 200
        assert await answer(fake_slack, "c") == DATABASE_DOWN
    finally:
        await mend_table(services, "outbox_messages")
    assert await count(services, FormResponse) == drafts
    assert await stored_counts(services) == before

    status, _ = await slack.command("profile chat", response_url=fake_slack.response_url("ok"))
    assert status == 200
    assert "direct message" in await answer(fake_slack, "ok")
    assert len(await outbox_rows(services)) == 1


async def test_an_export_and_its_file_message_are_saved_together_or_not_at_all(
    slack: SlackPoster, fake_slack: FakeSlack, priya: str, services: Services
) -> None:
    """An export is put on the record when it is made; its file goes to the DM. If the
    file can't be queued, the record of an export nobody got is not kept."""
    exports = AuditEvent.action == "export.created"
    await break_table(services, "outbox_messages")
    try:
        status, _ = await slack.command(
            "export readiness xlsx", user_id=priya, response_url=fake_slack.response_url("x")
        )
        assert status == 200
        assert await answer(fake_slack, "x") == DATABASE_DOWN
    finally:
        await mend_table(services, "outbox_messages")
    assert await count(services, AuditEvent, exports) == 0

    status, _ = await slack.command(
        "export readiness xlsx", user_id=priya, response_url=fake_slack.response_url("y")
    )
    assert status == 200
    assert "sending the file" in await answer(fake_slack, "y")
    assert await count(services, AuditEvent, exports) == 1
    assert len(await outbox_rows(services)) == 1


async def test_when_the_database_fails_people_are_told_so_not_that_we_dont_know_them(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services
) -> None:
    await break_table(services, "chat_identities")  # who is who can't be read
    try:
        started = time.monotonic()
        status, _ = await slack.command("help", response_url=fake_slack.response_url("h"))
        assert status == 200 and time.monotonic() - started < 3
        said = await answer(fake_slack, "h")
        assert said == DATABASE_DOWN
        assert "don't know who you are" not in said

        status, _ = await slack.event(dm("help", tom), event_id="EvNoIdentities")
        assert status == 503 and time.monotonic() - started < 6
    finally:
        await mend_table(services, "chat_identities")
    status, _ = await slack.event(dm("help", tom), event_id="EvNoIdentities", headers=retry(1))
    assert status == 200


async def test_in_socket_mode_events_are_still_handled_before_they_are_answered(
    fake_slack: FakeSlack, tom: str, services: Services, door: SlackDoor
) -> None:
    """Socket Mode hands every request to the commands app (there is no gate: Slack's own
    connection is the proof); events are passed on to the events app from there."""
    body = json.loads(event_body(dm("help", tom), event_id="EvSocket"))
    await break_table(services, "outbox_messages")
    try:
        failed = await door.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    finally:
        await mend_table(services, "outbox_messages")
    assert failed.status == 503
    handled = await door.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    assert handled.status == 200
    assert [r.idempotency_key for r in await outbox_rows(services)] == ["slack:event:EvSocket"]
