"""Broken activities, floods of bad tokens, and a Teams door that must not be there.

A signed activity with a field missing, or of the wrong kind, gets 400 with a short
message in JSON and nothing is stored; but only after its token was checked, so a
caller without a good token still gets 401 and learns nothing. An address that sends
too many bad tokens gets 429 for a while, without any more of its tokens being
checked, and the log says so once a minute in our own words, never with the token.
With no Microsoft app id and a public address, there is no Teams endpoint at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import TEAMS, build_app, build_services
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.settings import load_settings
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import start_app
from tests.support.teams_activities import TeamsActivities
from tests.teams.conftest import TeamsClient, teams_settings
from tests.teams.helpers import posted, settle, stored_counts, text_of

Json = dict[str, Any]
LIMIT = 3  # bad tokens a minute per address, in these tests


@pytest.fixture
def settings_overrides(fake_teams: FakeBotFramework) -> dict[str, object]:
    return {**teams_settings(fake_teams), "bad_requests_per_minute": LIMIT}


def message(build: TeamsActivities) -> Json:
    return build.personal_message("help")


def card_execute(build: TeamsActivities) -> Json:
    return build.card_execute("form.next", {"_convene": {"response_id": 1}}, reply_to_id="1")


def card_submit(build: TeamsActivities) -> Json:
    return build.card_submit({"_convene": {"response_id": 1}}, reply_to_id="1")


KINDS: dict[str, Callable[[TeamsActivities], Json]] = {
    "message": message,
    "Action.Execute": card_execute,
    "Action.Submit": card_submit,
}


async def refused_unsigned_then_400(teams: TeamsClient, services: Services, activity: Json) -> Json:
    """Without a good token: 401. With one: 400 and a short reason. Nothing stored."""
    before = await stored_counts(services)
    unsigned = await teams.send(activity, token=teams.fake.issue_bad_token("wrong_key"))
    assert unsigned.status == 401, unsigned
    assert unsigned.body == {"error": "unauthorised"}

    signed = await teams.send(activity)
    assert signed.status == 400, signed
    assert isinstance(signed.body, dict) and set(signed.body) == {"error"}, signed.body
    reason = signed.body["error"]
    assert isinstance(reason, str) and 0 < len(reason) < 60, reason
    assert await stored_counts(services) == before, "a broken activity stores nothing"
    return signed.body


# --- 4. activities with a field missing or of the wrong kind -------------------------------


@pytest.mark.parametrize("field", ["type", "id", "from", "conversation", "recipient"])
@pytest.mark.parametrize("kind", list(KINDS))
async def test_an_activity_missing_a_field_gets_400_after_its_token_is_checked(
    kind: str, field: str, teams: TeamsClient, services: Services, sender: OutboxSender
) -> None:
    activity = KINDS[kind](teams.build)
    del activity[field]
    await refused_unsigned_then_400(teams, services, activity)
    await settle(sender)
    assert teams.fake.calls == [], "nothing sent"


WRONG: dict[str, tuple[Callable[[TeamsActivities], Json], str, Any, str]] = {
    "conversation is text": (message, "conversation", "a:1", "'conversation' must be an object."),
    "from is a list": (message, "from", ["29:1"], "'from' must be an object."),
    "text is a number": (message, "text", 42, "'text' must be text."),
    "id is a number": (message, "id", 7, "'id' must be text."),
    "recipient id is a number": (message, "recipient", {"id": 28}, "'recipient' has no id."),
    "entities is text": (message, "entities", "mention", "'entities' must be a list of objects."),
    "mention names nobody": (
        message,
        "entities",
        [{"type": "mention", "text": "<at>Convene</at>", "mentioned": "Convene"}],
        "'mentioned' must be an object.",
    ),
    "channelData is text": (message, "channelData", "tenant", "'channelData' must be an object."),
    "invoke value is text": (card_execute, "value", "form.next", "'value' must be an object."),
    "invoke name is a list": (
        card_execute,
        "name",
        ["adaptiveCard/action"],
        "'name' must be text.",
    ),
}


@pytest.mark.parametrize("case", list(WRONG))
async def test_a_field_of_the_wrong_kind_gets_400_never_500(
    case: str, teams: TeamsClient, services: Services
) -> None:
    build, field, value, reason = WRONG[case]
    activity = build(teams.build)
    activity[field] = value
    body = await refused_unsigned_then_400(teams, services, activity)
    assert body == {"error": reason}


async def test_updates_members_must_be_accounts(teams: TeamsClient, services: Services) -> None:
    install = teams.build.install(scope="groupChat")
    install["membersAdded"] = "everyone"
    assert await refused_unsigned_then_400(teams, services, install) == {
        "error": "'membersAdded' must be a list of objects."
    }
    install["membersAdded"] = [{"name": "no id"}]
    assert await refused_unsigned_then_400(teams, services, install) == {
        "error": "'membersAdded' has no id."
    }
    del install["conversation"]
    install["membersAdded"] = [{"id": teams.build.bot_id}]
    assert await refused_unsigned_then_400(teams, services, install) == {
        "error": "The activity has no 'conversation'."
    }


@pytest.mark.parametrize("name", [None, "task/fetch", "composeExtension/query"])
async def test_an_invoke_we_do_not_handle_is_acknowledged_not_501(
    name: str | None, teams: TeamsClient, services: Services
) -> None:
    """Teams retries a 5xx; an invoke Convene has no use for is simply acknowledged."""
    invoke = card_execute(teams.build)
    if name is None:
        del invoke["name"]
    else:
        invoke["name"] = name
    response = await teams.send(invoke)
    assert response.status == 200, response
    assert (await stored_counts(services))["events"] == 0


async def test_installs_without_an_id_are_each_welcomed_once(
    teams: TeamsClient, services: Services, sender: OutboxSender
) -> None:
    """Teams does not promise an id on conversation updates, so none is needed there; and
    two such installs, in two conversations, are two welcomes, not one."""
    installs = [teams.build.install(scope="groupChat"), teams.build.install(scope="team")]
    for install in installs:
        del install["id"]
        for _ in range(2):
            assert (await teams.send(install)).status == 200
    await settle(sender)
    for install in installs:
        shown = posted(teams.fake, install["conversation"]["id"])
        assert len(shown) == 1, install["conversation"]["id"]
        assert "Hello, I'm Convene" in text_of(shown[0])


async def test_a_mention_with_no_text_or_name_is_still_answered(
    teams: TeamsClient, sender: OutboxSender
) -> None:
    """botbuilder's mention remover failed on a mention naming the bot with no words."""
    group = teams.build.group_chat_message("help")
    group["entities"][0] = {"type": "mention", "mentioned": {"id": teams.build.bot_id}}
    group["text"] = "help"
    response = await teams.send(group)
    assert response.status == 200
    await settle(sender)
    shown = posted(teams.fake, group["conversation"]["id"])
    assert len(shown) == 1
    assert "What I can help with" in text_of(shown[0])


