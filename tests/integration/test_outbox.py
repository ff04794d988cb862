"""The outbox delivers every message exactly once, even when the sender process is killed.

The crash tests run the real sender in a child process (tests/support/crashing_sender.py)
that dies with `os._exit` just before, or just after, delivering one message to the web
inbox. This process then plays "the restarted sender": once the dead worker's lease
runs out it drains the outbox, and every message must have exactly one inbox item.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.core.reply import Message, ReplyList
from bot.outbox.sender import Delivered, OutboxSender, RetryLater
from bot.outbox.web_inbox import WebInboxSender
from bot.services import Services
from storage.models import Door, InboxItem, OutboxMessage, Person, WorkState
from storage.outbox import enqueue, enqueue_for_person
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

CRASHING_SENDER = Path(__file__).resolve().parents[1] / "support" / "crashing_sender.py"
MESSAGES = 20
BATCH = 4
CRASH_INDEX = 9  # the 10th message: mid-way through the third batch of four


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Short leases so a dead worker's claim runs out quickly; few attempts before dead."""
    return {"lease_seconds": 1, "outbox_max_attempts": 3}


def payload(title: str) -> dict[str, object]:
    """A real reply list, as handlers queue them, so the inbox page can render it."""
    return ReplyList(replies=[Message(title=title, text="Sent by the outbox tests.")]).model_dump(
        mode="json"
    )


class RecordingWebInbox:
    """The real WebInboxSender, with a note of which of its methods answered for which message.

    Not a mock: every call goes to the real sender and the real database. The note lets
    the test say *how* a message was finished (found already delivered, or delivered now).
    """

    door = Door.WEB

    def __init__(self, inner: WebInboxSender) -> None:
        self.inner = inner
        self.found: dict[int, bool] = {}
        self.delivered: list[int] = []

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        result = await self.inner.find_delivered(message)
        self.found[message.id] = result is not None
        return result

    async def deliver(self, message: OutboxMessage) -> Delivered:
        self.delivered.append(message.id)
        return await self.inner.deliver(message)


async def enqueue_for_demo_people(services: Services, count: int) -> list[int]:
    """Queue `count` messages round-robin to the demo people, due in a fixed order."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    ids: list[int] = []
    async with services.db.session() as session:
        people = list((await session.scalars(select(Person).order_by(Person.id))).all())
        assert people, "the demo data should have people"
        for i in range(count):
            message = await enqueue_for_person(
                session,
                people[i % len(people)],
                payload(f"Outbox test message {i}"),
                idempotency_key=f"outbox-test:{i}",
                not_before=start + timedelta(milliseconds=i),
            )
            assert message.door == Door.WEB  # demo people have no chat identities
            ids.append(message.id)
    return ids


async def outbox_rows(services: Services, ids: Sequence[int]) -> dict[int, OutboxMessage]:
    async with services.db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()
    return {row.id: row for row in rows}


async def inbox_items_by_key(services: Services) -> dict[str, list[InboxItem]]:
    async with services.db.session() as session:
        items = (await session.scalars(select(InboxItem).order_by(InboxItem.id))).all()
    grouped: dict[str, list[InboxItem]] = {}
    for item in items:
        grouped.setdefault(item.idempotency_key, []).append(item)
    return grouped


async def run_crashing_sender(database_url: str, crash: str, message_id: int) -> int:
    """Start the sender in a child process and wait for it to die. Returns its exit code."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CRASHING_SENDER),
        "--crash",
        crash,
        "--message-id",
        str(message_id),
        "--batch",
        str(BATCH),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 137, (
        f"the sender should have been killed at message {message_id}, "
        f"exit {process.returncode}\n{out.decode()}\n{err.decode()}"
    )
    return process.returncode


