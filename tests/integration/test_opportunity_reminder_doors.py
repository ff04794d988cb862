"""A deadline reminder over real HTTP on every door: Tom (Slack), Amina (Teams) and Grace
(web) said their organisations are interested; on the 14-day morning the due sweep queues
the reminder and the app's own outbox sender delivers it to each door, with the deadline in
full and the calendar button, as valid Block Kit and Adaptive Cards.

The opportunity is posted and interest registered on the in-process door (their own door
tests are in test_opportunity_doors.py); the point here is the reminder's delivery.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.app import SENDER
from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.features.opportunity_story import NOW, TITLE, post
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.doors import chat_door_settings, flatten, link_teams, person_id
from tests.support.engagements import SlackPerson, TeamsPerson, inbox_payloads, rows_like
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.inprocess import TestDoor
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.teams.conftest import CardLog, card_problems

SLACK_SECRET = "test-signing-secret"
TOM_SLACK = "U0001"
AMINA = TeamsUser(
    id="29:1AminaB3gum7Qx5vWz0pLmN2rStUvXy98765ZyXwVuTsRqPoNmLkJi",
    name="Amina Begum",
    aad_object_id="a31a0000-0000-4000-8000-00000000a5a4",
)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


async def test_a_deadline_reminder_reaches_every_door(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
) -> None:
    sender: OutboxSender = app_server.runner.app[SENDER]
    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    assert "What I can help with" in await tom.say("help")
    amina_id = await person_id(services, "amina@ashacentre.example")
    grace_id = await person_id(services, "grace@eastgatekitchen.example")
    await link_teams(services, amina_id, fake_teams, AMINA)
    amina = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )
    assert "What I can help with" in flatten(await amina.say("help"))

    door = TestDoor(services)
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    # Bids close Tuesday 26 May 2026 at 5pm, the day after a bank holiday.
    n = await post(priya, submission_deadline="2026-05-26", clarification_deadline="2026-05-01")
    await priya.say(f"opportunities publish {n}")
    for name in ("Tom Okafor", "Amina Begum", "Grace Lee"):
        provider = await door.sign_in(name)
        await provider.say(f"opportunities interest {n}")
    await settle(sender)  # the announcements go first

    door.advance(
        datetime.combine(date(2026, 5, 12), time(10), tzinfo=LONDON).astimezone(UTC) - door.now()
    )
    assert await door.sweep() == 1
    rows = await rows_like(services, f"opportunity:{n}:reminder:14_days:%")
    assert {str(r.door) for r in rows} == {"slack", "teams", "web"}
    await settle(sender)

    by_door = {str(r.door): r.idempotency_key for r in rows}
    shown = {
        "slack": tom.read(by_door["slack"]),
        "teams": amina.read(by_door["teams"]),
        "web": flatten(await inbox_payloads(services, grace_id, by_door["web"])),
    }
    for where, text in shown.items():
        assert f"Deadline reminder: {TITLE}" in text, where
        assert "Tuesday 26 May 2026, 5pm" in text, where
        assert "Add the deadline to my calendar" in text, where
    slack_buttons = [
        element.get("value")
        for message in tom.messages(by_door["slack"])
        for block in message.get("blocks") or []
        for element in block.get("elements") or []
    ]
    assert any(f"calendar {n}" in str(value) for value in slack_buttons), slack_buttons

    problems = block_kit_problems(BlockKitLog(fakes=[fake_slack]))
    problems += card_problems(CardLog(fakes=[fake_teams], returned=[]))
    assert problems == []
