"""Logs that follow one person's journey without giving anything away, and metrics that
count exactly what happened.

Everything goes over real HTTP: the real app on loopback (with `convene serve`'s access
log), signed Slack requests, and the fake Slack Web API the app sends to.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_app, build_services
from bot.core.reply import Notice, ReplyList
from bot.observability.logs import make_handler
from bot.observability.requests import ACCESS_LOGGER, AccessLogger
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.settings import load_settings
from bot.web.auth import create_sign_in_link
from storage.models import Door, OutboxMessage, Person, Reminder, WorkState
from storage.outbox import enqueue
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackPoster
from tests.slack.helpers import eventually, outbox_rows, settle
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp, free_port, start_app
from tests.support.slack_signing import VERIFICATION_TOKEN
from tests.support.web import WebUser

METRICS_TOKEN = "scrape-token-for-tests-0123456789"
DM_CHANNEL = "DU0001"


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
        "metrics": True,
        "metrics_token": METRICS_TOKEN,
    }


@pytest.fixture
async def app_server(services: Services) -> AsyncIterator[RunningApp]:
    """The app as `convene serve` runs it: with its own access log (route, not path)."""
    runner = web.AppRunner(
        build_app(services), access_log_class=AccessLogger, access_log=ACCESS_LOGGER
    )
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield RunningApp(runner=runner, url=f"http://127.0.0.1:{port}")
    await runner.cleanup()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log line at INFO and above, as `CONVENE_LOG_FORMAT=json` writes it."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def dm(slack: SlackPoster, text: str, event_id: str, request_id: str) -> None:
    event = {
        "type": "message",
        "channel": DM_CHANNEL,
        "channel_type": "im",
        "user": "U0001",
        "text": text,
        "ts": f"{time.time():.6f}",
    }
    status, _ = await slack.event(event, event_id=event_id, headers={"X-Request-Id": request_id})
    assert status == 200


async def test_logs_follow_a_journey_and_never_hold_a_secret(
    services: Services,
    app_server: RunningApp,
    slack: SlackPoster,
    sender: OutboxSender,
    fake_slack: FakeSlack,
    tom: str,
    json_log: io.StringIO,
) -> None:
    # A sign-in link, opened and used.
    async with services.db.session() as session:
        person = await session.scalar(select(Person.id).where(Person.name == "Priya Shah"))
        assert person is not None
        link_token = await create_sign_in_link(
            session, person, now=services.clock.now(), ttl=timedelta(hours=1)
        )
    user = WebUser(app_server.url)
    try:
        status, _ = await user.use_sign_in_link(link_token)
        assert status == 200
        cookie = user.session_cookie()
        assert cookie, "signed in: the browser holds a session cookie"
        status, _ = await user.get("/inbox")
        assert status == 200
    finally:
        await user.close()

    # A Slack command (its body carries Slack's verification token) and a DM with words in it.
    status, _ = await slack.command("help")
    assert status == 200
    words = "Our treasurer is Mrs Jane Quibble-Ferndale and the bank PIN is 4417"
    await dm(slack, words, "EvJourney0001", "journey-7f3a")
    key = "slack:event:EvJourney0001"

    async def queued() -> list[OutboxMessage]:
        return [r for r in await outbox_rows(services) if r.idempotency_key == key]

    rows = await eventually(queued)
    await settle(sender)
    assert rows[0].payload["request_id"] == "journey-7f3a", "the message remembers its request"
    replies = [m for m in fake_slack.delivered(tom) if m["metadata"]["event_payload"]["key"] == key]
    assert len(replies) == 1
    reply_text = replies[0]["text"]
    assert len(reply_text) > 20, "Convene answered in words"

    lines = lines_of(json_log)
    text = json_log.getvalue()
    assert lines, "the app logged something"
    for secret in (
        link_token,
        cookie,
        BOT_TOKEN,
        SIGNING_SECRET,
        VERIFICATION_TOKEN,
        METRICS_TOKEN,
        "Quibble-Ferndale",
        "4417",
        # The longest run of plain words in Convene's reply (JSON escapes quotes).
        max(re.findall(r"[A-Za-z ]{12,}", reply_text), key=len),
    ):
        assert secret not in text, f"{secret!r} is in the log"

    # The DM's journey: its request's access line and its message's send carry the same id.
    journey = [line for line in lines if line.get("request_id") == "journey-7f3a"]
    assert any(
        line["logger"] == "convene.access" and line["route"] == "/slack/events" for line in journey
    ), journey
    sent = [line for line in journey if line.get("result") == "sent"]
    assert len(sent) == 1, journey
    assert sent[0]["door"] == "slack"
    assert sent[0]["outbox_id"] == rows[0].id
    # The sign-in link's access lines name the route, not the token.
    assert any(line.get("route") == "/signin/{token}" for line in lines)
    # Every line is one JSON object with the time and level.
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)


async def test_request_ids_are_echoed_and_only_sane_ones_kept(app_server: RunningApp) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(
            app_server.url + "/healthz", headers={"X-Request-Id": "proxy-abc.123"}
        ) as resp:
            assert resp.headers["X-Request-Id"] == "proxy-abc.123"
        for bad in ("x" * 200, "bad id with spaces", "<script>"):
            async with client.get(
                app_server.url + "/no-such-page", headers={"X-Request-Id": bad}
            ) as resp:
                made = resp.headers["X-Request-Id"]
                assert resp.status == 404
                assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)
        async with (
            client.get(app_server.url + "/privacy") as first,
            client.get(app_server.url + "/privacy") as second,
        ):
            assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


# --- metrics --------------------------------------------------------------------------------


async def scrape(url: str, token: str | None = METRICS_TOKEN) -> tuple[int, dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as client,
        client.get(url + "/metrics", headers=headers) as resp,
    ):
        body = await resp.text()
    if resp.status != 200:
        return resp.status, {}
    samples: dict[str, float] = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return resp.status, samples


async def test_metrics_count_a_known_workload_exactly(
    services: Services,
    app_server: RunningApp,
    slack: SlackPoster,
    sender: OutboxSender,
    fake_slack: FakeSlack,
    tom: str,
) -> None:
    assert (await scrape(app_server.url, token=None))[0] == 401, "no token, no metrics"
    assert (await scrape(app_server.url, token="wrong"))[0] == 401

    async with aiohttp.ClientSession() as client:
        for _ in range(3):
            async with client.get(app_server.url + "/privacy") as resp:
                assert resp.status == 200
        async with client.get(app_server.url + "/no-such-page") as resp:
            assert resp.status == 404
    for _ in range(2):
        status, _ = await slack.command("help")
        assert status == 200
    await settle(sender)

    # A message queued a while ago, that Slack answers 429 once and then takes.
    queued_at = services.clock.now() - timedelta(seconds=90)
    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.SLACK,
            address=tom,
            workspace_id="T0001",
            payload=ReplyList(replies=[Notice(text="Hello")]).model_dump(mode="json"),
            idempotency_key="test:metrics",
        )
        await session.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.id == row.id)
            .values(created_at=queued_at)
        )
        # A reminder due five minutes ago that the sweep (off in tests) has not handled.
        session.add(
            Reminder(
                kind="test-kind",
                due_at=services.clock.now() - timedelta(minutes=5),
                state=WorkState.PENDING,
                target_type="test",
                target_id="metrics",
            )
        )
    before = (await scrape(app_server.url))[1]
    assert before["convene_outbox_depth"] >= 1
    assert before["convene_outbox_oldest_age_seconds"] >= 90
    assert before["convene_sweep_lag_seconds"] >= 300

    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await sender.drain()
    async with services.db.session() as session:
        await session.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.id == row.id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await sender.drain()
    async with services.db.session() as session:
        done = await session.get(OutboxMessage, row.id)
        assert done is not None and done.state == WorkState.DONE

    status, after = await scrape(app_server.url)
    assert status == 200
    requests = {k: v for k, v in after.items() if k.startswith("convene_requests_total")}
    assert requests == {
        'convene_requests_total{door="web",status="200"}': 3,
        'convene_requests_total{door="web",status="404"}': 1,
        'convene_requests_total{door="slack",status="200"}': 2,
    }, "scrapes (and refused scrapes) are not counted"
    assert after['convene_request_seconds_count{door="web"}'] == 4
    assert after['convene_request_seconds_count{door="slack"}'] == 2
    sends = {k: v for k, v in after.items() if k.startswith("convene_outbox_sends_total")}
    assert sends == {
        'convene_outbox_sends_total{door="slack",result="429"}': 1,
        'convene_outbox_sends_total{door="slack",result="sent"}': 1,
    }
    assert after["convene_outbox_depth"] == before["convene_outbox_depth"] - 1
    assert after["convene_sweep_lag_seconds"] >= 300
    assert after["convene_metrics_database_read"] == 1
    assert after["convene_db_pool_size"] >= 1
    assert "convene_db_pool_checked_out" in after


async def test_metrics_still_answer_when_the_database_is_away() -> None:
    settings = load_settings(
        database_url="postgresql+asyncpg://convene:hunter2@127.0.0.1:1/convene",
        secret_key="test-secret-key",
        scheduler_enabled=False,
        metrics=True,
    )
    running = await start_app(build_app(build_services(settings)))
    try:
        status, samples = await scrape(running.url, token=None)
        assert status == 200
        assert samples["convene_metrics_database_read"] == 0
        assert "convene_requests_total" not in " ".join(samples), "nothing counted yet"
    finally:
        await running.stop()
