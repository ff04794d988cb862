"""A locked database: Slack still hears from us within its 3 seconds.

Another program holds the database's write lock (SQLite's, or on PostgreSQL every table
locked against writing, which still lets people read). Every wait for it is bounded
(`database_timeout_seconds`), so a slash command is acknowledged at once and the person
is told plainly, through the response URL, that the database can't be reached; and an
event is answered 503 in time, so Slack sends it again later, when it is handled.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.turns import DATABASE_DOWN
from storage.models import Base, ProcessedEvent
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.helpers import count, eventually, settle
from tests.slack.test_slack_hardening_events import dm, retry
from tests.support.fake_slack import FakeSlack

NEWCOMER = "U0099"
SLACK_WAITS = 3.0


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": "xoxb-test",
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
        "database_timeout_seconds": 1.0,
    }


@asynccontextmanager
async def locked(database_url: str) -> AsyncIterator[None]:
    """Hold the database's write lock, as a long job or a stuck program would."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database or "", timeout=0)
        holder.isolation_level = None
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def test_a_command_is_acknowledged_and_the_person_told_plainly(
    slack: SlackPoster, fake_slack: FakeSlack, database_url: str
) -> None:
    """A newcomer must be written down before anything else: with the database locked,
    they hear that it can't be reached, not that Convene doesn't know who they are."""
    fake_slack.add_user("T0001", NEWCOMER, "Nia Newcomer", email="nia@example.org")
    async with locked(database_url):
        started = time.monotonic()
        status, _ = await slack.command(
            "help", user_id=NEWCOMER, response_url=fake_slack.response_url("down")
        )
        assert status == 200
        assert time.monotonic() - started < SLACK_WAITS
        said = await eventually(lambda: fake_slack.responses.get("down"), timeout=SLACK_WAITS)
        assert said[-1]["text"] == DATABASE_DOWN
        assert time.monotonic() - started < SLACK_WAITS
    status, _ = await slack.command(
        "help", user_id=NEWCOMER, response_url=fake_slack.response_url("up")
    )
    assert status == 200
    said = await eventually(lambda: fake_slack.responses.get("up"))
    assert said[-1]["text"] != DATABASE_DOWN


@pytest.mark.parametrize("who", ["tom", "a newcomer"])
async def test_an_event_gets_503_in_time_and_is_handled_when_sent_again(
    who: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
    services: Services,
    sender: OutboxSender,
    database_url: str,
) -> None:
    user = tom if who == "tom" else NEWCOMER
    fake_slack.add_user("T0001", NEWCOMER, "Nia Newcomer", email="nia@example.org")
    event = dm("help", user)
    async with locked(database_url):
        started = time.monotonic()
        status, _ = await slack.event(event, event_id="EvLocked")
        assert status == 503
        assert time.monotonic() - started < SLACK_WAITS
    assert await count(services, ProcessedEvent) == 0

    status, _ = await slack.event(event, event_id="EvLocked", headers=retry(1))
    assert status == 200
    await settle(sender)
    assert len(fake_slack.delivered(user)) == 1
