"""The outbox delivering to Slack: what Slack's failures do to a queued message.

A revoked token will never work, so the message is dead at once with a reason a
person can read; a 429 is Slack asking us to wait, so it waits the `Retry-After`
without using up an attempt; a 500 is retried with backoff; and a message Slack
already has (the sender died before recording it) is found by its metadata key in
the conversation history and never posted twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.core.reply import Message, Notice, ReplyList, Section
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack.door import SlackDoor
from storage.models import Door, OutboxMessage, WorkState
from storage.outbox import enqueue
from tests.slack.helpers import eventually, outbox_rows
from tests.support.fake_slack import FakeSlack

USER = "U0001"


async def queue(services: Services, key: str, replies: list[object] | None = None) -> int:
    """Queue a DM to Tom the way handlers do, and return the row id."""
    payload = ReplyList(replies=replies or [Notice(text=f"Hello from {key}")])
    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.SLACK,
            address=USER,
            workspace_id="T0001",
            payload=payload.model_dump(mode="json"),
            idempotency_key=key,
        )
        return row.id


async def row(services: Services, row_id: int) -> OutboxMessage:
    async with services.db.session() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def make_due_now(services: Services, row_id: int) -> None:
    """Time passes: the row's wait is over (instead of sleeping through the backoff)."""
    async with services.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def posted_keys(fake: FakeSlack) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.delivered(USER)]


async def test_a_revoked_token_marks_the_message_dead(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender
) -> None:
    row_id = await queue(services, "test:revoked")
    fake_slack.revoke("xoxb-test")
    await sender.drain()
    dead = await row(services, row_id)
    assert dead.state == WorkState.DEAD
    assert dead.attempts == 1, "no pointless retries"
    assert dead.last_error is not None
    assert dead.last_error.startswith("Convene can no longer get into this Slack workspace")
    assert dead.last_error.endswith("(Slack said: invalid_auth)")
    assert fake_slack.delivered(USER) == []
    calls = len(fake_slack.calls)
    assert await sender.drain() == 0
    assert len(fake_slack.calls) == calls, "a dead message is not tried again"


async def test_a_429_defers_the_message_without_using_an_attempt(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender
) -> None:
    row_id = await queue(services, "test:ratelimited")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    before = datetime.now(UTC)
    await sender.drain()
    waiting = await row(services, row_id)
    assert waiting.state == WorkState.PENDING
    assert waiting.attempts == 0, "a 429 is not a failed attempt"
    assert waiting.next_attempt_at >= before + timedelta(seconds=1)
    assert "429" in (waiting.last_error or "")
    assert fake_slack.delivered(USER) == []

    async def delivered() -> bool:
        await sender.drain()
        return (await row(services, row_id)).state == WorkState.DONE

    await eventually(delivered, timeout=5)
    assert posted_keys(fake_slack) == ["test:ratelimited"]
    assert len(fake_slack.calls_to("chat.postMessage", failed=False)) == 1
    assert fake_slack.duplicates() == []


async def test_a_500_is_retried_with_backoff(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender
) -> None:
    row_id = await queue(services, "test:server-error")
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None)
    before = datetime.now(UTC)
    await sender.drain()
    retrying = await row(services, row_id)
    assert retrying.state == WorkState.PENDING
    assert retrying.attempts == 1
    assert retrying.last_error == "Slack answered 500"
    # Backoff after the first failure is between 1 and 2 seconds (jittered).
    assert before + timedelta(seconds=1) <= retrying.next_attempt_at
    assert retrying.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert await sender.drain() == 0, "not before the backoff is over"

    await make_due_now(services, row_id)
    await sender.drain()
    done = await row(services, row_id)
    assert (done.state, done.attempts) == (WorkState.DONE, 2)
    assert posted_keys(fake_slack) == ["test:server-error"]
    # The second attempt first asked Slack whether the first had landed after all.
    assert fake_slack.calls_to("conversations.history")


@pytest.mark.parametrize("left_as", ["pending", "claimed by a dead worker"])
async def test_a_message_slack_already_has_is_not_posted_again(
    left_as: str,
    fake_slack: FakeSlack,
    services: Services,
    sender: OutboxSender,
    door: SlackDoor,
) -> None:
    row_id = await queue(services, "test:crash")
    # The sender delivered it, then died before recording that it had.
    delivered = await door.sender.deliver(await row(services, row_id))
    assert posted_keys(fake_slack) == ["test:crash"]
    now = datetime.now(UTC)
    values: dict[str, object] = {"attempts": 1, "next_attempt_at": now - timedelta(seconds=1)}
    if left_as == "pending":
        values.update(state=WorkState.PENDING)
    else:
        values.update(
            state=WorkState.CLAIMED,
            claimed_by="crashed-host:1",
            lease_until=now - timedelta(seconds=1),
        )
    async with services.db.session() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        )

    assert await sender.drain() == 1
    done = await row(services, row_id)
    assert done.state == WorkState.DONE
    assert done.external_id == delivered.external_id
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert fake_slack.duplicates() == []
    history = fake_slack.calls_to("conversations.history")
    assert history and history[-1].body["channel"] == "DU0001"


async def test_a_long_message_is_split_and_a_retry_posts_only_the_missing_part(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender
) -> None:
    """Slack allows 50 blocks a message. If Slack rate-limits the second part, the retry
    finds the first part by its metadata and posts only the second."""
    sections = [Section(heading=f"Item {n}", text=f"Details of item {n}.") for n in range(70)]
    row_id = await queue(services, "test:long", [Message(title="A long list", sections=sections)])
    fake_slack.enforce_rate_limits(per_channel_per_second=1.0, channel_burst=1)
    await sender.drain()
    assert [m["metadata"]["event_payload"]["part"] for m in fake_slack.delivered(USER)] == [0]
    assert (await row(services, row_id)).state == WorkState.PENDING

    async def delivered() -> bool:
        await sender.drain()
        return (await row(services, row_id)).state == WorkState.DONE

    await eventually(delivered, timeout=5)
    parts = fake_slack.delivered(USER)
    assert [m["metadata"]["event_payload"]["part"] for m in parts] == [0, 1]
    assert all(len(m["blocks"]) <= 50 for m in parts)
    assert len(fake_slack.calls_to("chat.postMessage", failed=False)) == 2
    assert [r.state for r in await outbox_rows(services)] == [WorkState.DONE]
