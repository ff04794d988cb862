"""Installing Convene into another workspace with OAuth (several-workspace mode).

A council's Slack admin visits /slack/install, approves on Slack, and comes back to
/slack/oauth_redirect with a code. Convene swaps the code for a bot token (at the
fake's oauth.v2.access), stores the installation in its own database, links the
workspace, and from then on answers that workspace with that workspace's token.
The state parameter (and its browser cookie) stops someone else's code being
planted on an admin; an unknown state installs nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, text
from yarl import URL

from bot.services import Services
from storage.models import WorkspaceLink
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.helpers import eventually
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp
from tests.support.web import text_of

TEAM = "T0002"
BOT_TOKEN = "xoxb-riverside-council"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    """Client id and secret instead of a bot token: installs are stored per workspace."""
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
    """An admin's browser: keeps cookies, and (like browsers) treats loopback as secure,
    so Bolt's `Secure` state cookie comes back."""
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(app_server.url)])
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def stored(services: Services) -> dict[str, int]:
    async with services.db.session() as session:
        counts = {}
        for table in ("slack_installations", "slack_bots", "workspace_links"):
            counts[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
        return counts


async def test_install_round_trip_then_the_workspace_is_answered_with_its_token(
    app_server: RunningApp,
    browser: aiohttp.ClientSession,
    fake_slack: FakeSlack,
    services: Services,
    slack: SlackPoster,
) -> None:
    async with browser.get(f"{app_server.url}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith(f"{fake_slack.url}oauth/v2/authorize?")
    query = parse_qs(urlsplit(location).query)
    state = query["state"][0]
    assert query["client_id"] == ["1111.2222"]
    assert "chat:write" in query["scope"][0].split(",")
    assert any(c.key == STATE_COOKIE for c in browser.cookie_jar)

    # The admin approves on Slack, which sends the browser back with a code.
    fake_slack.add_oauth_code("code-1", TEAM, BOT_TOKEN, "U0100", team_name="Riverside Council")
    async with browser.get(
        f"{app_server.url}/slack/oauth_redirect", params={"code": "code-1", "state": state}
    ) as resp:
        assert resp.status == 200
        page = text_of(await resp.text())
    assert "Convene is installed" in page
    assert "Riverside Council" in page
    exchange = fake_slack.calls_to("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].body["client_id"] == "1111.2222"

    async with services.db.session() as session:
        bot = (
            await session.execute(
                text("SELECT team_id, bot_token FROM slack_bots WHERE team_id = :t"), {"t": TEAM}
            )
        ).one()
        assert tuple(bot) == (TEAM, BOT_TOKEN)
        installation = (
            await session.execute(
                text("SELECT team_id, team_name FROM slack_installations WHERE team_id = :t"),
                {"t": TEAM},
            )
        ).one()
        assert tuple(installation) == (TEAM, "Riverside Council")
        link = await session.scalar(select(WorkspaceLink).where(WorkspaceLink.workspace_id == TEAM))
        assert link is not None and link.platform == "slack" and link.name == "Riverside Council"

    # Tom, in the newly installed workspace, opens his profile: every call uses its token.
    fake_slack.add_user(TEAM, "U0100", "Tom Okafor", email="tom@riversideyouth.example")
    status, _ = await slack.command(
        "profile", user_id="U0100", team_id=TEAM, trigger_id="trigger.installed"
    )
    assert status == 200
    await eventually(lambda: fake_slack.calls_to("views.update"))
    for method in ("users.info", "views.open", "views.update"):
        calls = fake_slack.calls_to(method)
        assert calls, method
        assert {c.token for c in calls} == {BOT_TOKEN}, method
        assert all(not c.error for c in calls), method
    update = fake_slack.calls_to("views.update")[-1]
    assert update.body["view"]["callback_id"] == "convene_form"


async def test_an_unknown_state_installs_nothing(
    app_server: RunningApp,
    browser: aiohttp.ClientSession,
    fake_slack: FakeSlack,
    services: Services,
) -> None:
    before = await stored(services)
    fake_slack.add_oauth_code("code-2", TEAM, BOT_TOKEN, "U0100", team_name="Riverside Council")
    # The browser even carries a cookie matching the state: only our state store can vouch.
    browser.cookie_jar.update_cookies({STATE_COOKIE: "made-up-state"}, URL(app_server.url))
    async with browser.get(
        f"{app_server.url}/slack/oauth_redirect",
        params={"code": "code-2", "state": "made-up-state"},
    ) as resp:
        assert 400 <= resp.status < 500
        page = text_of(await resp.text())
    assert "Convene could not be installed" in page
    assert not fake_slack.calls_to("oauth.v2.access"), "the code was never exchanged"
    assert (
        await stored(services)
        == before
        == {
            "slack_installations": 0,
            "slack_bots": 0,
            "workspace_links": 0,
        }
    )
