"""Several workspaces: uninstalling forgets a workspace's installation, installing again
brings it back.

When a council's Slack admin removes Convene, Slack sends `app_uninstalled`: Convene
deletes that workspace's stored installation (its bot token is dead anyway), remembers
the removal, and gives up the messages waiting for that workspace with a reason. If the
admin installs Convene again, the removal is forgotten and an admin can try those
messages again from the Deliveries page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, text, update
from yarl import URL

from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack.sender import REMOVED
from bot.turns import DATABASE_DOWN
from storage.models import Door, OutboxMessage, WorkspaceLink, WorkState
from storage.outbox import enqueue
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.helpers import eventually
from tests.support.fake_slack import FakeSlack
from tests.support.rows import outbox_row
from tests.support.servers import RunningApp

TEAM = "T0002"


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_client_id": "1111.2222",
        "slack_client_secret": "client-secret-for-tests",
        "slack_api_url": fake_slack.url,
        "slack_authorize_url": f"{fake_slack.url}oauth/v2/authorize",
        "slack_channel_per_second": 1000.0,
    }


@pytest.fixture
async def browser(app_server: RunningApp) -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(app_server.url)])
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def install(
    app_server: RunningApp, browser: aiohttp.ClientSession, fake: FakeSlack, code: str
) -> None:
    """A Slack admin installs Convene from /slack/install and approves it on Slack."""
    async with browser.get(f"{app_server.url}/slack/install", allow_redirects=False) as resp:
        state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    fake.add_oauth_code(code, TEAM, f"xoxb-{code}", "U0100", team_name="Riverside Council")
    async with browser.get(
        f"{app_server.url}/slack/oauth_redirect", params={"code": code, "state": state}
    ) as resp:
        assert resp.status == 200


async def bots(services: Services) -> int:
    async with services.db.session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM slack_bots WHERE team_id = :t"), {"t": TEAM}
        )
        return int(found or 0)


async def removed_at(services: Services) -> object:
    async with services.db.session() as session:
        link = await session.scalar(select(WorkspaceLink).where(WorkspaceLink.workspace_id == TEAM))
        assert link is not None
        return link.removed_at


async def test_uninstalling_forgets_the_workspace_and_installing_again_brings_it_back(
    app_server: RunningApp,
    browser: aiohttp.ClientSession,
    fake_slack: FakeSlack,
    services: Services,
    slack: SlackPoster,
    sender: OutboxSender,
) -> None:
    await install(app_server, browser, fake_slack, "first")
    assert await bots(services) == 1 and await removed_at(services) is None

    status, _ = await slack.event({"type": "app_uninstalled"}, team_id=TEAM, event_id="EvGone")
    assert status == 200
    assert await bots(services) == 0, "the installation was deleted"
    assert await removed_at(services) is not None

    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.SLACK,
            address="U0100",
            workspace_id=TEAM,
            payload=ReplyList(replies=[Notice(text="Hello again")]).model_dump(mode="json"),
            idempotency_key="test:while-removed",
        )
    await sender.drain()
    dead = await outbox_row(services, row.id)
    assert (dead.state, dead.last_error) == (WorkState.DEAD, REMOVED)
    assert not fake_slack.calls_to("chat.postMessage")

    await install(app_server, browser, fake_slack, "second")
    assert await removed_at(services) is None
    async with services.db.session() as session:  # an admin presses "Try again"
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(state=WorkState.PENDING, attempts=0)
        )
    await sender.drain()
    assert (await outbox_row(services, row.id)).state == WorkState.DONE
    assert [c.token for c in fake_slack.calls_to("chat.postMessage")] == ["xoxb-second"]


async def test_a_workspace_s_installation_that_can_t_be_read_is_told_plainly(
    app_server: RunningApp,
    browser: aiohttp.ClientSession,
    fake_slack: FakeSlack,
    services: Services,
    slack: SlackPoster,
) -> None:
    """With several workspaces, Bolt reads the workspace's installation before a listener
    runs. If the database fails there, the person still hears why, in time."""
    await install(app_server, browser, fake_slack, "third")
    fake_slack.add_user(TEAM, "U0100", "Tom Okafor", email="tom@riversideyouth.example")
    async with services.db.engine.begin() as connection:
        for table in ("slack_bots", "slack_installations"):
            await connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        status, _ = await slack.command(
            "help", user_id="U0100", team_id=TEAM, response_url=fake_slack.response_url("i")
        )
        assert status == 200
        said = await eventually(lambda: fake_slack.responses.get("i"))
        assert said[-1]["text"] == DATABASE_DOWN
        status, _ = await slack.event(
            {"type": "app_home_opened", "user": "U0100", "tab": "home"},
            team_id=TEAM,
            event_id="EvNoInstall",
        )
        assert status == 503
    finally:
        async with services.db.engine.begin() as connection:
            for table in ("slack_bots", "slack_installations"):
                await connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
