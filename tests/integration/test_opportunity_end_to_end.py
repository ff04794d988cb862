"""Opportunities from posting to withdrawal, with providers on three doors: the acceptance
test of issue 14, with every slice built so far.

Priya Shah (Riverside Borough Council) works on the web. The providers it fits: Tom Okafor
(Riverside Youth Trust) in Slack, Amina Begum (Asha Women's Centre) in Teams, and Grace Lee
and Ruth Evans (Eastgate Community Kitchen) on the web; Ruth chose a weekly digest. Joan
Hughes (Silver Threads Befriending, older people) does not fit it. Everything goes over real
HTTP to one running app: signed requests to /slack/events with the app calling a fake Slack
Web API, JWT-signed activities to /api/messages with replies going to a fake Bot Connector,
and a browser session for the web. Messages leave through the app's own outbox sender,
drained by hand, and the due sweep is run by hand (the scheduler is off in tests). Time is a
`FixedClock` in the services from the start, on the next Monday at 9am; stages move it on.

The story, one stage after another (each an `async def stage_…(story)` below, called in
order by the test at the bottom):

 1. Priya posts it on the web, page by page, and adds two lots.
 2. She answers the six route questions (a grant: outside the Act, subsidy control); the
    checklist shows the step the route needs, and she records it done, on the record.
 3. Ruth (a second member of Eastgate) chooses a weekly digest on Wednesdays on the web.
 4. Priya previews it and publishes it.
 5. The three providers it fits who chose "as soon as", and only they, are told at the same
    moment (one outbox message and one `OpportunityAnnouncement` each); Joan and Ruth not.
 6. On Wednesday the due sweep sends Ruth one digest listing it; a second run adds nothing.
 7. Each of the three sees the "Is this for us?" card on their own door and Full details.
 8. Each says "we're interested" from their own door; a second press is refused politely
    and nothing doubles; Grace withdraws her interest.
 9. Tom asks a question in Slack; Priya edits it so it can't identify him and answers it on
    the web for everyone: everyone told or interested gets it at the same moment with no
    name on it, and the Q&A is in the full details on every door.
10. Tom posts "looking for partners" in Slack; Amina sees it in Teams without his name and
    asks to talk; names and contacts go to both only after Tom says yes too; they confirm a
    consortium and the team is told.
11. The team sees interest in aggregate (size, kind) with names; no provider ever sees
    another provider's name, on any door (checked against everything each was shown).
12. Priya moves the deadline: everyone told or interested gets the change, on the record,
    and the calendar file (.ics) gives the new deadline on Slack and on the web.
13. Deadline reminders for the new deadline (14 days, 3 working days, the morning of) go to
    the interested only, each on a working day, from the due sweep.
14. After the last day for questions, Amina's question is refused and audited.
15. The OCDS package (with the amendment) and, after Priya records the grant, the 360Giving
    JSON and CSV are fetched over HTTP and validated against the standards.
16. Priya plans and publishes the pipeline; Tom and Amina see it; the UK1 files are the
    team's.
17. Priya withdraws it: everyone is told, with her reason; interest can't be registered now.
18. Every message about it went out once and is on the record; no provider saw another's
    name (apart from Tom and Amina after both said yes); everything Slack and Teams were
    given is valid Block Kit and Adaptive Cards.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import SENDER, SWEEP
from bot.clock import LONDON, FixedClock, format_when
from bot.core.clock import as_utc
from bot.core.working_days import is_working_day
from bot.outbox.sender import OutboxSender
from bot.scheduler import DueSweep
from bot.services import Services
from handlers.opportunities.reminders import REMINDER_KIND
from storage.clarification_tables import Clarification
from storage.digest_tables import OpportunityDigestItem
from storage.models import (
    ChatIdentity,
    Door,
    Organisation,
    OutboxMessage,
    Person,
    Reminder,
    Role,
    WorkState,
)
from storage.notification_tables import NotificationPreference
from storage.opportunity_route_tables import OpportunityChecklistStep, OpportunityRoute
from storage.opportunity_tables import (
    Opportunity,
    OpportunityAmendment,
    OpportunityInterest,
    OpportunityLot,
    OpportunityState,
)
from storage.partner_tables import (
    Consortium,
    ConsortiumMember,
    PartnerIntroduction,
    PartnerPost,
)
from storage.people import grant
from tests.features.engagement_story import add_sam
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.doors import chat_door_settings, flatten
from tests.support.engagements import inbox_payloads, rows_like
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.open_standards import giving_errors, ocds_errors, published_giving_schemas
from tests.support.opportunities import (
    OpportunityBrowser,
    RecordingWebUser,
    SlackProvider,
    TeamsProvider,
    announcements,
    audit_actions,
    calendar_deadline,
    on_the_record,
    person_id,
    told_together,
)
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import text_of
from tests.teams.conftest import CardLog, card_problems

SLACK_SECRET = "test-signing-secret"
TOM_SLACK = "U0001"
AMINA = TeamsUser(
    id="29:1AminaB3gum7Qx5vWz0pLmN2rStUvXy98765ZyXwVuTsRqPoNmLkJi",
    name="Amina Begum",
    aad_object_id="a31a0000-0000-4000-8000-00000000a5a4",
)

TITLE = "Family wellbeing in Preston and Burnley"
CHANGE = "We need one more week to answer everyone's questions."
REASON = "The money for this work was cut in the council's budget."
#: The six route questions as Priya answers them: a grant (so 360Giving applies).
ROUTE_ANSWERS = {
    "funding": "grant",
    "health_care": "no",
    "service_kind": "people_services",
    "value": "£80,000",
    "how_chosen": "open",
    "reserve": "no",
}
#: The subsidy database's reference for the grant, recorded with the checklist step.
SUBSIDY_REF = "SC10432"
QUESTION = "We are Riverside Youth Trust in Preston. Can we bid for the Preston lot only?"
PUBLISHED_QUESTION = "Can an organisation bid for one lot only?"
ANSWER = "Yes. You can bid for one lot or for both."
#: What would name the asker.
ASKER = ("Riverside Youth Trust", "Youth Trust", "Tom Okafor", "Okafor")
BRINGS = "Youth workers who know the families on the Preston estates"
NEEDS = "Counsellors who can see parents and take referrals"
PLANNED = "Youth clubs in Preston"
OCID_PREFIX = "ocds-abc123"
#: The council's own org-id, for the 360Giving file.
ORG_ID = "GB-LAE-RIV"
LOTS = (
    ("Preston families", "£20,000", "£30,000"),
    ("Burnley families", "£30,000", "£50,000"),
)

#: Each provider organisation, and its person, by door: what no other provider may see.
PROVIDERS = {
    "slack": ("Riverside Youth Trust", "Tom Okafor"),
    "teams": ("Asha Women's Centre", "Amina Begum"),
    "web": ("Eastgate Community Kitchen", "Grace Lee", "Ruth Evans"),
}
RUTH_EMAIL = "ruth@eastgatekitchen.example"


@dataclass(frozen=True)
class When:
    """The story's moments. It starts on a Monday at 9am in London (a working day, in
    everyone's waking hours); bids close eight weeks on, on a Friday at 5pm, questions two
    weeks before; the amendment moves the deadline a week later."""

    now: datetime
    deadline: datetime
    questions_close: datetime
    new_deadline: datetime

    @classmethod
    def from_monday(cls, monday: datetime) -> When:
        friday = monday.date() + timedelta(weeks=8, days=-3)
        at_five = time(17, 0)
        return cls(
            now=monday,
            deadline=datetime.combine(friday, at_five, tzinfo=LONDON),
            questions_close=datetime.combine(friday - timedelta(weeks=2), at_five, tzinfo=LONDON),
            new_deadline=datetime.combine(friday + timedelta(weeks=1), at_five, tzinfo=LONDON),
        )


def next_monday_morning(real: datetime) -> datetime:
    """9am London on the first Monday after `real`. The clock stops there, ahead of the real
    time, so messages the app queues on the real clock (chat replies) are already due."""
    day = real.astimezone(LONDON).date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


def full_day(day: date) -> str:
    """A day in full, as people read it: "Friday 6 March 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def move_clock(story: Story, to: datetime) -> None:
    """Time passes: the story's clock moves on to `to` (never back)."""
    assert to >= story.clock.now(), (to, story.clock.now())
    story.clock.advance(to - story.clock.now())


