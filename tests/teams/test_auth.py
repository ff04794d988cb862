"""Every request to /api/messages must carry a JWT that the Bot Framework signed for us.

A bad one gets 401 (a bare botbuilder CloudAdapter answers 500 to most of these,
which Teams treats as "try again"), and nothing is stored: no person, no
conversation reference, no processed-event row, no outbox row, nothing sent.
Each case sends a message, a card action and an install, then the same activities
with a good token, to show the refusal was about the token and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import build_app, build_services
from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import free_port, start_app
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import settle, stored_counts

BAD_TOKENS = [
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "wrong_key",
    "unknown_kid",
    "missing_serviceurl",
    "mismatched_serviceurl",
]
BAD_HEADERS: dict[str, str | None] = {
    "missing header": None,
    "Bearer with nothing": "Bearer ",
    "Bearer, no space": "Bearer",
    "garbage": "Bearer garbage",
    "three dots": "Bearer a.b.c",
    "Basic": "Basic dXNlcjpwYXNz",
}


def three_activities(teams: TeamsClient) -> list[dict[str, Any]]:
    """A message, a card action and an install: every kind of activity that stores something."""
    return [
        teams.build.personal_message("help"),
        teams.build.card_execute(
            "form.next", {"_convene": {"response_id": 1, "page": 0}}, reply_to_id="1"
        ),
        teams.build.install(scope="groupChat"),
    ]


async def refused_then_accepted(
    teams: TeamsClient,
    fake: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    **how: Any,
) -> None:
    before = await stored_counts(services)
    for activity in three_activities(teams):
        response = await teams.send(activity, **how)
        assert response.status == 401, (activity["type"], response)
        assert response.body == {"error": "unauthorised"}, "no detail for an attacker"
    await settle(sender)
    assert await stored_counts(services) == before, "a refused request stores nothing"
    assert fake.calls == [], "and sends nothing"

    # The same activities, signed properly, are accepted: it was the token.
    for activity in three_activities(teams):
        response = await teams.send(activity)
        assert response.status == 200, (activity["type"], response)
    after = await stored_counts(services)
    assert after["people"] == before["people"] + 1
    assert after["conversations"] == before["conversations"] + 2
    assert after["events"] == before["events"] + 2


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_a_bad_token_gets_401_and_stores_nothing(
    kind: Any,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
) -> None:
    await refused_then_accepted(
        teams, fake_teams, services, sender, token=fake_teams.issue_bad_token(kind)
    )


@pytest.mark.parametrize("header", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
async def test_a_bad_authorization_header_gets_401_and_stores_nothing(
    header: str | None,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
) -> None:
    await refused_then_accepted(teams, fake_teams, services, sender, authorization=header)


async def test_a_token_for_another_bot_gets_401(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    """Signed by the Bot Framework, but for a different app id."""
    token = fake_teams.issue_token("22222222-0000-4000-8000-00000000beef")
    await refused_then_accepted(teams, fake_teams, services, sender, token=token)


async def test_a_channel_the_key_is_not_endorsed_for_gets_401(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services
) -> None:
    """botbuilder raises a plain Exception here; a bare adapter answers 500."""
    before = await stored_counts(services)
    activity = teams.build.personal_message("help")
    activity["channelId"] = "carrierpigeon"
    response = await teams.send(activity)
    assert response.status == 401, response
    assert await stored_counts(services) == before


async def test_unreachable_signing_keys_get_503_so_teams_retries(
    services: Services, fake_teams: FakeBotFramework, teams: TeamsClient
) -> None:
    """If we cannot fetch the keys we cannot judge the token: not 401, and nothing stored."""
    settings = services.settings.model_copy(
        update={
            "teams_openid_metadata_url": (
                f"http://127.0.0.1:{free_port()}/v1/.well-known/openidconfiguration"
            )
        }
    )
    blind = build_services(settings)
    app = await start_app(build_app(blind))
    try:
        before = await stored_counts(services)
        other = TeamsClient(app.url, fake_teams, teams.build, teams.log)
        response = await other.send(teams.build.personal_message("help"))
        assert response.status == 503, response
        assert await stored_counts(services) == before
    finally:
        await app.stop()


async def test_a_good_token_replayed_elsewhere_is_checked_again(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services
) -> None:
    """Verified tokens are remembered for their lifetime, but only for what was verified:
    the same token on another channel or for another service URL gets the full check."""
    token = fake_teams.issue_token()
    first = teams.build.personal_message("help")
    assert (await teams.send(first, token=token)).status == 200
    again = teams.build.personal_message("help")
    assert (await teams.send(again, token=token)).status == 200, "the channel reuses tokens"

    before = await stored_counts(services)
    other_channel = teams.build.personal_message("help")
    other_channel["channelId"] = "carrierpigeon"
    assert (await teams.send(other_channel, token=token)).status == 401

    other_service = teams.build.personal_message("help")
    other_service["serviceUrl"] = "https://smba.trafficmanager.net/emea/"
    assert (await teams.send(other_service, token=token)).status == 401
    assert await stored_counts(services) == before
