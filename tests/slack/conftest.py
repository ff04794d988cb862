"""Fixtures for the Slack door: a fake Slack Web API on loopback and the real app pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import sign

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": "xoxb-test",
        "slack_api_url": fake_slack.url,
    }


class SlackPoster:
    """Posts signed requests to /slack/events like Slack does."""

    def __init__(self, base_url: str, secret: str = SIGNING_SECRET) -> None:
        self.url = f"{base_url}/slack/events"
        self.secret = secret
        self.client = aiohttp.ClientSession()

    async def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        signed = sign(self.secret, body, timestamp)
        signed["Content-Type"] = content_type
        signed.update(headers or {})
        async with self.client.post(self.url, data=body, headers=signed) as resp:
            return resp.status, await resp.text()

    async def close(self) -> None:
        await self.client.close()


@pytest.fixture
async def slack(app_server) -> AsyncIterator[SlackPoster]:  # type: ignore[no-untyped-def]
    poster = SlackPoster(app_server.url)
    yield poster
    await poster.close()