async def add_member(services: Services, name: str, email: str, organisation: str) -> None:
    """An admin adds a person to a provider organisation (as `add_sam` does)."""
    async with services.db.session() as session:
        found = await session.scalar(select(Organisation).where(Organisation.slug == organisation))
        assert found is not None, organisation
        person = Person(name=name, email=email, is_demo=True)
        session.add(person)
        await session.flush()
        await grant(session, person, Role.PROVIDER_MEMBER, organisation_id=found.id)


def web_day(when: datetime) -> str:
    """A date as a person types it into the web form."""
    return when.strftime("%d/%m/%Y")


# --- one app with every door -----------------------------------------------------------------


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    """Slack (one workspace) and Teams (one tenant), each aimed at its fake; the open data
    settings 360Giving needs (the council's org-id) and a registered OCID prefix."""
    return {
        **chat_door_settings(fake_slack, fake_teams),
        "ocid_prefix": OCID_PREFIX,
        "open_data_org_ids": f"riverside={ORG_ID}",
    }


@pytest.fixture
async def browsers(app_server: RunningApp) -> AsyncIterator[dict[str, RecordingWebUser]]:
    users = {
        name: RecordingWebUser(app_server.url) for name in ("Priya Shah", "Grace Lee", "Ruth Evans")
    }
    yield users
    for user in users.values():
        await user.close()


@dataclass
class Story:
    """Everyone in the story, their doors, and what has happened so far."""

    services: Services
    sender: OutboxSender
    fake_slack: FakeSlack
    fake_teams: FakeBotFramework
    clock: FixedClock
    when: When
    priya: OpportunityBrowser
    tom: SlackProvider
    amina: TeamsProvider
    grace: OpportunityBrowser
    #: The providers it fits, by door -> person id.
    people: dict[str, int]
    joan: int
    priya_id: int
    #: Ruth Evans (Eastgate, on the web, weekly digest on Wednesdays) and her browser.
    ruth_web: OpportunityBrowser
    #: The app's due sweep (run by hand: the scheduler is off in tests).
    sweep: DueSweep
    opportunity_id: int = 0
    #: The announcement's outbox key on each door (its buttons are pressed later).
    announced: dict[str, str] = field(default_factory=dict)
    ruth: int = 0
    #: Whether Ruth has had it in her digest (then she is told of changes).
    ruth_told: bool = False
    #: Whether Tom and Amina both said yes to talking (then each may see the other's name).
    introduced: bool = False
    #: Sam Patel, who joins Tom's trust after publishing (0 until then).
    sam: int = 0

    @property
    def n(self) -> int:
        return self.opportunity_id

    async def opportunity(self) -> Opportunity:
        async with self.services.db.session() as session:
            found = await session.get(Opportunity, self.opportunity_id)
        assert found is not None
        return found

    def to_tell(self) -> dict[int, str]:
        """Who hears of a change (person id -> their door): the three providers told at
        publishing, Ruth once it was in her weekly digest (she is also in Eastgate, which
        registered interest, and that alone would do: `everyone_to_tell`), and Sam once he
        has joined an interested organisation."""
        doors = {person: door for door, person in self.people.items()}
        if self.ruth_told:
            doors[self.ruth] = "web"
        if self.sam:
            doors[self.sam] = "web"
        return doors

    async def seen_by_each(self, key: str) -> dict[str, str]:
        """After a send pass: every row for `key` is sent, and each person reads it on
        their own door. Returns what each door showed (Sam's inbox as "sam")."""
        rows = {r.person_id: r for r in await rows_like(self.services, f"{key}:%")}
        assert rows and all(r.state == WorkState.DONE and r.sent_at for r in rows.values()), [
            (r.idempotency_key, r.state, r.last_error) for r in rows.values()
        ]

        async def inbox(person: int) -> str:
            found = await inbox_payloads(self.services, person, rows[person].idempotency_key)
            assert len(found) == 1
            return flatten(found)

        seen = {
            "slack": self.tom.read(rows[self.people["slack"]].idempotency_key),
            "teams": self.amina.read(rows[self.people["teams"]].idempotency_key),
            "web": await inbox(self.people["web"]),
        }
        if self.sam in rows:
            seen["sam"] = await inbox(self.sam)
        if self.ruth in rows:
            seen["ruth"] = await inbox(self.ruth)
        return seen

    async def interest_rows(self) -> list[tuple[int, str]]:
        async with self.services.db.session() as session:
            rows = await session.scalars(
                select(OpportunityInterest)
                .where(OpportunityInterest.opportunity_id == self.opportunity_id)
                .order_by(OpportunityInterest.organisation_id)
            )
            return [(r.organisation_id, r.state) for r in rows.all()]


# --- the stages ------------------------------------------------------------------------------


