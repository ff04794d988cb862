"""Fixtures for the Teams door: fake Bot Framework services on loopback, the real app aimed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.fake_botframework import FakeBotFramework
from tests.support.teams_activities import TeamsActivities


@pytest.fixture
async def fake_teams(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBotFramework]:
    # Its servers run on their own loop in a thread: botbuilder and MSAL block their caller.
    fake = await FakeBotFramework().start()
    for name, value in fake.trust_env.items():
        monkeypatch.setenv(name, value)
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides(fake_teams: FakeBotFramework) -> dict[str, object]:
    return {
        "microsoft_app_id": fake_teams.app_id,
        "microsoft_app_password": fake_teams.app_password,
        "microsoft_app_tenant_id": fake_teams.tenant_id,
        "teams_openid_metadata_url": fake_teams.openid_metadata_url,
        "teams_login_url": fake_teams.authority,
    }


@pytest.fixture
def activities(fake_teams: FakeBotFramework) -> TeamsActivities:
    return TeamsActivities.from_fake(fake_teams)
