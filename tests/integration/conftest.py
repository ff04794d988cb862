"""Fakes for the chat platforms, for integration tests that use more than one door.

A test module turns them on by asking for them in its `settings_overrides` (see
`tests.support.doors.chat_door_settings`); nothing else here changes any test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import SENDER
from tests.slack.conftest import SlackPoster
from tests.support.doors import SLACK_SECRET
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_teams(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBotFramework]:
    """A fake Bot Framework; its signing keys are trusted through the environment."""
    fake = await FakeBotFramework().start()
    for name, value in fake.trust_env.items():
        monkeypatch.setenv(name, value)
    yield fake
    await fake.stop()


@pytest.fixture
async def slack_poster(app_server: RunningApp) -> AsyncIterator[SlackPoster]:
    """Signed Slack requests to the app under test; waits for its sends when done."""
    poster = SlackPoster(app_server.url, SLACK_SECRET)
    yield poster
    await poster.close()
    await app_server.runner.app[SENDER].idle()