async def stage_post(story: Story) -> None:
    """Priya posts it on the web through the real forms, with two lots."""
    priya = story.priya
    html = await priya.fill_in(
        "new",
        [
            {"title": TITLE, "purpose": "Help families through hard times, sooner."},
            {
                "people_served": "Families with children in Preston and Burnley",
                # Tom (young people, Preston), Amina (mental health, all Lancashire) and
                # Grace (food, Burnley) fit; Joan (older people, Preston) does not.
                "service_areas": ["children_young_people", "mental_health", "food"],
                "area_served": "Preston, Burnley",
            },
            {
                "value_min": "£50,000",
                "value_max": "£80,000",
                "payment_model": "in_advance",
                "length_months": "24",
                "tupe": "no",
            },
            {
                "submission_deadline": web_day(story.when.deadline),
                "clarification_deadline": web_day(story.when.questions_close),
                "submission_formats": ["writing", "video"],
                "quality_weight": "70",
                "price_weight": "20",
                "social_value_weight": "10",
                "partners_wanted": "yes",
                # Typed into the box as a person would; checked against the CPV 2008 list.
                "cpv_codes": "85312000",
            },
        ],
    )
    assert f"Preview: {TITLE}" in text_of(html), text_of(html)
    async with story.services.db.session() as session:
        opportunity = await session.scalar(select(Opportunity))
    assert opportunity is not None and opportunity.state == OpportunityState.DRAFT
    assert opportunity.cpv_codes == ["85312000"]
    story.opportunity_id = n = opportunity.id

    for number, (title, low, high) in enumerate(LOTS, start=1):
        page = text_of(
            await priya.fill_in(f"lot {n}", [{"title": title, "value_min": low, "value_max": high}])
        )
        assert f"Lot {number}, {title}, is saved." in page, page
    async with story.services.db.session() as session:
        lots = (
            await session.scalars(
                select(OpportunityLot)
                .where(OpportunityLot.opportunity_id == n)
                .order_by(OpportunityLot.number)
            )
        ).all()
    assert [(lot.number, lot.title, lot.value_min_pence, lot.value_max_pence) for lot in lots] == [
        (1, "Preston families", 2_000_000, 3_000_000),
        (2, "Burnley families", 3_000_000, 5_000_000),
    ]


async def stage_route(story: Story) -> None:
    """Before previewing, Priya answers the six route questions on the web: a grant, so
    the Act does not apply and 360Giving does. The checklist shows what the route needs
    (subsidy control), and she records that step done; it is on the record."""
    n = story.n
    shown = text_of(await story.priya.fill_in(f"route {n}", [ROUTE_ANSWERS]))
    for words in (
        f"The route for {TITLE}: Grant",
        "It is a grant, not a purchase, so the Procurement Act does not apply. "
        "Subsidy control rules apply instead.",
        "Providers never see them",
    ):
        assert words in shown, (words, shown)
    async with story.services.db.session() as session:
        choice = await session.get(OpportunityRoute, n)
    assert choice is not None and choice.route == "grant"
    assert choice.chosen_by == story.priya_id
    assert (await story.opportunity()).route == "grant"
    [chosen] = await audit_actions(story.services, "opportunity.route_chosen")
    assert chosen.actor_id == story.priya_id and chosen.details["route"] == "grant"

    checklist = text_of(await story.priya.open(f"checklist {n}"))
    for words in (
        f"Checklist for {TITLE}",
        "The route: Grant. 0 of 1 steps done.",
        "To do: Check subsidy control",
        "A grant is not a procurement, so no Find a Tender notices are needed. Check the "
        "grant meets the subsidy control principles before you award it.",
        "Only your council's commissioning team",
    ):
        assert words in checklist, (words, checklist)

    # The step's "Mark done" button opens the form with the step chosen. It is not a Find a
    # Tender notice, so an identifier is not required; she gives the subsidy database's
    # reference, and it is kept with the step.
    done = text_of(
        await story.priya.fill_in(
            f"done {n} subsidy_control", [{"step": "subsidy_control", "notice_id": SUBSIDY_REF}]
        )
    )
    assert "Recorded: Check subsidy control." in done and "It is on the record" in done, done
    assert "1 of 1 steps done" in done
    async with story.services.db.session() as session:
        [step] = (await session.scalars(select(OpportunityChecklistStep))).all()
    assert (step.opportunity_id, step.step, step.notice_id, step.done_by) == (
        n,
        "subsidy_control",
        SUBSIDY_REF,
        story.priya_id,
    )
    assert step.done_on == story.clock.now().date()
    [recorded] = await audit_actions(story.services, "opportunity.step_done")
    assert recorded.actor_id == story.priya_id
    assert (recorded.details["step"], recorded.details["notice_id"]) == (
        "subsidy_control",
        SUBSIDY_REF,
    )


async def stage_ruth_chooses_weekly(story: Story) -> None:
    """Ruth Evans joins Eastgate Community Kitchen (an admin adds her), signs in on the web
    and chooses, on the `notifications` form, to hear of new opportunities once a week, on
    Wednesdays."""
    await add_member(story.services, "Ruth Evans", RUTH_EMAIL, "eastgate-community-kitchen")
    story.ruth = await person_id(story.services, RUTH_EMAIL)
    await story.ruth_web.user.sign_in_locally("Ruth Evans")
    assert isinstance(story.ruth_web.user, RecordingWebUser)
    story.ruth_web.user.pages.clear()
    saved = text_of(
        await story.ruth_web.fill_in_form(
            "notifications", "", [{"how_often": "weekly", "digest_day": "2", "when": "usual"}]
        )
    )
    assert "Wednesday" in saved, saved
    async with story.services.db.session() as session:
        chosen = await session.get(NotificationPreference, story.ruth)
    assert chosen is not None
    assert (chosen.opportunities, chosen.digest_weekday) == ("weekly", 2), chosen


async def stage_preview_publish(story: Story) -> None:
    """She previews it as providers will see it, and publishes it."""
    n = story.n
    priya = story.priya
    preview = text_of(await priya.open(f"preview {n}"))
    assert "This is exactly what every provider it fits will see" in preview, preview
    assert (
        "Before you can publish" not in preview and "We suggest at least six weeks" not in preview
    )
    for words in (
        "Lot 1: Preston families (£20,000 to £30,000)",
        "Lot 2: Burnley families (£30,000 to £50,000)",
        format_when(story.when.deadline),
    ):
        assert words in preview, words
    assert not await rows_like(story.services, f"opportunity:{n}:%"), "a preview sends nothing"

    page = text_of(await priya.confirm(f"publish {n}"))
    assert "Published. We are sending it to 3 people in 3 organisations" in page, page
    assert "1 more person chose to hear once a week, so it goes in their next weekly list" in page
    published = await story.opportunity()
    assert published.state == OpportunityState.OPEN
    assert published.published_at == story.when.now
    assert published.submission_deadline == story.when.deadline
    [audit] = await audit_actions(story.services, "opportunity.published")
    assert audit.actor_id == story.priya_id
    assert (audit.details["people_told"], audit.details["organisations_told"]) == (3, 3)


