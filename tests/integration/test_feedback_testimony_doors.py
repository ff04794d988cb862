"""Testimony from Slack and Teams, over real HTTP against the fakes: someone sends a voice
note (only the service may hear it) and a photo the council may quote on the public page;
Tom, the provider, in Slack sees both under their entries with download links on the web
and his own "with help" link; Priya, the council, in Teams sees only the photo."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import SENDER
from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.features.test_agreement_monitoring import make_agreement
from tests.features.test_feedback_points import set_up_point
from tests.integration.test_feedback_doors import PRIYA
from tests.integration.test_feedback_testimony_web import PHOTO_WITH_GPS, send_with_file
from tests.integration.test_feedback_web import Visitor
from tests.integration.test_opportunity_doors import TOM_SLACK
from tests.slack.conftest import SlackPoster
from tests.support import evidence_files as f
from tests.support.doors import chat_door_settings, flatten, link_teams
from tests.support.engagements import SlackPerson, TeamsPerson
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return {
        **chat_door_settings(fake_slack, fake_teams),
        "suppression_minimum": 1,
        "upload_max_bytes": 64 * 1024,
    }


@pytest.fixture
async def visitor(app_server: RunningApp) -> AsyncIterator[Visitor]:
    person = Visitor(app_server.url)
    yield person
    await person.client.close()


async def test_owners_see_testimony_from_slack_and_teams_as_consent_allows(
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
    status, _, _ = await send_with_file(
        visitor, point.slug, ("note.ogg", f.OGG, "audio/ogg"), helping="yes", service_may_see="yes"
    )
    assert status == 200
    status, _, _ = await send_with_file(
        visitor,
        point.slug,
        ("garden.jpg", PHOTO_WITH_GPS, "image/jpeg"),
        helping="yes",
        service_may_see="yes",
        council_may_quote="yes",
    )
    assert status == 200

    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    said = await tom.say(f"feedback show {point.id}")
    assert "A voice note (1 KB): only the service may see or hear it." in said, said
    assert "A photo (1 KB): the council may quote it without a name." in said
    assert "Help someone give feedback" in said

    await link_teams(services, await door.person_id("Priya Shah"), fake_teams, PRIYA)
    priya = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, PRIYA
    )
    shown = flatten(await priya.say(f"feedback show {point.id}"))
    assert "A photo (1 KB): the council may quote it without a name." in shown, shown
    assert "voice note" not in shown.lower()
