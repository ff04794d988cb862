"""Answers from the Bot Connector that are not JSON: a failed call, never a crash.

Between Convene and Teams there can be a proxy or a load balancer, and they answer in
their own way: an HTML page for a 502, plain text for a 405, even an HTML page with a
200. The outbox judges each by its status like any other answer (tried again later,
or dead when it can never work), with a reason a person can read, and the message is
delivered once when Teams answers properly again. A `Retry-After` that is a date, or
nonsense, is read as well as it can be.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import Door, WorkState
from storage.outbox import enqueue
from tests.support.fake_botframework import FakeBotFramework, idempotency_key
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import eventually, make_due_now, outbox_row, posted, settle

HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


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
    """Alice has talked to the bot, so her conversation reference is stored."""
    await teams.say("help")
    await settle(sender)
    return teams.build.personal_conversation_id()


def arrived(fake: FakeBotFramework, conversation: str, key: str) -> int:
    return [idempotency_key(a) for a in posted(fake, conversation)].count(key)


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Tracebacks the outbox logged for a message: what an unexpected answer used to give."""
    return [r.getMessage() for r in caplog.records if r.exc_info and r.name.startswith("bot.")]


FAILED_CALLS = {
    "an HTML 502": (502, HTML_PAGE, "text/html", "Teams answered 502"),
    "a text 405": (405, "Method Not Allowed", "text/plain", "Teams answered 405"),
    "an HTML page with 200": (
        200,
        HTML_PAGE,
        "text/html",
        "Teams answered 200, but not with JSON we can read",
    ),
    "a JSON list with 201": (
        201,
        "[1, 2]",
        "application/json",
        "Teams answered 201, but not with JSON we can read",
    ),
}


@pytest.mark.parametrize("case", list(FAILED_CALLS))
async def test_an_answer_that_is_not_json_is_a_failed_call_tried_again(
    case: str,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    status, body, content_type, reason = FAILED_CALLS[case]
    row_id = await queue(services, teams, "test:raw")
    fake_teams.fail_next(
        "send", status=status, retry_after=None, raw_body=body, content_type=content_type
    )
    with caplog.at_level(logging.INFO):
        await sender.drain()
    failed = await outbox_row(services, row_id)
    assert (failed.state, failed.attempts) == (WorkState.PENDING, 1)
    assert failed.last_error == reason
    assert crashes(caplog) == []

    await make_due_now(services, row_id)
    await sender.drain()
    done = await outbox_row(services, row_id)
    assert (done.state, done.attempts) == (WorkState.DONE, 2)
    assert arrived(fake_teams, chat, "test:raw") == 1
    assert fake_teams.duplicates() == []


async def test_an_html_404_is_dead_at_once(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    row_id = await queue(services, teams, "test:html404")
    fake_teams.fail_next("send", status=404, retry_after=None, raw_body="<h1>Not Found</h1>")
    with caplog.at_level(logging.INFO):
        await sender.drain()
    dead = await outbox_row(services, row_id)
    assert (dead.state, dead.attempts) == (WorkState.DEAD, 1)
    assert dead.last_error == (
        "Teams answered 404: the conversation is gone or Convene was removed from it"
    )
    assert crashes(caplog) == []


@pytest.mark.parametrize("header", ["soon", "in a bit", "nan", "-5"])
async def test_a_429_with_a_retry_after_that_makes_no_sense_waits_a_second(
    header: str,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    row_id = await queue(services, teams, "test:odd429")
    fake_teams.fail_next("send", status=429, retry_after=header, raw_body="Too Many Requests")
    with caplog.at_level(logging.INFO):
        await sender.drain()
    waiting = await outbox_row(services, row_id)
    assert (waiting.state, waiting.attempts) == (WorkState.PENDING, 0), "not a failed attempt"
    assert waiting.last_error == "Teams asked us to slow down (429)"
    assert waiting.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert crashes(caplog) == []

    async def delivered() -> bool:
        await sender.drain()
        return (await outbox_row(services, row_id)).state == WorkState.DONE

    await eventually(delivered, timeout=5)
    assert arrived(fake_teams, chat, "test:odd429") == 1


async def test_a_429_with_a_date_waits_until_then(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    chat: str,
) -> None:
    row_id = await queue(services, teams, "test:date429")
    later = datetime.now(UTC) + timedelta(seconds=30)
    fake_teams.fail_next("send", status=429, retry_after=format_datetime(later, usegmt=True))
    await sender.drain()
    waiting = await outbox_row(services, row_id)
    assert (waiting.state, waiting.attempts) == (WorkState.PENDING, 0)
    assert waiting.next_attempt_at >= later - timedelta(seconds=2)
    assert waiting.next_attempt_at <= later + timedelta(seconds=2)