async def stage_told_at_once(story: Story) -> None:
    """The providers it fits, and only they, are told at the same moment, each on their
    own door, each on the record; Joan (older people) is not."""
    n = story.n
    key = f"opportunity:{n}:published"
    rows = told_together(await rows_like(story.services, f"{key}:%"), story.to_tell(), key)
    assert {r.next_attempt_at for r in rows.values()} == {story.when.now}
    assert rows[story.people["slack"]].address == TOM_SLACK
    assert rows[story.people["teams"]].address == story.amina.conversation
    assert story.joan not in rows
    on_the_record(await announcements(story.services, n, "published"), rows)
    story.announced = {str(row.door): row.idempotency_key for row in rows.values()}

    await settle(story.sender)
    seen = await story.seen_by_each(key)
    for door, text in seen.items():
        assert f"New opportunity: {TITLE}" in text, door
        assert "Is this for us? From Riverside Borough Council" in text, door
        assert "We're interested" in text, door
    assert any(
        c.body["channel"] == f"D{TOM_SLACK}" for c in story.fake_slack.calls_to("chat.postMessage")
    )
    assert TITLE in await story.grace.inbox()


async def stage_weekly_digest(story: Story) -> None:
    """Ruth, who chose a weekly digest on Wednesdays, was sent nothing at publishing. On
    Wednesday morning the due sweep sends her one digest on the web that lists it; a second
    run that day adds nothing. Once it is in her digest she is told of it,
    so she hears of every change from now on."""
    n = story.n
    assert not await rows_like(story.services, f"opportunity-digest:{story.ruth}:%")
    assert story.ruth not in {
        a.person_id for a in await announcements(story.services, n, "published")
    }
    wednesday = datetime.combine(
        story.when.now.date() + timedelta(days=2), time(9, 0), tzinfo=LONDON
    )
    move_clock(story, wednesday)
    await story.sweep.run_once()
    await settle(story.sender)
    [row] = await rows_like(story.services, "opportunity-digest:%")
    assert row.idempotency_key == f"opportunity-digest:{story.ruth}:{wednesday.date().isoformat()}"
    assert (row.person_id, str(row.door), row.state) == (story.ruth, "web", WorkState.DONE)
    [payload] = await inbox_payloads(story.services, story.ruth, "opportunity-digest:")
    digest = flatten(payload)
    assert "New opportunities for you this week" in digest, digest
    assert TITLE in digest and format_when(story.when.deadline) in digest, digest
    assert "Riverside Borough Council" in digest
    assert TITLE in await story.ruth_web.inbox()
    async with story.services.db.session() as session:
        items = (await session.scalars(select(OpportunityDigestItem))).all()
    assert [(i.person_id, i.opportunity_id, i.outbox_key) for i in items] == [
        (story.ruth, n, row.idempotency_key)
    ]
    # The next hour's run adds nothing: one digest a week.
    move_clock(story, wednesday + timedelta(hours=1))
    await story.sweep.run_once()
    await settle(story.sender)
    assert len(await rows_like(story.services, "opportunity-digest:%")) == 1
    story.ruth_told = True


async def stage_is_this_for_us(story: Story) -> None:
    """Each provider reads the plain card on their own door, then presses Full details."""
    n = story.n
    card_words = (
        "Families with children in Preston and Burnley",
        "£50,000 to £80,000",
        "2 years",
        "In advance, before the work is done",
        "No staff move to you (no TUPE)",
        "Lot 1: Preston families (£20,000 to £30,000); Lot 2: Burnley families "
        "(£30,000 to £50,000)",
        format_when(story.when.deadline),  # e.g. "Friday 6 March 2026, 5pm"
        "Welcome: groups of organisations can bid together",
        "Our rough guess: about 2 to 3 days of work",
        "only the council's commissioning team sees your name",
    )
    seen = await story.seen_by_each(f"opportunity:{n}:published")
    for door, text in seen.items():
        for words in card_words:
            assert words in text, (door, words)

    details = {
        "slack": await story.tom.press(story.announced["slack"], f"show {n}"),
        "teams": await story.amina.press(story.announced["teams"], f"show {n}"),
        "web": text_of(await story.grace.press(await story.grace.inbox_html(), "Full details")),
    }
    for door, text in details.items():
        for words in (
            "Help families through hard times, sooner.",
            "Lot 1: Preston families",
            "Lot 2: Burnley families",
            "How to apply",
            "Last day for questions",
            format_when(story.when.questions_close),
            "Quality 70%, price 20%, social value 10%",
            "What is being bought (CPV codes)",
            "Open for bids.",
        ):
            assert words in text, (door, words)


async def stage_interest(story: Story) -> None:
    """Each says "we're interested" from their own door; a second press is refused
    politely and nothing doubles; Grace withdraws her interest on the web."""
    n = story.n
    tom = await story.tom.press(story.announced["slack"], f"interest {n}")
    assert "Thank you. Riverside Youth Trust is down as interested" in tom, tom
    amina = await story.amina.press(story.announced["teams"], f"interest {n}")
    assert "Thank you. Asha Women's Centre is down as interested" in amina, amina
    grace = text_of(await story.grace.press(await story.grace.inbox_html(), "We're interested"))
    assert "Thank you. Eastgate Community Kitchen is down as interested" in grace, grace
    for text in (tom, amina, grace):
        assert "other providers never see who is interested" in text
        assert f"The deadline for bids is {format_when(story.when.deadline)}" in text
    interested = await story.interest_rows()
    assert [state for _, state in interested] == ["interested"] * 3

    # Tom presses the same button again: told kindly, nothing doubles, the attempt recorded.
    again = await story.tom.press(story.announced["slack"], f"interest {n}")
    assert "Riverside Youth Trust is already down as interested" in again, again
    assert "Thank you" not in again
    assert await story.interest_rows() == interested
    assert len(await audit_actions(story.services, "opportunity.interested")) == 3
    [refused] = await audit_actions(story.services, "opportunity.refused")
    assert (refused.actor_id, refused.door, refused.details["attempted"]) == (
        story.people["slack"],
        "slack",
        "interest",
    )
    assert refused.details["reason"] == "already interested"

    # Grace changes her mind, from the opportunity's own page.
    page = await story.grace.open(f"show {n}")
    left = text_of(await story.grace.press(page, "We're no longer interested"))
    assert "Eastgate Community Kitchen is no longer down as interested" in left, left
    states = dict(await story.interest_rows())
    assert sorted(states.values()) == ["interested", "interested", "withdrawn"]
    [withdrew] = await audit_actions(story.services, "opportunity.not_interested")
    assert withdrew.actor_id == story.people["web"] and withdrew.door == "web"