@pytest.mark.parametrize("crash", ["before", "after"])
async def test_killed_sender_delivers_each_message_exactly_once_after_restart(
    services: Services, database_url: str, crash: str
) -> None:
    ids = await enqueue_for_demo_people(services, MESSAGES)
    victim = ids[CRASH_INDEX]

    await run_crashing_sender(database_url, crash, victim)

    # The crash happened where we said: earlier batches finished, the victim is still
    # claimed by the dead worker, later batches were never touched.
    rows = await outbox_rows(services, ids)
    first_unclaimed = (CRASH_INDEX // BATCH + 1) * BATCH
    assert all(rows[i].state == WorkState.DONE for i in ids[: (CRASH_INDEX // BATCH) * BATCH])
    assert all(
        rows[i].state == WorkState.PENDING and rows[i].attempts == 0 for i in ids[first_unclaimed:]
    )
    stuck = rows[victim]
    assert stuck.state == WorkState.CLAIMED and stuck.attempts == 1
    assert stuck.lease_until is not None
    items = await inbox_items_by_key(services)
    victim_key = stuck.idempotency_key
    if crash == "before":
        assert victim_key not in items, "killed before delivery, so nothing was delivered"
    else:
        assert len(items[victim_key]) == 1, "killed after delivery, before it was recorded"
    landed_before_restart = {key: [i.id for i in found] for key, found in items.items()}

    # The restarted sender, while the dead worker's lease still holds: the victim is left alone.
    recording = RecordingWebInbox(WebInboxSender(services))
    restarted = OutboxSender(services, [recording])
    services.clock = FixedClock(stuck.lease_until - timedelta(milliseconds=1))
    await restarted.drain()
    rows = await outbox_rows(services, ids)
    assert rows[victim].state == WorkState.CLAIMED
    assert victim not in recording.found and victim not in recording.delivered
    assert all(rows[i].state == WorkState.DONE for i in ids[first_unclaimed:])

    # Once the lease runs out, the victim (and any batch-mates left claimed) are finished.
    services.clock = FixedClock(stuck.lease_until + timedelta(milliseconds=1))
    await restarted.drain()

    rows = await outbox_rows(services, ids)
    items = await inbox_items_by_key(services)
    assert sum(len(found) for found in items.values()) == MESSAGES
    for message_id, row in rows.items():
        assert row.state == WorkState.DONE, (message_id, row.state, row.last_error)
        delivered = items.get(row.idempotency_key, [])
        assert len(delivered) == 1, f"message {message_id} has {len(delivered)} inbox items"
        assert delivered[0].person_id == row.person_id
        assert row.external_id == f"inbox:{delivered[0].id}"

    victim_row = rows[victim]
    assert victim_row.attempts == 2
    if crash == "after":
        # Recognised as already delivered: found by find_delivered, never delivered again,
        # and the inbox item is the one the dead process made.
        assert recording.found[victim] is True
        assert victim not in recording.delivered
        assert items[victim_key][0].id == landed_before_restart[victim_key][0]
    else:
        assert recording.found[victim] is False
        assert recording.delivered.count(victim) == 1


async def test_message_for_a_door_without_a_sender_is_dead_with_a_reason(
    services: Services,
) -> None:
    async with services.db.session() as session:
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
        assert tom is not None
        message = await enqueue(
            session,
            door=Door.SLACK,
            address="D0TOM",
            workspace_id="T0RIVERSIDE",
            payload=payload("A Slack message"),
            idempotency_key="no-sender:1",
            person_id=tom.id,
        )
        message_id = message.id

    finished = await OutboxSender(services, [WebInboxSender(services)]).drain()

    assert finished == 1
    row = (await outbox_rows(services, [message_id]))[message_id]
    assert row.state == WorkState.DEAD
    assert row.last_error == "no sender for door slack"
    assert row.sent_at is None and row.lease_until is None
    assert "no-sender:1" not in await inbox_items_by_key(services)


class RateLimitedPlatform:
    """A chat platform that always answers 429 with Retry-After: 30 (an external fake)."""

    door = Door.SLACK

    def __init__(self) -> None:
        self.calls = 0

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        return None

    async def deliver(self, message: OutboxMessage) -> Delivered:
        self.calls += 1
        raise RetryLater("Slack said 429 Too Many Requests", after_seconds=30)


async def test_retry_later_reschedules_then_gives_up_after_max_attempts(
    services: Services,
) -> None:
    start = datetime.now(UTC)
    async with services.db.session() as session:
        message = await enqueue(
            session,
            door=Door.SLACK,
            address="D0TOM",
            payload=payload("Rate limited"),
            idempotency_key="retry-later:1",
            not_before=start,
        )
        message_id = message.id
    clock = FixedClock(start)
    services.clock = clock
    platform = RateLimitedPlatform()
    sender = OutboxSender(services, [platform])
    max_attempts = services.settings.outbox_max_attempts
    assert max_attempts == 3

    for attempt in range(1, max_attempts):
        await sender.drain()
        row = (await outbox_rows(services, [message_id]))[message_id]
        assert row.state == WorkState.PENDING
        assert row.attempts == attempt
        assert row.next_attempt_at == clock.now() + timedelta(seconds=30)  # the Retry-After
        assert row.last_error == "Slack said 429 Too Many Requests"
        assert row.lease_until is None

        await sender.drain()  # not due yet: the platform is not asked again
        assert platform.calls == attempt
        clock.advance(timedelta(seconds=30))

    await sender.drain()
    row = (await outbox_rows(services, [message_id]))[message_id]
    assert row.state == WorkState.DEAD
    assert row.attempts == max_attempts
    assert row.last_error == "Slack said 429 Too Many Requests"
    assert platform.calls == max_attempts

    clock.advance(timedelta(hours=1))
    await sender.drain()
    assert platform.calls == max_attempts, "a dead message is never tried again"


async def test_enqueue_with_the_same_idempotency_key_twice_keeps_one_message(
    services: Services,
) -> None:
    async with services.db.session() as session:
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        assert grace is not None
        first = await enqueue_for_person(session, grace, payload("First"), "same-key")
        first_id = first.id
    async with services.db.session() as session:
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        assert grace is not None
        again = await enqueue_for_person(session, grace, payload("Second"), "same-key")
        assert again.id == first_id
    async with services.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == "same-key")
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].payload == payload("First")


async def test_delivered_message_shows_once_on_the_persons_inbox_page(
    services: Services, app_server: RunningApp, web_user: WebUser
) -> None:
    title = "Your quarterly check-in is due"
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/inbox")
    assert status == 200 and title not in text_of(html)

    async with services.db.session() as session:
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
        assert tom is not None
        await enqueue_for_person(session, tom, payload(title), "inbox-page:1")
    sender = OutboxSender(services, [WebInboxSender(services)])
    assert await sender.drain() == 1
    assert await sender.drain() == 0

    status, html = await web_user.get("/inbox")
    assert status == 200
    assert text_of(html).count(title) == 1

    other = WebUser(app_server.url)
    try:
        await other.sign_in_locally("Grace Lee")
        status, html = await other.get("/inbox")
        assert status == 200 and title not in text_of(html)
    finally:
        await other.close()

    async with services.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.idempotency_key == "inbox-page:1")
        )
    assert count == 1


