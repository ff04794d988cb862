"""Local trials without an Azure bot registration: no MICROSOFT_APP_ID, loopback only.

Bound to 127.0.0.1, /api/messages accepts requests without a token (as the Bot
Framework Emulator sends them), and replies go to the caller's service URL without
one. Bound to 0.0.0.0 with no app id, the endpoint is not there at all: an open
door nobody checks must never be reachable from another machine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import SENDER, TEAMS, build_app, build_services
from bot.services import Services
from bot.settings import load_settings
from storage.models import ChatIdentity, TeamsConversation
from tests.support.servers import RunningApp, start_app
from tests.support.teams_activities import TeamsActivities
from tests.teams.helpers import count, settle, text_of

Json = dict[str, Any]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No Microsoft app id: local, unauthenticated mode (the default host is 127.0.0.1)."""
    return {}


class Emulator:
    """The connector side of the Bot Framework Emulator: takes replies without a token."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None, Json]] = []
        self.running: RunningApp | None = None

    async def start(self) -> Emulator:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        self.running = await start_app(app)
        return self

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(
            (request.match_info["cid"], request.headers.get("Authorization"), body)
        )
        return web.json_response({"id": str(len(self.received))}, status=201)

    @property
    def service_url(self) -> str:
        assert self.running is not None
        return f"{self.running.url}/"

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    found = await Emulator().start()
    yield found
    await found.stop()


async def post(url: str, activity: Json, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, json=activity, headers=headers or {}) as response,
    ):
        return response.status


async def test_on_loopback_without_an_app_id_requests_need_no_token(
    app_server: RunningApp, services: Services, emulator: Emulator
) -> None:
    assert not services.settings.teams_authenticated
    assert TEAMS in app_server.runner.app
    activities = TeamsActivities(service_url=emulator.service_url)
    activity = activities.personal_message("help")

    status = await post(f"{app_server.url}/api/messages", activity)
    assert status == 200
    await settle(app_server.runner.app[SENDER])

    assert len(emulator.received) == 1
    conversation, authorization, reply = emulator.received[0]
    assert conversation == activity["conversation"]["id"]
    assert authorization is None, "no token to send in local mode"
    card = reply["attachments"][0]["content"]
    assert "What I can help with" in text_of(card)
    assert await count(services, ChatIdentity) == 1
    assert await count(services, TeamsConversation) == 1


async def test_a_public_address_without_an_app_id_has_no_teams_endpoint(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        host="0.0.0.0",
    )
    assert not settings.teams_enabled
    built: Services = build_services(settings)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        app = build_app(built)
    assert "Teams is off" in caplog.text
    assert TEAMS not in app

    running = await start_app(app)  # on loopback, so the test can reach it
    try:
        activity = TeamsActivities().personal_message("help")
        assert await post(f"{running.url}/api/messages", activity) == 404
        assert (
            await post(
                f"{running.url}/api/messages", activity, {"Authorization": "Bearer anything"}
            )
            == 404
        )
        async with aiohttp.ClientSession() as client, client.get(f"{running.url}/healthz") as r:
            assert r.status == 200, "the rest of the service is up"
    finally:
        await running.stop()