async def stage_clarification(story: Story) -> None:
    """Tom asks a question in Slack before the last day for questions, naming his trust.
    Priya sees who asked, edits the question so it can't identify him, and answers it on
    the web for everyone: it reaches everyone told or interested at the same moment, with no
    name on it on any door, and the Q&A is in the full details on every door."""
    n = story.n
    opened = await story.tom.say(f"opportunities ask {n}")
    assert "Ask the council a question" in opened, opened
    assert "published without your name" in opened
    thanks = await story.tom.say(QUESTION)
    assert "The council will answer your question for everyone told" in thanks, thanks
    assert "without your name or your organisation's name" in thanks
    async with story.services.db.session() as session:
        [question] = (await session.scalars(select(Clarification))).all()
    assert (question.opportunity_id, question.question, question.published_at) == (
        n,
        QUESTION,
        None,
    )
    [asked] = await audit_actions(story.services, "clarification.asked")
    assert (asked.actor_id, asked.door) == (story.people["slack"], "slack")

    # The team sees the question and who asked; nobody else is told anything yet.
    waiting = text_of(await story.priya.open(f"questions {n}"))
    assert QUESTION in waiting and "Riverside Youth Trust" in waiting, waiting
    key = f"opportunity:{n}:clarification:{question.id}"
    assert not await rows_like(story.services, f"{key}:%")

    move_clock(story, story.clock.now() + timedelta(hours=2))
    page = text_of(
        await story.priya.fill_in(
            f"answer {n} {question.id}",
            [{"question": PUBLISHED_QUESTION, "answer": ANSWER, "who_for": "everyone"}],
        )
    )
    told = story.to_tell()
    assert (
        f"Published on {format_when(story.clock.now())} to {len(told)} people told about it" in page
    ), page
    rows = told_together(await rows_like(story.services, f"{key}:%"), told, key)
    assert {r.next_attempt_at for r in rows.values()} == {story.clock.now()}
    [published] = await audit_actions(story.services, "clarification.published")
    assert published.details["recipients"] == len(told)
    assert published.details["edited_for_anonymity"] is True
    await settle(story.sender)
    seen = await story.seen_by_each(key)
    assert set(seen) == {"slack", "teams", "web", "ruth"}
    for door, text in seen.items():
        assert PUBLISHED_QUESTION in text and ANSWER in text, (door, text)
        assert "edited to keep the asker anonymous" in text, door
        for secret in ASKER:
            assert secret not in text, (door, secret)

    # The Q&A is in the full details on every door, still with no name.
    details = {
        "slack": await story.tom.say(f"opportunities show {n}"),
        "teams": flatten(await story.amina.say(f"opportunities show {n}")),
        "web": text_of(await story.grace.open(f"show {n}")),
    }
    for door, text in details.items():
        assert "Questions and answers" in text and ANSWER in text, (door, text)
        assert PUBLISHED_QUESTION in text and QUESTION not in text, door
    for door in ("teams", "web"):
        for secret in ASKER:
            assert secret not in details[door], (door, secret)


async def stage_partners(story: Story) -> None:
    """Tom posts "looking for partners" in Slack. Amina, in Teams, whom it fits, sees the post
    without his name or contact and asks to talk; Tom is asked without her name. Nobody has
    seen the other's name until Tom says yes too; then each gets the other's contact details
    on their own door. Tom records a consortium and invites Asha; Amina confirms it, and
    the team is told."""
    n = story.n
    opened = await story.tom.say(f"opportunities partners {n}")
    assert "Looking for partners" in opened, opened
    for answer in (BRINGS, NEEDS, "Preston"):
        await story.tom.say(answer)
    up = await story.tom.say("1")  # the lot
    assert "Your post is up" in up and "not your name" in up, up
    async with story.services.db.session() as session:
        [post] = (await session.scalars(select(PartnerPost))).all()
    assert (post.opportunity_id, post.brings, post.needs) == (n, BRINGS, NEEDS)

    # Amina sees what Tom's trust brings and needs, but not who it is.
    [listing] = await story.amina.say(f"opportunities partnering {n}")
    shown = flatten(listing)
    assert BRINGS in shown and NEEDS in shown and "Registered charity" in shown, shown
    for secret in (*PROVIDERS["slack"], "tom@riversideyouth.example", "Okafor"):
        assert secret not in shown, secret
    asked = await story.amina.press(listing["channelData"]["convene"]["key"], f"talk {post.id}")
    assert "without telling them who you are" in asked, asked
    async with story.services.db.session() as session:
        [introduction] = (await session.scalars(select(PartnerIntroduction))).all()
    i = introduction.id
    [asha] = {introduction.first_organisation_id, introduction.second_organisation_id} - {
        post.organisation_id
    }
    tom_id, amina_id = story.people["slack"], story.people["teams"]
    asking_key = f"partners:{i}:asked:{tom_id}"
    await settle(story.sender)
    asking = story.tom.read(asking_key)
    assert "would like to talk" in asking, asking
    # One yes so far: nobody has seen another provider's name or contact, on any door.
    no_provider_saw_another(story)
    for door, text in (
        ("slack", story.tom.everything_seen()),
        ("teams", story.amina.everything_seen()),
    ):
        for email in ("amina@ashacentre.example", "tom@riversideyouth.example"):
            assert email not in text, (door, email)

    said = await story.tom.press(asking_key, f"agree {i}")
    assert "You can now talk with Asha Women's Centre" in said, said
    await settle(story.sender)
    told_tom = story.tom.read(f"partners:{i}:introduced:{post.organisation_id}:{tom_id}")
    assert "Asha Women's Centre" in told_tom and "amina@ashacentre.example" in told_tom
    [amina_key] = [
        key
        for key in (
            f"partners:{i}:introduced:{org}:{amina_id}" for org in (asha, post.organisation_id)
        )
        if story.amina.with_key(key)
    ]
    told_amina = story.amina.read(amina_key)
    assert "Riverside Youth Trust" in told_amina and "tom@riversideyouth.example" in told_amina
    story.introduced = True

    # The consortium: Tom's part (he leads), his invitation, and Amina's part confirm it.
    for answer in (f"opportunities consortium {n}", "Runs the youth clubs", "yes"):
        await story.tom.say(answer)
    saved = await story.tom.say("60")
    assert "your part is saved" in saved, saved
    invited = await story.tom.say(f"opportunities invite {i}")
    assert "We have asked Asha" in invited, invited
    confirmed = await story.amina.fill(
        f"opportunities consortium {n}", {"role": "Counselling", "lead": "no", "share": "40"}
    )
    assert "your consortium is confirmed" in confirmed, confirmed
    async with story.services.db.session() as session:
        [consortium] = (await session.scalars(select(Consortium))).all()
        members = (await session.scalars(select(ConsortiumMember))).all()
    assert consortium.state == "confirmed" and consortium.opportunity_id == n
    assert sorted((m.organisation_id, m.role, m.share_percent) for m in members) == sorted(
        [
            (post.organisation_id, "Runs the youth clubs", 60),
            (asha, "Counselling", 40),
        ]
    )
    team = text_of(await story.priya.open(f"partnering {n}"))
    assert "Riverside Youth Trust (lead)" in team and "Runs the youth clubs (60% share)" in team
    assert "Counselling" in team, team
    assert "A consortium is confirmed" in await story.priya.inbox()