# --- 5. floods of bad tokens ---------------------------------------------------------------


async def test_an_address_with_too_many_bad_tokens_gets_429_without_more_checks(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flooder = {"X-Forwarded-For": "203.0.113.7"}  # through our own (trusted) proxy
    someone_else = {"X-Forwarded-For": "198.51.100.20"}
    bad = fake_teams.issue_bad_token("wrong_key")
    before = await stored_counts(services)

    with caplog.at_level(logging.INFO, logger="bot.teams.door"):
        answers = [
            (await teams.send(message(teams.build), token=bad, headers=flooder)).status
            for _ in range(LIMIT + 2)
        ]
        assert answers == [401] * LIMIT + [429, 429]

        # Past the allowance even a good token is not checked: the answer is 429 at once.
        good = await teams.send(message(teams.build), headers=flooder)
        assert good.status == 429, good
        assert 1 <= int(good.headers["Retry-After"]) <= 60
        assert await stored_counts(services) == before

        # Another address is not held back by it.
        other = await teams.send(message(teams.build), headers=someone_else)
        assert other.status == 200, other
        refused = await teams.send(message(teams.build), token=bad, headers=someone_else)
        assert refused.status == 401

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings.count("refused a Teams request with a bad token from 203.0.113.7") == 1
    assert warnings.count("too many bad Teams tokens; answering 429 from 203.0.113.7") == 1
    assert warnings.count("refused a Teams request with a bad token from 198.51.100.20") == 1
    said = "\n".join(r.getMessage() for r in caplog.records if r.name == "bot.teams.door")
    assert bad[-40:] not in caplog.text, "never the token"
    body = message(teams.build)
    assert body["conversation"]["id"] not in said and body["from"]["name"] not in said, (
        "never the body"
    )


async def test_missing_headers_count_as_bad_tokens(teams: TeamsClient) -> None:
    answers = [
        (await teams.send(message(teams.build), authorization=None)).status
        for _ in range(LIMIT + 1)
    ]
    assert answers == [401] * LIMIT + [429]


# --- 7. no app id and a public address: no Teams door ---------------------------------------


async def test_a_published_server_without_an_app_id_has_no_teams_door(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On loopback, but behind a public address: not a local trial, so Teams is off."""
    settings = load_settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        host="127.0.0.1",
        public_url="https://convene.example.org",
    )
    assert not settings.teams_authenticated
    assert not settings.teams_enabled
    built: Services = build_services(settings)
    app = build_app(built)
    assert TEAMS not in app
    running = await start_app(app)
    try:
        before = await stored_counts(built)
        activity = TeamsActivities().personal_message("help")
        for headers in ({}, {"Authorization": "Bearer anything"}):
            async with (
                aiohttp.ClientSession() as client,
                client.post(f"{running.url}/api/messages", json=activity, headers=headers) as r,
            ):
                assert r.status in (401, 404), r.status
        assert await stored_counts(built) == before, "nothing stored"
    finally:
        await running.stop()
        await built.db.dispose()
