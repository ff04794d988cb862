"""Finding partners over real HTTP on every door: Tom posts "looking for partners" from the
web form; Amina, in Teams, sees the post without his name and asks to talk; Tom, in Slack,
is asked without her name and says yes; then each gets the other's contact details on their
own door, through the outbox. Grace, whom the opportunity does not fit, sees nothing, and on
the web a link alone changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import SENDER
from bot.core.areas import code_for_words
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import Authority
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.partner_tables import PartnerIntroduction, PartnerPost
from tests.integration.test_opportunity_doors import (
    AMINA,
    TOM_SLACK,
    OpportunityBrowser,
    person_id,
)
from tests.slack.conftest import SlackPoster
from tests.support.doors import chat_door_settings, flatten, link_teams
from tests.support.engagements import SlackPerson, TeamsPerson, inbox_payloads
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities
from tests.support.web import WebUser, text_of

BRINGS = "Youth workers who know the Preston estates"
NEEDS = "Counsellors who take referrals"


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


@pytest.fixture
async def browsers(app_server: RunningApp) -> AsyncIterator[dict[str, WebUser]]:
    users = {name: WebUser(app_server.url) for name in ("Tom Okafor", "Grace Lee")}
    yield users
    for user in users.values():
        await user.close()


async def open_opportunity(services: Services) -> int:
    """An open opportunity for young people's mental health in Preston (set up directly:
    posting one is tests/integration/test_opportunity_doors.py's point)."""
    preston, _ = code_for_words("Preston")
    assert preston is not None
    now = services.clock.now()
    async with services.db.session() as session:
        council = await session.scalar(select(Authority))
        assert council is not None
        opportunity = Opportunity(
            authority_id=council.id,
            title="Youth mental health in Preston",
            purpose="Help young people feel better, sooner.",
            service_areas=["children_young_people", "mental_health"],
            area_served=[preston],
            submission_deadline=now + timedelta(weeks=8),
            partners_wanted=True,
            state=OpportunityState.OPEN,
            published_at=now,
        )
        session.add(opportunity)
        await session.flush()
        return opportunity.id


async def test_partners_meet_only_when_both_say_yes_on_every_door(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    browsers: dict[str, WebUser],
) -> None:
    sender: OutboxSender = app_server.runner.app[SENDER]
    n = await open_opportunity(services)
    tom_web = OpportunityBrowser(browsers["Tom Okafor"])
    grace = OpportunityBrowser(browsers["Grace Lee"])
    await tom_web.user.sign_in_locally("Tom Okafor")
    await grace.user.sign_in_locally("Grace Lee")

    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    assert "What I can help with" in await tom.say("help")
    amina_id = await person_id(services, "amina@ashacentre.example")
    await link_teams(services, amina_id, fake_teams, AMINA)
    amina = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )

    # --- Tom posts from the web form, with an error on the way -----------------------------
    html = await tom_web.open(f"partners {n}")
    assert "Looking for partners" in text_of(html)
    status, html = await tom_web.send_page(html, 0, {"brings": BRINGS, "needs": ""}, "submit")
    assert status == 422 and "Enter an answer to 'What do you need from a partner?'" in text_of(
        html
    )
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PartnerPost)) == 0
    status, html = await tom_web.send_page(html, 0, {"brings": BRINGS, "needs": NEEDS}, "submit")
    assert status == 200 and "Your post is up" in text_of(html), text_of(html)
    async with services.db.session() as session:
        post = await session.scalar(select(PartnerPost))
    assert post is not None

    # --- Amina, in Teams, sees it without a name and asks to talk -------------------------
    seen = flatten(await amina.say(f"opportunities partnering {n}"))
    assert BRINGS in seen and "Riverside Youth Trust" not in seen, seen
    asked = flatten(await amina.say(f"opportunities talk {post.id}"))
    assert "without telling them who you are" in asked, asked

    # --- Tom, in Slack, is asked without her name, and says yes ---------------------------
    async with services.db.session() as session:
        introduction = await session.scalar(select(PartnerIntroduction))
    assert introduction is not None
    asking = tom.read(
        f"partners:{introduction.id}:asked:{await person_id(services, 'tom@riversideyouth.example')}"
    )
    assert "would like to talk" in asking and "Asha" not in asking
    said = await tom.say(f"opportunities agree {introduction.id}")
    assert "You can now talk with Asha Women's Centre" in said, said
    await settle(sender)

    # --- each gets the other's details on their own door ----------------------------------
    tom_id = await person_id(services, "tom@riversideyouth.example")
    told_tom = tom.read(f"partners:{introduction.id}:introduced:{post.organisation_id}:{tom_id}")
    assert "amina@ashacentre.example" in told_tom
    amina_key = [
        key
        for key in (
            f"partners:{introduction.id}:introduced:{org}:{amina_id}"
            for org in (introduction.first_organisation_id, introduction.second_organisation_id)
        )
        if amina.with_key(key)
    ]
    assert len(amina_key) == 1
    assert "tom@riversideyouth.example" in amina.read(amina_key[0])

    # --- Grace, whom it does not fit, sees nothing; a link alone changes nothing ----------
    page = text_of(await grace.open(f"partnering {n}"))
    assert "Only providers this opportunity fits" in page and BRINGS not in page
    assert "Please confirm" in text_of(await grace.open(f"talk {post.id}"))
    refused = text_of(await grace.confirm(f"talk {post.id}"))
    assert "Only providers this opportunity fits" in refused
    assert not await inbox_payloads(services, amina_id, "partners:")  # Teams, not the web