async def stage_team_sees_interest(story: Story) -> None:
    """The team sees interest in aggregate with names; providers never see each other."""
    n = story.n
    summary = text_of(await story.priya.open(f"interested {n}"))
    for words in (
        "2 organisations are interested; 1 withdrew",
        "This is not a shortlist",
        "By size (yearly income) £100,000 to £1 million 2",  # both, counted, not named
        "By kind of organisation",
        "Registered charity (including CIOs) 2",
        "Asha Women's Centre, Riverside Youth Trust",  # by name
        "Only your council's commissioning team sees this",
    ):
        assert words in summary, (words, summary)
    assert "Eastgate Community Kitchen" not in summary, "withdrew: counted, not named"

    # A provider asking for that view is refused, and the attempt is on the record.
    refused = await story.tom.say(f"opportunities interested {n}")
    assert "Only the commissioning team" in refused, refused
    assert "Asha" not in refused
    attempts = await audit_actions(story.services, "opportunity.refused")
    assert [(a.actor_id, a.details["attempted"]) for a in attempts][-1] == (
        story.people["slack"],
        "interested",
    )
    no_provider_saw_another(story)


def no_provider_saw_another(story: Story) -> None:
    """Nothing any provider was shown, on their door, names another provider or its person:
    every Slack DM and press answer, every Teams activity and card, every web page (Grace's
    and Ruth's). The one exception is mutual consent: once Tom and Amina both said yes to
    talking, each may see the other's name and contact, and nobody else's."""
    seen = [
        ("slack", story.tom.everything_seen()),
        ("teams", story.amina.everything_seen()),
        ("web", story.grace.everything_seen()),
    ]
    if story.ruth:
        seen.append(("web", story.ruth_web.everything_seen()))
    consented = {("slack", "teams"), ("teams", "slack")} if story.introduced else set()
    for door, text in seen:
        assert TITLE in text, door  # the check reads what they really saw
        for other, names in PROVIDERS.items():
            if other == door or (door, other) in consented:
                continue
            for name in names:
                assert name not in text, (door, name)


async def stage_amend_deadline(story: Story) -> None:
    """Priya moves the deadline. Everyone told or interested gets the change at the same
    moment, on the record, with both dates; the calendar file gives the new deadline."""
    n = story.n
    # Sam Patel joins Tom's trust now (an admin adds him). He was never told of it, but his
    # organisation is interested, so he hears of every change, in his web inbox.
    await add_sam(story.services)
    story.sam = await person_id(story.services, "sam@riversideyouth.example")
    page = text_of(
        await story.priya.fill_in(
            f"amend {n}",
            [{"what_changed": CHANGE, "submission_deadline": web_day(story.when.new_deadline)}],
        )
    )
    assert "This change is on its way to 5 people, all at the same moment" in page, page
    async with story.services.db.session() as session:
        [amendment] = (await session.scalars(select(OpportunityAmendment))).all()
    assert (amendment.old_deadline, amendment.new_deadline) == (
        story.when.deadline,
        story.when.new_deadline,
    )
    assert (amendment.made_by, amendment.made_at) == (story.priya_id, story.clock.now())
    assert (await story.opportunity()).submission_deadline == story.when.new_deadline
    [audit] = await audit_actions(story.services, "opportunity.amended")
    assert audit.details["people_told"] == 5 and audit.details["amendment_id"] == amendment.id

    # Grace withdrew her interest, but she was told of it, so she hears of the change too.
    key = f"opportunity:{n}:amended:{amendment.id}"
    rows = told_together(await rows_like(story.services, f"{key}:%"), story.to_tell(), key)
    on_the_record(await announcements(story.services, n, "amended"), rows)
    await settle(story.sender)
    for door, text in (await story.seen_by_each(key)).items():
        assert f"A change to {TITLE}, from Riverside Borough Council" in text, door
        assert (
            f"It was {format_when(story.when.deadline)}. It is now {format_when(story.when.new_deadline)}."
            in text
        )
        assert CHANGE in text, door
    shown = await story.tom.say(f"opportunities show {n}")
    assert format_when(story.when.new_deadline) in shown, shown
    assert format_when(story.when.deadline) not in shown, "the old deadline is gone"

    # The calendar file, made when fetched, has the new deadline: Tom's in his Slack DM...
    said = await story.tom.press(story.announced["slack"], f"calendar {n}")
    assert "sending the file to our direct messages" in said, said
    [(file, data)] = story.fake_slack.files_in(TOM_SLACK)
    assert file["name"].endswith(".ics")
    starts, summary = calendar_deadline(data)
    assert starts == story.when.new_deadline and TITLE in summary
    # ...and Grace's on the web, from the link the opportunity offers her.
    offer = await story.grace.press(
        await story.grace.open(f"show {n}"), "Add the deadline to my calendar"
    )
    status, content_type, body = await story.grace.download(offer)
    assert status == 200 and content_type.startswith("text/calendar")
    starts, summary = calendar_deadline(body)
    assert starts == story.when.new_deadline and TITLE in summary


def working_days_back(day: date, count: int) -> date:
    """The day `count` working days (England and Wales) before `day`."""
    while count:
        day -= timedelta(days=1)
        count -= is_working_day(day)
    return day


def on_or_before_a_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


async def stage_reminders(story: Story) -> None:
    """The interested (Tom's trust, Tom and Sam, and Amina) are reminded of the amended
    deadline 14 days before, 3 working days before and on its morning, each on a working
    day: 10am, 10am and 8am in London. Grace's kitchen withdrew its interest, so she and
    Ruth get none; nor does Joan, whom it never fitted."""
    n = story.n
    deadline = story.when.new_deadline
    day = deadline.date()
    expected = {
        "14_days": datetime.combine(
            on_or_before_a_working_day(day - timedelta(days=14)), time(10), tzinfo=LONDON
        ),
        "3_working_days": datetime.combine(working_days_back(day, 3), time(10), tzinfo=LONDON),
        "morning_of": datetime.combine(on_or_before_a_working_day(day), time(8), tzinfo=LONDON),
    }
    async with story.services.db.session() as session:
        waiting = (
            await session.scalars(
                select(Reminder).where(
                    Reminder.kind == REMINDER_KIND, Reminder.state == WorkState.PENDING
                )
            )
        ).all()
    assert {r.target_id: as_utc(r.due_at) for r in waiting} == {
        f"{n}:{which}": as_utc(moment) for which, moment in expected.items()
    }, "scheduled for the amended deadline"
    interested = {story.people["slack"]: "slack", story.people["teams"]: "teams", story.sam: "web"}
    for which, moment in expected.items():
        assert is_working_day(moment.date()) and moment < deadline, which
        move_clock(story, moment)
        await story.sweep.run_once()
        key = f"opportunity:{n}:reminder:{which}:{deadline.astimezone(UTC):%Y%m%dT%H%M}"
        rows = told_together(await rows_like(story.services, f"{key}:%"), interested, key)
        assert {r.next_attempt_at for r in rows.values()} == {moment}
        await settle(story.sender)
        assert all(r.state == WorkState.DONE for r in await rows_like(story.services, f"{key}:%"))
        [sam] = await inbox_payloads(story.services, story.sam, rows[story.sam].idempotency_key)
        seen = {
            "slack": story.tom.read(rows[story.people["slack"]].idempotency_key),
            "teams": story.amina.read(rows[story.people["teams"]].idempotency_key),
            "sam": flatten(sam),
        }
        for door, text in seen.items():
            assert f"Deadline reminder: {TITLE}" in text, (door, text)
            assert f"close on {format_when(deadline)}" in text, (door, text)
            assert format_when(story.when.deadline) not in text, "the old deadline is gone"
    reminded = await announcements(story.services, n, "reminded")
    assert len(reminded) == 3 * len(interested)
    assert {a.person_id for a in reminded} == set(interested)
    everyone = await rows_like(story.services, f"opportunity:{n}:reminder:%")
    for left_out in (story.people["web"], story.ruth, story.joan):
        assert left_out not in {r.person_id for r in everyone}


