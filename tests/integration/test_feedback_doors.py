"""Feedback owner steps from Slack and Teams, over real HTTP against the fakes: Tom, in
Slack, reads what people said on his point's public page, and is sent a message about harm
in his Slack DM through the outbox, with personal details removed; Priya, in Teams, sees
the point in her council's list with the count held back below the minimum, and closes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import SENDER
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from tests.features.test_agreement_monitoring import make_agreement
from tests.features.test_feedback_points import set_up_point
from tests.integration.test_feedback_web import Visitor
from tests.integration.test_opportunity_doors import TOM_SLACK
from tests.slack.conftest import SlackPoster
from tests.support.doors import chat_door_settings, flatten, link_teams
from tests.support.engagements import SlackPerson, TeamsPerson
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.inprocess import TestDoor
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities, TeamsUser

PRIYA = TeamsUser(
    id="29:1PriyaSh4hFeedbackTestUser000000000000000000000000000",
    name="Priya Shah",
    aad_object_id="b42b0000-0000-4000-8000-0000000b42b0",
)


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


@pytest.fixture
async def visitor(app_server: RunningApp) -> AsyncIterator[Visitor]:
    person = Visitor(app_server.url)
    yield person
    await person.client.close()


async def test_owners_read_and_close_feedback_from_slack_and_teams(
    door: TestDoor,
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    visitor: Visitor,
) -> None:
    sender: OutboxSender = app_server.runner.app[SENDER]
    point = await set_up_point(door, await door.sign_in("Tom Okafor"), await make_agreement(door))

    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    assert "Preston youth club" in await tom.say("feedback")

    status, _, _ = await visitor.send(
        point.slug, helping="no", anything_else="Nobody listens. Text me on 07700 900123."
    )
    assert status == 200
    said = await tom.say(f"feedback show {point.id}")
    assert "Nobody listens. Text me on [removed]." in said and "07700" not in said
    assert "never used in a contract" in said

    status, _, _ = await visitor.send(point.slug, anything_else="My brother hits me.")
    assert status == 200
    async with services.db.session() as session:
        flagged = await session.scalar(select(FeedbackEntry).where(FeedbackEntry.safeguarding))
    assert flagged is not None
    await settle(sender)
    tom_id = await door.person_id("Tom Okafor")
    told = tom.read(f"feedback:{flagged.id}:safeguarding:{tom_id}")
    assert "Safeguarding" in told and "My brother hits me." in told

    await link_teams(services, await door.person_id("Priya Shah"), fake_teams, PRIYA)
    priya = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, PRIYA
    )
    listed = flatten(await priya.say("feedback"))
    assert "Preston youth club" in listed and "Fewer than 5" in listed, listed
    closed = flatten(await priya.say(f"feedback close {point.id}"))
    assert "Closed Preston youth club" in closed, closed
    async with services.db.session() as session:
        assert (await session.get(FeedbackPoint, point.id)).state == "closed"  # type: ignore[union-attr]
