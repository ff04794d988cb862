"""An opportunity over real HTTP on every door: Priya posts and publishes it on the web; the
three providers it fits are told at the same moment, each on their own door (Tom in Slack,
Amina in Teams, Grace on the web), and each says "we're interested" from there.

Everything goes through the running app: signed Slack events with the app calling a fake
Slack Web API, JWT-signed Teams activities with replies to a fake Bot Connector, and a
browser session for the web. Messages leave through the app's own outbox sender.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select

from bot.app import SENDER
from bot.clock import LONDON, format_when
from bot.core.clock import FixedClock
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import ChatIdentity, Door
from storage.opportunity_tables import Opportunity, OpportunityInterest
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.doors import chat_door_settings, flatten, person_id
from tests.support.engagements import Browser, SlackPerson, TeamsPerson, inbox_payloads, rows_like
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import WebUser, text_of
from tests.teams.conftest import CardLog, card_problems

SLACK_SECRET = "test-signing-secret"
TOM_SLACK = "U0001"
AMINA = TeamsUser(
    id="29:1AminaB3gum7Qx5vWz0pLmN2rStUvXy98765ZyXwVuTsRqPoNmLkJi",
    name="Amina Begum",
    aad_object_id="a31a0000-0000-4000-8000-00000000a5a4",
)
TITLE = "Family support in Preston and Burnley"


@pytest.fixture(autouse=True)
def working_hours(services: Services) -> None:
    """Wednesday 16 December 2026, 10am in London: messages go at once (in the evening they
    wait for the morning, as people's quiet hours say), whatever time the suite runs."""
    services.clock = FixedClock(datetime(2026, 12, 16, 10, 0, tzinfo=UTC))


class OpportunityBrowser(Browser):
    """A signed-in web user running `opportunities …` from links and forms."""

    async def open(self, words: str) -> str:
        status, html = await self.user.get(f"/do/opportunities?words={quote_plus(words)}")
        assert status == 200, text_of(html)
        return html

    async def confirm(self, words: str) -> str:
        html = await self.open(words)
        assert "Please confirm" in text_of(html), text_of(html)
        status, html = await self.user.post("/do/opportunities", {"words": words})
        assert status == 200, text_of(html)
        return html


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


@pytest.fixture
async def browsers(app_server: RunningApp) -> AsyncIterator[dict[str, WebUser]]:
    users = {name: WebUser(app_server.url) for name in ("Priya Shah", "Grace Lee")}
    yield users
    for user in users.values():
        await user.close()


async def test_post_publish_tell_and_register_interest_on_every_door(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    browsers: dict[str, WebUser],
) -> None:
    sender: OutboxSender = app_server.runner.app[SENDER]
    priya = OpportunityBrowser(browsers["Priya Shah"])
    grace = OpportunityBrowser(browsers["Grace Lee"])
    await priya.user.sign_in_locally("Priya Shah")
    await grace.user.sign_in_locally("Grace Lee")
    people = {
        "slack": await person_id(services, "tom@riversideyouth.example"),
        "teams": await person_id(services, "amina@ashacentre.example"),
        "web": await person_id(services, "grace@eastgatekitchen.example"),
    }
    joan = await person_id(services, "joan@silverthreads.example")

    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    assert "What I can help with" in await tom.say("help")
    async with services.db.session() as session:
        session.add(
            ChatIdentity(
                person_id=people["teams"],
                platform=Door.TEAMS,
                workspace_id=fake_teams.tenant_id,
                user_id=AMINA.aad_object_id,
            )
        )
    amina = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )
    assert "What I can help with" in flatten(await amina.say("help"))

    # --- Priya posts on the web, page by page, and publishes ------------------------------
    deadline = (services.clock.now() + timedelta(weeks=8)).astimezone(LONDON).date()
    questions = deadline - timedelta(weeks=2)
    html = await priya.fill_in(
        "new",
        [
            {"title": TITLE, "purpose": "Help families through hard times."},
            {
                # Tom (young people, Preston), Amina (mental health, Lancashire) and Grace
                # (food, Burnley) fit; Joan (older people) does not.
                "service_areas": ["children_young_people", "mental_health", "food"],
                "area_served": "Preston, Burnley",
            },
            {"value_min": "£40,000", "value_max": "£60,000", "payment_model": "in_advance"},
            {
                "submission_deadline": deadline.strftime("%d/%m/%Y"),
                "clarification_deadline": questions.strftime("%d/%m/%Y"),
                "quality_weight": "70",
                "price_weight": "20",
                "social_value_weight": "10",
            },
        ],
    )
    assert f"Preview: {TITLE}" in text_of(html), text_of(html)
    async with services.db.session() as session:
        opportunity = await session.scalar(select(Opportunity))
    assert opportunity is not None
    n = opportunity.id
    # Publishing waits for the route, chosen from the six questions on the web form.
    page = text_of(await priya.confirm(f"publish {n}"))
    assert "Nothing was sent" in page and "Choose the route" in page, page
    html = await priya.fill_in(
        f"route {n}",
        [
            {
                "funding": "grant",
                "health_care": "no",
                "service_kind": "people_services",
                "value": "£60,000",
                "how_chosen": "open",
                "reserve": "no",
            }
        ],
    )
    assert f"The route for {TITLE}: Grant" in text_of(html), text_of(html)
    assert "Subsidy Control Act 2022" in text_of(html)
    # Its checklist, a step recorded done from its form, and undone again (by POST only).
    checklist = text_of(await priya.open(f"checklist {n}"))
    assert "To do: Check subsidy control" in checklist, checklist
    html = await priya.fill_in(f"done {n} subsidy_control", [{"step": "subsidy_control"}])
    assert "Recorded: Check subsidy control" in text_of(html), text_of(html)
    assert "Please confirm" in text_of(await priya.open(f"undo {n} subsidy_control"))
    assert "marked not done again" in text_of(await priya.confirm(f"undo {n} subsidy_control"))
    page = text_of(await priya.confirm(f"publish {n}"))
    assert "Published. We are sending it to 3 people in 3 organisations" in page, page

    rows = await rows_like(services, f"opportunity:{n}:published:%")
    assert {r.person_id for r in rows} == set(people.values())
    assert joan not in {r.person_id for r in rows}
    assert {str(r.door) for r in rows} == {"slack", "teams", "web"}
    assert len({r.next_attempt_at for r in rows}) == 1, "told at the same moment"
    assert all(r.payload == rows[0].payload for r in rows), "the same message for everyone"

    # --- each is told on their own door ---------------------------------------------------
    await settle(sender)
    by_door = {str(r.door): r.idempotency_key for r in rows}
    when = format_when(opportunity.submission_deadline or services.clock.now(), LONDON)
    shown = {
        "slack": tom.read(by_door["slack"]),
        "teams": amina.read(by_door["teams"]),
        "web": flatten(await inbox_payloads(services, people["web"], by_door["web"])),
    }
    for door, text in shown.items():
        assert f"New opportunity: {TITLE}" in text, door
        assert when in text, door
        assert "interested" in text, door
    assert TITLE in await grace.inbox()

    # --- and each says "we're interested" from there --------------------------------------
    said = await tom.say(f"opportunities interest {n}")
    assert "Riverside Youth Trust is down as interested" in said, said
    said_teams = flatten(await amina.say(f"opportunities interest {n}"))
    assert "Asha Women's Centre is down as interested" in said_teams, said_teams
    page = text_of(await grace.confirm(f"interest {n}"))
    assert "Eastgate Community Kitchen is down as interested" in page, page
    # A link alone changes nothing on the web: the same words by GET only ask to confirm.
    assert "Please confirm" in text_of(await grace.open(f"leave {n}"))

    async with services.db.session() as session:
        interest = (await session.scalars(select(OpportunityInterest))).all()
    assert sorted(i.person_id for i in interest if i.state == "interested") == sorted(
        people.values()
    )
    summary = text_of(await priya.open(f"interested {n}"))
    assert "3 organisations are interested" in summary
    for name in ("Riverside Youth Trust", "Asha Women's Centre", "Eastgate Community Kitchen"):
        assert name in summary
    # No provider sees who else is interested, on any door.
    others = {
        "Riverside Youth Trust": [said, await tom.say(f"opportunities show {n}")],
        "Asha Women's Centre": [said_teams, flatten(await amina.say(f"opportunities show {n}"))],
        "Eastgate Community Kitchen": [page, text_of(await grace.open(f"show {n}"))],
    }
    for own, texts in others.items():
        for text in texts:
            for name in others.keys() - {own}:
                assert name not in text, (own, name)

    # The route's checklist is the team's alone, on every door.
    assert "Only the commissioning team" in await tom.say(f"opportunities checklist {n}")
    assert "Only the commissioning team" in flatten(await amina.say(f"opportunities checklist {n}"))
    assert "Only the commissioning team" in text_of(await grace.open(f"checklist {n}"))

    # The deadline as a calendar file: offered on the web, fetched as a browser does.
    offer = await grace.open(f"calendar {n}")
    link = re.search(r'href="(/downloads/[^"]+)"', offer)
    assert link, text_of(offer)
    status, body = await grace.user.get(link.group(1))
    assert status == 200 and "BEGIN:VCALENDAR" in body and TITLE in body

    # Everything Slack and Teams were given is valid Block Kit and Adaptive Cards.
    problems = block_kit_problems(BlockKitLog(fakes=[fake_slack]))
    problems += card_problems(CardLog(fakes=[fake_teams], returned=[]))
    assert problems == []