async def stage_question_too_late(story: Story) -> None:
    """After the last day for questions, Amina's question is refused in Teams with that day
    in full; nothing is asked or sent, and the attempt is on the record."""
    n = story.n
    assert story.clock.now() > story.when.questions_close
    before = await rows_like(story.services, f"opportunity:{n}:%")
    refused = flatten(await story.amina.say(f"opportunities ask {n}"))
    assert (
        f"The last day for questions about {TITLE} was {format_when(story.when.questions_close)}"
        in refused
    ), refused
    assert "Nothing was sent" in refused
    async with story.services.db.session() as session:
        assert len((await session.scalars(select(Clarification))).all()) == 1
    assert len(await rows_like(story.services, f"opportunity:{n}:%")) == len(before)
    attempt = (await audit_actions(story.services, "opportunity.refused"))[-1]
    assert (attempt.actor_id, attempt.door, attempt.details["attempted"]) == (
        story.people["teams"],
        "teams",
        "ask",
    )


async def stage_open_data(story: Story) -> None:
    """The opportunity's page links to its open data. The OCDS release package, fetched over
    HTTP, is valid OCDS 1.1.5 with the UK extension: the tender as published and the
    amendment with the new deadline, both lots and the CPV code typed on the form. Priya
    records a grant award on the web; the council's 360Giving JSON and CSV hold it and the
    JSON validates against the 360Giving schema."""
    n = story.n
    page = await story.priya.open(f"show {n}")
    assert f'href="/opportunities/{n}/ocds.json"' in page and "Open data (OCDS)" in text_of(page)
    status, content_type, body = await story.priya.get_file(f"/opportunities/{n}/ocds.json")
    assert status == 200 and content_type.startswith("application/json")
    package = json.loads(body)
    assert ocds_errors(package) == []
    releases = package["releases"]
    assert [r["tag"] for r in releases] == [["tender"], ["tenderAmendment"]]
    assert {r["ocid"] for r in releases} == {f"{OCID_PREFIX}-OPP-{n}"}
    ends = [datetime.fromisoformat(r["tender"]["tenderPeriod"]["endDate"]) for r in releases]
    assert ends == [story.when.deadline, story.when.new_deadline]
    tender = releases[1]["tender"]
    assert tender["amendments"][0]["rationale"] == CHANGE
    assert tender["title"] == TITLE
    assert [(lot["title"], lot["value"]["amount"]) for lot in tender["lots"]] == [
        ("Preston families", 30000),
        ("Burnley families", 50000),
    ]
    assert tender["value"]["amount"] == 80000 and tender["minValue"]["amount"] == 50000
    assert "85312000" in json.dumps(tender["items"]), tender["items"]
    assert releases[0]["buyer"]["name"] == "Riverside Borough Council"

    # The grant, recorded on the web, is public in the 360Giving standard.
    awarded_on = story.clock.now().date()
    said = text_of(
        await story.priya.fill_in(
            f"award {n}",
            [
                {
                    "organisation": "Riverside Youth Trust",
                    "amount": "£60,000",
                    "awarded_on": awarded_on.strftime("%d/%m/%Y"),
                }
            ],
        )
    )
    assert "Recorded: a grant of £60,000 to Riverside Youth Trust" in said, said
    [audit] = await audit_actions(story.services, "opportunity.grant_awarded")
    assert audit.actor_id == story.priya_id
    status, content_type, body = await story.priya.get_file("/grants/riverside/360giving.json")
    assert status == 200 and content_type.startswith("application/json")
    grants = json.loads(body)
    assert giving_errors(grants, published_giving_schemas()) == []
    [grant] = grants["grants"]
    assert grant["recipientOrganization"][0]["id"] == "GB-CHC-1100001"
    assert grant["fundingOrganization"][0]["id"] == ORG_ID
    assert (grant["amountAwarded"], grant["awardDate"]) == (60000, awarded_on.isoformat())
    assert grant["title"] == TITLE
    status, content_type, body = await story.priya.get_file("/grants/riverside/360giving.csv")
    assert status == 200 and content_type.startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert (row["Recipient Org:Identifier"], row["Funding Org:Identifier"]) == (
        "GB-CHC-1100001",
        ORG_ID,
    )
    assert row["Amount Awarded"] == "60000.00"


async def stage_pipeline(story: Story) -> None:
    """Priya plans what the council will buy next on the web and publishes the pipeline as
    advance notice. Tom sees it in Slack and Amina in Teams, with dates in full and a note
    that plans change; nobody is sent a message. The team's UK1 files (CSV and JSON) download
    for Priya, and not for a provider."""
    today = story.clock.now().date()
    publication_on, starts_on = today + timedelta(days=90), today + timedelta(days=270)
    planned = text_of(
        await story.priya.fill_in_form(
            "pipeline",
            "plan",
            [
                {
                    "title": PLANNED,
                    "description": "Evening clubs for young people aged 11 to 18.",
                    "value_min": "£2,200,000",
                    "value_max": "£2,500,000",
                    "route": "light_touch",
                    "publication_on": publication_on.strftime("%d/%m/%Y"),
                    "contract_start_on": starts_on.strftime("%d/%m/%Y"),
                    "area_served": "Preston",
                    "cpv_codes": "85312000",
                }
            ],
        )
    )
    assert "Planned:" in planned and full_day(publication_on) in planned, planned
    assert "don't see it until you publish" in planned
    before = await rows_like(story.services, "%")
    published = text_of(await story.priya.confirm_command("pipeline", "publish"))
    assert "Published" in published and "1 planned opportunit" in published, published
    assert "pipeline notice (UK1)" in published  # over the UK1 figure
    [audited] = await audit_actions(story.services, "pipeline.published")
    assert audited.actor_id == story.priya_id and len(audited.details["entries"]) == 1
    assert len(await rows_like(story.services, "%")) == len(before), "a list, not a message"

    seen = {
        "slack": await story.tom.say("pipeline"),
        "teams": flatten(await story.amina.say("pipeline")),
    }
    for door, text in seen.items():
        for words in (
            f"Riverside Borough Council: {PLANNED}",
            full_day(publication_on),
            full_day(starts_on),
            "£2,200,000 to £2,500,000",
            "Plans can change",
        ):
            assert words in text, (door, words, text)

    status, content_type, body = await story.priya.get_file("/pipeline/riverside/uk1.json")
    assert status == 200 and content_type.startswith("application/json")
    document = json.loads(body)
    assert document["noticeType"] == "UK1"
    [row] = document["plannedProcurements"]
    assert (row["title"], row["estimatedValueMaximum"], row["mustBeListed"]) == (
        PLANNED,
        "2500000.00",
        True,
    )
    assert row["estimatedTenderNoticeDate"] == publication_on.isoformat()
    assert row["cpvCodes"] == ["85312000"] and row["deliveryAreaNames"] == ["Preston"]
    status, content_type, body = await story.priya.get_file("/pipeline/riverside/uk1.csv")
    assert status == 200 and content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][1] == "Title" and rows[1][1] == PLANNED and len(rows) == 2
    # A provider may not have the team's file; the attempt is on the record.
    status, _, body = await story.grace.get_file("/pipeline/riverside/uk1.csv")
    assert status == 403 and "not yours to download" in body.decode()
    assert PLANNED not in body.decode()


