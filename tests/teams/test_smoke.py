"""A first pass through the Teams door over real HTTP, with real JWT checks."""

from __future__ import annotations

from bot.app import SENDER
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities


async def test_help_in_personal_chat_reaches_the_connector(
    app_server: RunningApp, fake_teams: FakeBotFramework, activities: TeamsActivities
) -> None:
    activity = activities.personal_message("help")
    response = await fake_teams.send_to_bot(f"{app_server.url}/api/messages", activity)
    assert response.status == 200, response
    await app_server.runner.app[SENDER].idle()
    await app_server.runner.app[SENDER].drain()
    sent = fake_teams.activities_in(activity["conversation"]["id"])
    assert sent, fake_teams.calls
    assert "What I can help with" in str(sent[-1])


async def test_bad_tokens_get_401(
    app_server: RunningApp, fake_teams: FakeBotFramework, activities: TeamsActivities
) -> None:
    activity = activities.personal_message("help")
    url = f"{app_server.url}/api/messages"
    for kind in ("expired", "wrong_audience", "wrong_key", "unknown_kid"):
        response = await fake_teams.send_to_bot(
            url, activity, token=fake_teams.issue_bad_token(kind)
        )
        assert response.status == 401, (kind, response)
    response = await fake_teams.send_to_bot(url, activity, authorization=None)
    assert response.status == 401