@pytest.mark.parametrize("settings_overrides", [{"outbox_batch_size": 4}])
async def test_one_pass_works_through_a_backlog_but_a_kick_takes_one_batch(
    services: Services,
) -> None:
    """A fan-out (an engagement's invitations) goes at the platforms' pace, not one batch
    a tick; a person's action only starts a single batch beside the scheduled passes."""
    async with services.db.session() as session:
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
        assert tom is not None
        for n in range(10):
            await enqueue_for_person(session, tom, payload(f"Backlog {n}"), f"backlog:{n}")
    sender = OutboxSender(services, [WebInboxSender(services)])
    sender.kick()
    await sender.idle()
    assert len(await inbox_items_by_key(services)) == 4
    assert await sender.run_once() == 6
    assert len(await inbox_items_by_key(services)) == 10


class FirstTimeBusyPlatform:
    """A platform that asks Convene to wait the first time it is sent one message, and
    takes every other message at once: what a rate limit does to one message of a burst."""

    door = Door.SLACK

    def __init__(self, busy_key: str) -> None:
        self.busy_key = busy_key
        self.asked = False
        self.arrived: list[str] = []

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        return None

    async def deliver(self, message: OutboxMessage) -> Delivered:
        from bot.outbox.sender import Deferred

        if message.idempotency_key == self.busy_key and not self.asked:
            self.asked = True
            raise Deferred(5, "wait a moment")
        self.arrived.append(message.idempotency_key)
        return Delivered(external_id=message.idempotency_key)


async def test_a_message_told_to_wait_is_not_overtaken_by_the_rest_of_its_conversation(
    services: Services,
) -> None:
    """Before, the rest of a burst went on while one message waited, so it arrived last
    (seen as "07" after "29" in the Teams rate-limit test)."""
    start = datetime.now(UTC)
    keys = [f"burst:{n:02d}" for n in range(6)]
    async with services.db.session() as session:
        for key in keys:
            await enqueue(
                session,
                door=Door.SLACK,
                address="D0ONE",
                workspace_id="T1",
                payload=payload(key),
                idempotency_key=key,
                not_before=start,
            )
        await enqueue(  # another conversation is not held up
            session,
            door=Door.SLACK,
            address="D0OTHER",
            workspace_id="T1",
            payload=payload("other"),
            idempotency_key="other:1",
            not_before=start,
        )
    clock = FixedClock(start + timedelta(seconds=1))
    services.clock = clock
    platform = FirstTimeBusyPlatform(busy_key="burst:02")
    sender = OutboxSender(services, [platform])

    await sender.drain()
    assert [key for key in platform.arrived if key.startswith("burst:")] == keys[:2]
    assert "other:1" in platform.arrived, "another conversation is not held up"
    async with services.db.session() as session:
        held = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys[3:]))
            )
        ).all()
    assert {row.state for row in held} == {WorkState.PENDING}
    assert {row.attempts for row in held} == {0}, "not tried, so no attempt is used"

    clock.advance(timedelta(seconds=10))
    await sender.drain()
    conversation = [key for key in platform.arrived if key.startswith("burst:")]
    assert conversation == keys, "every message once, in the order it was queued"


@pytest.mark.parametrize("days", [-400, 400])
async def test_a_message_queued_under_a_moved_clock_is_sent_by_the_same_clock(
    services: Services, days: int
) -> None:
    """The outbox stamps a message with the app's clock, not the computer's: with the clock
    set a year back (as tests freeze it) or on, the sender using that clock finds it due."""
    moment = datetime.now(UTC) + timedelta(days=days)
    services.clock = FixedClock(moment)
    async with services.db.session() as session:
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        assert grace is not None
        queued = await enqueue_for_person(session, grace, payload("Moved"), f"moved:{days}")
    assert queued.next_attempt_at == moment and queued.created_at == moment
    sender = OutboxSender(services, [WebInboxSender(services)])
    assert await sender.drain() == 1
