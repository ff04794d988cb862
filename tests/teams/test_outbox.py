"""The outbox delivering to Teams: what the Bot Connector's answers do to a queued message.

A 429 is Teams asking us to wait: the message waits at least `Retry-After` without
using up an attempt. 412, 502 and 504 are passing trouble: retried with backoff.
A deleted conversation (404) or a bot that was blocked or removed (403) will never
work, so the message is dead at once with a reason a person can read. Under Teams'
own rate limits (7 a second per conversation), 30 messages all arrive, once each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import Door, OutboxMessage, WorkState
from storage.outbox import enqueue
from tests.support.fake_botframework import FakeBotFramework, idempotency_key
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import eventually, make_due_now, outbox_row, posted, settle


async def queue(services: Services, teams: TeamsClient, key: str) -> int:
    """Queue a message to Alice's personal chat the way handlers do; return the row id."""
    payload = ReplyList(replies=[Notice(text=f"Hello from {key}")])
    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.TEAMS,
            address=teams.build.personal_conversation_id(),
            workspace_id=teams.build.tenant_id,
            payload=payload.model_dump(mode="json"),
            idempotency_key=key,
        )
        return row.id


@pytest.fixture
async def chat(teams: TeamsClient, sender: OutboxSender) -> str:
    """Alice has talked to the bot, so her conversation reference is stored. Returns its id."""
    await teams.say("help")
    await settle(sender)
    conversation = teams.build.personal_conversation_id()
    assert len(posted(teams.fake, conversation)) == 1
    return conversation


def keys_in(fake: FakeBotFramework, conversation: str) -> list[str | None]:
    return [idempotency_key(a) for a in posted(fake, conversation)]


async def test_a_429_defers_without_using_an_attempt_then_delivers_once(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    row_id = await queue(services, teams, "test:429")
    fake_teams.fail_next("send", status=429, retry_after=1)
    before = datetime.now(UTC)
    await sender.drain()

    waiting = await outbox_row(services, row_id)
    assert waiting.state == WorkState.PENDING
    assert waiting.attempts == 0, "a 429 is not a failed attempt"
    assert waiting.next_attempt_at >= before + timedelta(seconds=1)
    assert "429" in (waiting.last_error or "")
    assert "test:429" not in keys_in(fake_teams, chat)
    assert await sender.drain() == 0, "not before Retry-After"

    async def delivered() -> bool:
        await sender.drain()
        return (await outbox_row(services, row_id)).state == WorkState.DONE

    await eventually(delivered, timeout=5)
    assert keys_in(fake_teams, chat).count("test:429") == 1
    sends = [
        c for c in fake_teams.calls_of("send") if c.body and idempotency_key(c.body) == "test:429"
    ]
    assert [c.status for c in sends] == [429, 201]
    assert fake_teams.duplicates() == []


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_passing_trouble_is_retried_with_backoff(
    status: int,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    row_id = await queue(services, teams, f"test:{status}")
    fake_teams.fail_next("send", status=status, retry_after=None, times=2)

    before = datetime.now(UTC)
    await sender.drain()
    first = await outbox_row(services, row_id)
    assert first.state == WorkState.PENDING
    assert first.attempts == 1
    assert first.last_error == f"Teams answered {status}"
    # Backoff after the first failure is between 1 and 2 seconds (jittered).
    assert before + timedelta(seconds=1) <= first.next_attempt_at
    assert first.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert await sender.drain() == 0, "not before the backoff is over"

    await make_due_now(services, row_id)
    moment = datetime.now(UTC)
    await sender.drain()
    second = await outbox_row(services, row_id)
    assert (second.state, second.attempts) == (WorkState.PENDING, 2)
    assert second.next_attempt_at >= moment + timedelta(seconds=1), "waits again"

    await make_due_now(services, row_id)
    await sender.drain()
    done = await outbox_row(services, row_id)
    assert (done.state, done.attempts) == (WorkState.DONE, 3)
    assert keys_in(fake_teams, chat).count(f"test:{status}") == 1
    assert fake_teams.duplicates() == []


async def test_a_deleted_conversation_is_dead_at_once(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    row_id = await queue(services, teams, "test:404")
    fake_teams.delete_conversation(chat)
    await sender.drain()
    dead = await outbox_row(services, row_id)
    assert dead.state == WorkState.DEAD
    assert dead.attempts == 1, "no pointless retries"
    assert dead.last_error == (
        "Teams answered 404: the conversation is gone or Convene was removed from it"
    )
    calls = len(fake_teams.calls)
    await make_due_now(services, row_id)
    assert await sender.drain() == 0
    assert len(fake_teams.calls) == calls, "a dead message is not tried again"


async def test_a_blocked_bot_is_dead_at_once(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    row_id = await queue(services, teams, "test:403")
    fake_teams.block_conversation(chat)
    await sender.drain()
    dead = await outbox_row(services, row_id)
    assert (dead.state, dead.attempts) == (WorkState.DEAD, 1)
    assert dead.last_error is not None and dead.last_error.startswith("Teams answered 403")
    assert "test:403" not in keys_in(fake_teams, chat)


async def test_thirty_messages_under_teams_rate_limits_all_arrive_once(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    fake_teams.enforce_rate_limits(7, 50)
    keys = [f"test:burst:{n:02d}" for n in range(30)]
    row_ids = [await queue(services, teams, key) for key in keys]

    async def all_sent() -> bool:
        await sender.drain()
        async with services.db.session() as session:
            states = [(await session.get(OutboxMessage, i)).state for i in row_ids]  # type: ignore[union-attr]
        assert WorkState.DEAD not in states
        return all(s == WorkState.DONE for s in states)

    await eventually(all_sent, timeout=20, interval=0.1)
    arrived = keys_in(fake_teams, chat)[1:]
    assert arrived == keys, "every message, once, in the order it was queued: " + " ".join(
        k[-2:] for k in arrived
    )
    refused = [c for c in fake_teams.calls if c.status == 429]
    assert len(refused) <= 3, f"Teams refused {len(refused)} sends with 429"
    assert fake_teams.duplicates() == []
