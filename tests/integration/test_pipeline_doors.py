"""The pipeline and the open data links on the chat doors, over real HTTP: Tom reads the
council's plans in Slack and Amina in Teams (with the plain note that plans can change),
both see the opportunity's "Open data (OCDS)" link, and Slack's report of a pressed link
is answered quietly. Everything they are given is valid Block Kit and Adaptive Cards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import SENDER
from bot.clock import LONDON, format_date
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import ChatIdentity, Door
from tests.features.opportunity_story import post
from tests.integration.test_opportunity_doors import AMINA, TOM_SLACK, person_id
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.doors import chat_door_settings, flatten
from tests.support.engagements import SlackPerson, TeamsPerson
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.slack_signing import block_actions_payload
from tests.support.teams_activities import TeamsActivities
from tests.teams.conftest import CardLog, card_problems


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


async def test_providers_read_the_pipeline_and_find_the_open_data_in_slack_and_teams(
    services: Services,
    door: TestDoor,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
) -> None:
    # The app's own clock: the chat doors queue their replies at the real time.
    today = services.clock.now().astimezone(LONDON).date()
    planned = today + timedelta(days=60)
    priya = await door.sign_in("Priya Shah")
    await priya.fill(
        "pipeline plan",
        {
            0: {
                "title": "Youth clubs in Preston",
                "value_max": "£60,000",
                "route": "grant",
                "publication_on": planned.isoformat(),
            }
        },
    )
    await priya.say("pipeline publish")
    opportunity = await post(
        priya,
        submission_deadline=(today + timedelta(weeks=8)).isoformat(),
        clarification_deadline=(today + timedelta(weeks=6)).isoformat(),
    )
    await priya.say(f"opportunities publish {opportunity}")

    sender: OutboxSender = app_server.runner.app[SENDER]
    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    async with services.db.session() as session:
        session.add(
            ChatIdentity(
                person_id=await person_id(services, "amina@ashacentre.example"),
                platform=Door.TEAMS,
                workspace_id=fake_teams.tenant_id,
                user_id=AMINA.aad_object_id,
            )
        )
    amina = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )

    in_slack = await tom.say("pipeline")
    in_teams = flatten(await amina.say("pipeline"))
    for text in (in_slack, in_teams):
        assert "Riverside Borough Council: Youth clubs in Preston" in text, text
        assert format_date(planned) in text and "Plans can change" in text

    link = f"/opportunities/{opportunity}/ocds.json"
    assert link in await tom.say(f"opportunities show {opportunity}")
    assert link in flatten(await amina.say(f"opportunities show {opportunity}"))

    status, _ = await slack_poster.interact(
        block_actions_payload("opendata.link", user_id=TOM_SLACK)
    )
    assert status == 200

    problems = block_kit_problems(BlockKitLog(fakes=[fake_slack]))
    problems += card_problems(CardLog(fakes=[fake_teams], returned=[]))
    assert problems == []