async def stage_withdraw(story: Story) -> None:
    """Priya withdraws it: everyone told or interested hears it with her reason, at the
    same moment; interest can't be registered any more."""
    n = story.n
    page = text_of(await story.priya.fill_in(f"withdraw {n}", [{"reason": REASON}]))
    assert "The news that it is withdrawn is on its way to 5 people" in page, page
    withdrawn = await story.opportunity()
    assert withdrawn.state == OpportunityState.WITHDRAWN
    assert (withdrawn.withdrawn_at, withdrawn.withdrawal_reason) == (story.clock.now(), REASON)
    [audit] = await audit_actions(story.services, "opportunity.withdrawn")
    assert audit.actor_id == story.priya_id and audit.details["people_told"] == 5

    key = f"opportunity:{n}:withdrawn:1"
    rows = told_together(await rows_like(story.services, f"{key}:%"), story.to_tell(), key)
    on_the_record(await announcements(story.services, n, "withdrawn"), rows)
    await settle(story.sender)
    for door, text in (await story.seen_by_each(key)).items():
        assert f"{TITLE} has been withdrawn by Riverside Borough Council" in text, door
        assert REASON in text, door

    before = await story.interest_rows()
    late = await story.amina.press(story.announced["teams"], f"interest {n}")
    assert f"{TITLE} is not open for bids now, so nothing was changed" in late, late
    assert await story.interest_rows() == before
    assert "withdrawn" in text_of(await story.grace.open(f"show {n}"))


async def the_whole_record(story: Story) -> None:
    """Every message about it went out once, and each announcement is on the record: three
    at publishing, the answer to the question to the four then told, each change to the five
    told or interested (Ruth from her digest, Sam from joining), and the reminders."""
    async with story.services.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.idempotency_key.like(f"opportunity:{story.n}:%")
                )
            )
        ).all()
        joan_told = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.person_id == story.joan)
        )
    assert all(r.state == WorkState.DONE for r in rows)
    by_kind = Counter(r.idempotency_key.split(":")[2] for r in rows)
    assert by_kind == {
        "published": 3,
        "clarification": 4,
        "amended": 5,
        "withdrawn": 5,
        "reminder": 9,
    }, by_kind
    assert joan_told == 0, "Joan was never told: it never fitted her"
    kinds = {
        kind: len(await announcements(story.services, story.n, kind))
        for kind in ("published", "amended", "withdrawn", "reminded")
    }
    assert kinds == {"published": 3, "amended": 5, "withdrawn": 5, "reminded": 9}


def valid_for_every_platform(story: Story) -> None:
    """Everything sent to Slack was valid Block Kit, and every Teams card valid."""
    problems = block_kit_problems(BlockKitLog(fakes=[story.fake_slack]))
    problems += card_problems(
        CardLog(fakes=[story.fake_teams], returned=[("invoke", c) for c in story.amina.returned])
    )
    assert not problems, "\n".join(problems)
    assert not story.fake_slack.duplicates() and not story.fake_teams.duplicates()


# --- the test --------------------------------------------------------------------------------


async def meet_everyone(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    browsers: dict[str, RecordingWebUser],
) -> Story:
    """The clock stopped on the next Monday morning; Priya and Grace signed in on the web;
    Tom has said hello in Slack (his email links him), Amina in Teams (her account linked,
    as an admin would)."""
    when = When.from_monday(next_monday_morning(services.clock.now()))
    clock = FixedClock(when.now)
    services.clock = clock
    sender: OutboxSender = app_server.runner.app[SENDER]
    priya = OpportunityBrowser(browsers["Priya Shah"])
    ruth_web = OpportunityBrowser(browsers["Ruth Evans"])
    grace = OpportunityBrowser(browsers["Grace Lee"])
    await priya.user.sign_in_locally("Priya Shah")
    await grace.user.sign_in_locally("Grace Lee")
    # The demo's sign-in page lists everyone; what Grace sees as Grace starts here.
    browsers["Grace Lee"].pages.clear()
    people = {
        "slack": await person_id(services, "tom@riversideyouth.example"),
        "teams": await person_id(services, "amina@ashacentre.example"),
        "web": await person_id(services, "grace@eastgatekitchen.example"),
    }
    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackProvider(slack_poster, fake_slack, sender, services, TOM_SLACK)
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
    amina = TeamsProvider(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, AMINA
    )
    assert "What I can help with" in flatten(await amina.say("help"))
    return Story(
        services=services,
        sender=sender,
        fake_slack=fake_slack,
        fake_teams=fake_teams,
        clock=clock,
        when=when,
        priya=priya,
        tom=tom,
        amina=amina,
        grace=grace,
        ruth_web=ruth_web,
        sweep=app_server.runner.app[SWEEP],
        people=people,
        joan=await person_id(services, "joan@silverthreads.example"),
        priya_id=await person_id(services, "priya.shah@riverside.example"),
    )


async def test_an_opportunity_from_posting_to_withdrawal_with_providers_on_three_doors(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    browsers: dict[str, RecordingWebUser],
) -> None:
    story = await meet_everyone(
        services, app_server, fake_slack, fake_teams, slack_poster, browsers
    )
    await stage_post(story)
    await stage_route(story)
    await stage_ruth_chooses_weekly(story)
    await stage_preview_publish(story)
    await stage_told_at_once(story)
    await stage_weekly_digest(story)
    await stage_is_this_for_us(story)
    await stage_interest(story)
    await stage_clarification(story)
    await stage_partners(story)
    await stage_team_sees_interest(story)
    await stage_amend_deadline(story)
    await stage_reminders(story)
    await stage_question_too_late(story)
    await stage_open_data(story)
    await stage_pipeline(story)
    await stage_withdraw(story)
    await the_whole_record(story)
    no_provider_saw_another(story)
    valid_for_every_platform(story)
