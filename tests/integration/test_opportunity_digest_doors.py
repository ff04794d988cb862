"""The weekly digest over real HTTP on the chat doors: Tom (Slack) and Amina (Teams) chose a
weekly digest on Wednesdays. On Wednesday the due sweep's job queues one digest each, and
the app's own outbox sender delivers it to Slack and Teams as valid Block Kit and an
Adaptive Card, listing the opportunity with its deadline in full and a button to open it.
A second run adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import SENDER
from bot.clock import LONDON, format_when
from bot.core.clock import FixedClock
from bot.core.quiet_hours import HowOften, Preferences
from bot.outbox.sender import OutboxSender
from bot.scheduler import DueSweep
from bot.services import Services
from handlers import reminder_handlers
from storage.digests import ensure_digest_job
from storage.models import Authority
from storage.notification_preferences import save_preferences
from storage.opportunity_tables import Opportunity, OpportunityState
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.areas import codes
from tests.support.doors import chat_door_settings, flatten, link_teams, person_id
from tests.support.engagements import SlackPerson, TeamsPerson, rows_like
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
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
#: Wednesday 16 December 2026, 10am in London.
WEDNESDAY_10AM = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)
TITLE = "Young people's mental health in Preston"


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


async def test_weekly_digests_reach_slack_and_teams_on_their_day(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
) -> None:
    services.clock = FixedClock(WEDNESDAY_10AM)
    sender: OutboxSender = app_server.runner.app[SENDER]
    tom_id = await person_id(services, "tom@riversideyouth.example")
    amina_id = await person_id(services, "amina@ashacentre.example")
    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    assert "What I can help with" in await tom.say("help")
    await link_teams(services, amina_id, fake_teams, AMINA)
    amina = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )
    assert "What I can help with" in flatten(await amina.say("help"))

    weekly = Preferences(opportunities=HowOften.WEEKLY, digest_weekday=2)
    now = services.clock.now()
    deadline = now + timedelta(weeks=8)
    async with services.db.session() as session:
        for person in (tom_id, amina_id):
            await save_preferences(session, person, weekly, now)
        council = await session.scalar(select(Authority))
        assert council is not None
        opportunity = Opportunity(
            authority_id=council.id,
            title=TITLE,
            purpose="Help young people feel better, sooner.",
            service_areas=["children_young_people", "mental_health"],
            area_served=codes("Preston"),
            state=OpportunityState.OPEN,
            published_at=now - timedelta(days=2),
            submission_deadline=deadline,
        )
        session.add(opportunity)
        await ensure_digest_job(session, now)
    n = opportunity.id

    assert await DueSweep(services, reminder_handlers()).run_once() == 1
    await settle(sender)
    rows = await rows_like(services, "opportunity-digest:%")
    assert {(r.person_id, str(r.door)) for r in rows} == {(tom_id, "slack"), (amina_id, "teams")}
    keys = {str(r.door): r.idempotency_key for r in rows}
    shown = {"slack": tom.read(keys["slack"]), "teams": amina.read(keys["teams"])}
    for door, text in shown.items():
        assert "New opportunities for you this week" in text, door
        assert TITLE in text and format_when(deadline, LONDON) in text, door
        assert f"show {n}" in text, door  # the button that opens it

    # The next hour's run adds nothing: one digest each this week.
    services.clock = FixedClock(WEDNESDAY_10AM + timedelta(hours=1))
    assert await DueSweep(services, reminder_handlers()).run_once() == 1
    await settle(sender)
    assert len(await rows_like(services, "opportunity-digest:%")) == 2

    problems = block_kit_problems(BlockKitLog(fakes=[fake_slack]))
    problems += card_problems(CardLog(fakes=[fake_teams], returned=[]))
    assert problems == []
