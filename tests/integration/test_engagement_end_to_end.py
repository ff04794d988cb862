"""Pre-market engagement from start to finish, with three providers on three doors.

Priya Shah (Riverside Borough Council) runs the engagement on the web. The providers:
Tom Okafor (Riverside Youth Trust) in Slack, Amina Begum (Asha Women's Centre) in
Teams, and Grace Lee (Eastgate Community Kitchen) on the web. Everything goes over real
HTTP to one running app: signed requests to /slack/events with the app calling a fake
Slack Web API, JWT-signed activities to /api/messages with replies going to a fake Bot
Connector, and a browser session for the web. Messages leave through the app's own
outbox sender (drained by hand: the scheduler is off in tests).

Time: the app runs on the real clock until the closing date comes near; then the test
puts a `FixedClock` in the services and moves it (to the "closes soon" reminder, then past
the closing time), running the app's own due sweep each time. Messages queued on the real
clock before then are simply older, so they still go out.

Tom answers in his Slack DM one question at a time, Grace in the web form. Amina starts in
her Teams chat and is still half-way when the engagement closes, so late answers are tried
on all three doors: a web page opened in time, the next chat answer, a new `answer`.

The acceptance test of the issue: publish, all three invited at the same time, two
answer, one asks a clarification, the answer reaches all three with no name on it, an
event fills and waitlists, the engagement closes on schedule, the summary and the record
are right, and "you said, we did" reaches everyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SENDER, SWEEP
from bot.clock import LONDON, FixedClock, format_when
from bot.outbox.sender import OutboxSender
from bot.scheduler import DueSweep
from bot.services import Services
from storage.engagement_tables import (
    BookingState,
    Clarification,
    Engagement,
    EngagementEvent,
    EngagementInvitation,
    EngagementState,
    EventBooking,
)
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Door,
    FormResponse,
    Organisation,
    OutboxMessage,
    Reminder,
    ResponseState,
    WorkState,
)
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
from tests.teams.helpers import invoke_card, only_card, press

SLACK_SECRET = "test-signing-secret"
TOM_SLACK = "U0001"
AMINA = TeamsUser(
    id="29:1AminaB3gum7Qx5vWz0pLmN2rStUvXy98765ZyXwVuTsRqPoNmLkJi",
    name="Amina Begum",
    aad_object_id="a31a0000-0000-4000-8000-00000000a5a4",
)

TITLE = "Young people's wellbeing support"
QUESTION = "Could the work be split into smaller lots so small groups can bid?"
ANSWER = "Yes. We plan three lots, each under £80,000 a year."
YOU_SAID = "You said lots were too big for small groups, so we split the work into three lots."
# What would give away who asked the clarification.
ASKER = ("Grace Lee", "Eastgate Community Kitchen", "grace@eastgatekitchen.example")


# --- one app with every door -----------------------------------------------------------------


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    """Slack (one workspace) and Teams (one tenant), each aimed at its fake."""
    return chat_door_settings(fake_slack, fake_teams)


@pytest.fixture
async def browsers(app_server: RunningApp) -> AsyncIterator[dict[str, WebUser]]:
    users = {name: WebUser(app_server.url) for name in ("Priya Shah", "Grace Lee")}
    yield users
    for user in users.values():
        await user.close()


# --- small readers ---------------------------------------------------------------------------


async def organisation_id(services: Services, slug: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    assert found is not None, slug
    return int(found)


async def the_engagement(services: Services) -> Engagement:
    async with services.db.session() as session:
        found = await session.scalar(select(Engagement))
    assert found is not None
    return found


async def answers_for(services: Services, engagement: Engagement) -> list[FormResponse]:
    async with services.db.session() as session:
        rows = await session.scalars(
            select(FormResponse)
            .where(FormResponse.form_key == engagement.form_key)
            .order_by(FormResponse.id)
        )
        return list(rows.all())


async def audit_actions(services: Services, action: str) -> list[AuditEvent]:
    async with services.db.session() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows.all())


def one_per_door(
    rows: list[OutboxMessage], people: dict[str, int], engagement_key: str
) -> dict[str, OutboxMessage]:
    """The fan-out rows keyed by door, checked to be one for each provider, due together,
    with the very same payload."""
    assert len(rows) == 3, [r.idempotency_key for r in rows]
    by_door = {str(r.door): r for r in rows}
    assert by_door.keys() == {"slack", "teams", "web"}, by_door
    assert {d: r.person_id for d, r in by_door.items()} == people
    assert {r.idempotency_key for r in rows} == {
        f"{engagement_key}:{pid}" for pid in people.values()
    }
    assert len({r.next_attempt_at for r in rows}) == 1, "queued to go at the same moment"
    assert all(r.payload == rows[0].payload for r in rows), "the same message for everyone"
    return by_door


async def delivered_everywhere(
    services: Services,
    key_pattern: str,
    tom: SlackPerson,
    amina: TeamsPerson,
    grace_id: int,
) -> dict[str, str]:
    """After a send pass: each row is sent, and each provider can read it on their door.
    Returns what each door showed."""
    rows = await rows_like(services, key_pattern)
    assert rows and all(r.state == WorkState.DONE and r.sent_at for r in rows), [
        (r.idempotency_key, r.state, r.last_error) for r in rows
    ]
    by_door = {str(r.door): r for r in rows}
    web = await inbox_payloads(services, grace_id, by_door["web"].idempotency_key)
    assert len(web) == 1
    return {
        "slack": tom.read(by_door["slack"].idempotency_key),
        "teams": amina.read(by_door["teams"].idempotency_key),
        "web": flatten(web),
    }


def page_number_of(html: str) -> int:
    """Which page a web form shows (its hidden `_page`)."""
    found = re.search(r'name="_page" value="(\d+)"', html)
    assert found, "no page number on the form"
    return int(found.group(1))


# --- the test --------------------------------------------------------------------------------


async def test_three_providers_on_three_doors_from_publish_to_you_said_we_did(
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    browsers: dict[str, WebUser],
) -> None:
    sender: OutboxSender = app_server.runner.app[SENDER]
    sweep: DueSweep = app_server.runner.app[SWEEP]
    priya = Browser(browsers["Priya Shah"])
    grace = Browser(browsers["Grace Lee"])
    await priya.user.sign_in_locally("Priya Shah")
    await grace.user.sign_in_locally("Grace Lee")
    people = {
        "slack": await person_id(services, "tom@riversideyouth.example"),
        "teams": await person_id(services, "amina@ashacentre.example"),
        "web": await person_id(services, "grace@eastgatekitchen.example"),
    }
    priya_id = await person_id(services, "priya.shah@riverside.example")
    eastgate = await organisation_id(services, "eastgate-community-kitchen")

    # Tom first talks to Convene in Slack (his email links him to his person); Amina's
    # Teams account is linked to her person (as an admin would) and she says hello there.
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

    # --- 1. Priya sets up and publishes; all three are invited at the same moment --------
    now = services.clock.now()
    closes_on = (now + timedelta(weeks=8)).astimezone(LONDON).date()
    html = await priya.fill_in(
        "new",
        [
            {
                "title": TITLE,
                "purpose": "Earlier help for young people who are struggling.",
                "outcomes": "",
                "service_area": "mental_health",
                # Riverside Youth Trust (Lancaster), Eastgate Community Kitchen (Burnley) and
                # Asha Women's Centre (all Lancashire, which holds both) match; Silver
                # Threads (Preston only) does not.
                "area_served": "Lancaster, Burnley",
            },
            {
                "budget": "£240,000",
                "timeline": "",
                "funding_routes": ["grant", "contract"],
                "closes_on": closes_on.strftime("%d/%m/%Y"),
                "confidentiality": "What you tell us stays with our commissioning team.",
            },
            {
                "questions": ["viable_terms", "payment"],
                "own_question_1": "",
                "own_question_2": "",
                "own_question_3": "",
            },
        ],
    )
    assert f"Draft: {TITLE}" in text_of(html), text_of(html)
    engagement = await the_engagement(services)
    n = engagement.id
    page = text_of(await priya.confirm(f"publish {n}"))
    assert "Published. We are sending the same invitation to 3 people in 3 organisations" in page

    engagement = await the_engagement(services)
    assert engagement.state == EngagementState.OPEN and engagement.published_at is not None
    invites = one_per_door(
        await rows_like(services, f"engagement:{n}:invite:%"), people, f"engagement:{n}:invite"
    )
    assert {r.next_attempt_at for r in invites.values()} == {engagement.published_at}
    assert invites["slack"].address == TOM_SLACK
    assert invites["teams"].address == amina.conversation
    async with services.db.session() as session:
        invitations = (
            await session.scalars(
                select(EngagementInvitation).where(EngagementInvitation.engagement_id == n)
            )
        ).all()
    assert sorted((i.person_id, i.door) for i in invitations) == sorted(
        (pid, door) for door, pid in people.items()
    )
    [published_audit] = await audit_actions(services, "engagement.published")
    assert published_audit.actor_id == priya_id
    assert published_audit.details["organisations_invited"] == 3
    assert published_audit.details["people_invited"] == 3

    await settle(sender)
    seen = await delivered_everywhere(
        services, f"engagement:{n}:invite:%", tom, amina, people["web"]
    )
    for door, text in seen.items():
        assert f"Riverside Borough Council would like your views: {TITLE}" in text, door
        assert "Answer the questions" in text, door
    assert any(
        c.body["channel"] == f"D{TOM_SLACK}" for c in fake_slack.calls_to("chat.postMessage")
    )
    assert TITLE in await grace.inbox()

    # --- 2. Tom answers in Slack, one question at a time; Grace in the web form -----------
    first = await tom.say(f"engagements answer {n}")
    assert "What would make this work possible" in first, first
    second = await tom.say("Five-year agreements, paid monthly in advance.")
    assert "How would you like to be paid?" in second, second
    done = await tom.say("In advance")
    assert "Thank you" in done, done

    page = text_of(
        await grace.fill_in(
            f"answer {n}",
            [
                {"viable_terms": "Payment in arrears is hard for a kitchen our size."},
                {"payment": "arrears_30"},
            ],
        )
    )
    assert f"Thank you. We saved your questions: {TITLE}" in page, page

    sent = [
        r for r in await answers_for(services, engagement) if r.state == ResponseState.SUBMITTED
    ]
    assert len(sent) == 2
    assert all(r.engagement_id == n and r.authority_id == engagement.authority_id for r in sent)
    assert {r.respondent_id: r.answers["payment"] for r in sent} == {
        people["slack"]: "advance",
        people["web"]: "arrears_30",
    }
    assert sent[0].answers["viable_terms"] == "Five-year agreements, paid monthly in advance."

    # Amina starts in her Teams chat, one question at a time, and does not finish in time.
    prompt = flatten(await amina.say(f"engagements answer {n} chat"))
    assert "What would make this work possible" in prompt, prompt
    next_prompt = flatten(await amina.say("We could start within a month."))
    assert "How would you like to be paid?" in next_prompt, next_prompt

    # --- 3. Grace asks a question on the web; Priya answers it for everyone -----------------
    page = text_of(await grace.fill_in(f"ask {n}", [{"question": QUESTION}]))
    assert "without your name or your organisation's name" in page, page
    async with services.db.session() as session:
        question = await session.scalar(select(Clarification))
    assert question is not None and question.asked_for == eastgate
    q = question.id

    waiting = text_of(await priya.open(f"questions {n}"))
    assert QUESTION in waiting and "Eastgate Community Kitchen" in waiting, "the team sees who"
    html = await priya.open(f"reply {n} {q}")
    status, html = await priya.send_page(html, 0, {"question": QUESTION, "answer": ANSWER})
    assert status == 200 and "to 3 people taking part, all at the same time" in text_of(html)

    clarification_key = f"engagement:{n}:clarification:{q}"
    rows = one_per_door(
        await rows_like(services, f"{clarification_key}:%"), people, clarification_key
    )
    for name in ASKER:
        assert name not in json.dumps(rows["web"].payload), name
    await settle(sender)
    seen = await delivered_everywhere(services, f"{clarification_key}:%", tom, amina, people["web"])
    for door, text in seen.items():
        assert QUESTION in text and ANSWER in text, door
        for name in ASKER:
            assert name not in text, (door, name)
    # And in everything Slack and Teams were given for those messages, not only the text.
    assert all(
        name not in json.dumps(tom.messages(rows["slack"].idempotency_key)) for name in ASKER
    )
    assert all(
        name not in json.dumps(amina.with_key(rows["teams"].idempotency_key)) for name in ASKER
    )

    log = [flatten(a) for a in await amina.say(f"engagements show {n}")]
    assert any(f"Q: {QUESTION}" in t and f"A: {ANSWER}" in t for t in log), log
    assert not any(name in t for t in log for name in ASKER)
    log_on_web = text_of(await grace.open(f"show {n}"))
    assert "Questions and answers, and updates" in log_on_web and ANSWER in log_on_web

    # --- 4. An event with one place: Tom books it from Slack, Amina is waitlisted in Teams --
    day = (now + timedelta(weeks=4)).astimezone(LONDON).date()
    while day.weekday() != 1:  # a Tuesday
        day += timedelta(days=1)
    starts = datetime.combine(day, time(14, 0), tzinfo=LONDON)
    page = text_of(
        await priya.fill_in(
            f"event {n}",
            [
                {
                    "kind": "workshop",
                    "title": "Design workshop",
                    "starts_at": format_when(starts),  # "Tuesday 2 March 2027, 2pm"
                    "place": "Riverside Community Hall",
                    "link": "",
                    "capacity": "1",
                }
            ],
        )
    )
    assert (
        "Added Design workshop" in page and "We sent it to 3 people invited or taking part" in page
    ), page
    async with services.db.session() as session:
        event = await session.scalar(select(EngagementEvent))
    assert event is not None and event.capacity == 1 and event.starts_at == starts
    e = event.id
    await settle(sender)
    event_key = f"engagement:{n}:event:{e}"
    seen = await delivered_everywhere(services, f"{event_key}:%", tom, amina, people["web"])
    assert all("Book a place" in text for text in seen.values()), seen

    booked = await tom.say(f"engagements rsvp {e}")
    assert "You have a place at Design workshop" in booked, booked
    [event_card] = amina.with_key(f"{event_key}:{people['teams']}")
    pressed = await amina.execute(
        "cmd.engagements",
        press(only_card(event_card), "cmd.engagements"),
        reply_to_id=event_card["id"],
    )
    waitlisted = flatten(invoke_card(pressed.body))
    assert "is full, so we put you on the waiting list (number 1)" in waitlisted, waitlisted
    async with services.db.session() as session:
        bookings = {
            b.person_id: b.state
            for b in (
                await session.scalars(select(EventBooking).where(EventBooking.event_id == e))
            ).all()
        }
    assert bookings == {people["slack"]: BookingState.BOOKED, people["teams"]: BookingState.WAITING}

    # --- 5. The engagement closes on schedule ------------------------------------------------
    # Grace opens her answers again to change them, but does not send them before the close.
    draft_html = await grace.open(f"answer {n}")
    assert "Payment in arrears is hard" in draft_html, "starts from what she sent"

    # A few working days before: only the organisation that started and did not send is
    # reminded (the event reminders fall due on the way, for the one person with a place).
    async with services.db.session() as session:
        reminders = {
            r.kind: r
            for r in (
                await session.scalars(select(Reminder).where(Reminder.target_id == str(n)))
            ).all()
            if r.kind.startswith("engagement.")
        }
    closing_soon = reminders["engagement.closing_soon"].due_at
    assert closing_soon < engagement.closes_at
    clock = FixedClock(closing_soon + timedelta(minutes=1))
    services.clock = clock
    await sweep.run_once()
    await settle(sender)
    nudges = await rows_like(services, f"reminder:{reminders['engagement.closing_soon'].id}:%")
    assert [(r.person_id, r.state) for r in nudges] == [(people["teams"], WorkState.DONE)]
    assert "closes soon" in amina.read(nudges[0].idempotency_key)
    async with services.db.session() as session:
        event_reminders = (
            await session.scalars(
                select(Reminder).where(
                    Reminder.target_type == "event", Reminder.target_id == str(e)
                )
            )
        ).all()
    assert {r.kind for r in event_reminders} == {"event.day_before", "event.hour_before"}
    for reminder in event_reminders:
        assert reminder.state == WorkState.DONE
        reminded = await rows_like(services, f"reminder:{reminder.id}:%")
        assert [r.person_id for r in reminded] == [people["slack"]], "the booked place only"
    assert (await the_engagement(services)).state == EngagementState.OPEN

    before = [
        (r.id, r.state, r.answers, r.updated_at) for r in await answers_for(services, engagement)
    ]
    clock.advance(engagement.closes_at - clock.now() + timedelta(minutes=1))
    await sweep.run_once()
    closed = await the_engagement(services)
    assert closed.state == EngagementState.CLOSED
    assert closed.closed_at == clock.now()
    async with services.db.session() as session:
        close_reminder = await session.get(Reminder, reminders["engagement.close"].id)
    assert close_reminder is not None and close_reminder.state == WorkState.DONE

    await settle(sender)
    [summary_row] = await rows_like(services, f"engagement:{n}:summary:%")
    assert (summary_row.person_id, summary_row.door, summary_row.state) == (
        priya_id,
        Door.WEB,
        WorkState.DONE,
    )
    assert f"Summary: {TITLE}" in await priya.inbox()
    seen = await delivered_everywhere(
        services, f"engagement:{n}:closed:%", tom, amina, people["web"]
    )
    assert all(f"{TITLE} has closed" in text for text in seen.values()), seen

    # Late answers, on every door: told clearly, nothing saved, and the attempt on the record.
    # Grace sends the web page she opened in time.
    status, html = await grace.send_page(
        draft_html, page_number_of(draft_html), {"viable_terms": "Too late, sorry."}
    )
    assert "This engagement has closed, so this can't be sent or changed now" in text_of(html)
    # Amina gives her next answer in the Teams chat.
    late = flatten(await amina.say("In advance"))
    assert "This engagement has closed, so this can't be sent or changed now" in late, late
    refused_forms = await audit_actions(services, "form.refused")
    assert [a.actor_id for a in refused_forms] == [people["web"], people["teams"]]
    # Tom asks to answer again in Slack.
    late = await tom.say(f"engagements answer {n}")
    assert "closed on" in late and "answers can't be sent or changed now" in late, late
    refused = await audit_actions(services, "engagement.refused")
    assert [(a.actor_id, a.object_id) for a in refused] == [(people["slack"], str(n))]
    after = [
        (r.id, r.state, r.answers, r.updated_at) for r in await answers_for(services, engagement)
    ]
    assert after == before, "nothing changed after the close"

    # --- 6. The summary and the record --------------------------------------------------------
    summary = text_of(await priya.open(f"summary {n}"))
    for line in (
        "Organisations invited 3",
        "People invited 3",
        "Organisations that sent answers 2",
        "Questions asked 1 (1 answered for everyone)",
        "Design workshop 1 booked, 1 waiting, 0 came",
    ):
        assert line in summary, (line, summary)

    chat_record = text_of(await priya.open(f"record {n}"))
    assert "3 queued, 3 delivered" in chat_record, chat_record
    assert "Organisations that answered 2" in chat_record, chat_record
    status, record_page = await priya.user.get(f"/engagements/{n}/record")
    assert status == 200 and TITLE in text_of(record_page)
    async with priya.user.client.get(f"{priya.user.base}/engagements/{n}/record.json") as resp:
        assert resp.status == 200
        record: dict[str, Any] = json.loads(await resp.text())
    assert record["notice"]["title"] == TITLE
    assert record["notice"]["closing_date"] == engagement.closes_at.isoformat()
    assert record["engagement"]["state"] == EngagementState.CLOSED
    assert record["engagement"]["published_at"] == engagement.published_at.isoformat()
    assert record["participation"] == {
        "organisations_invited": 3,
        "people_invited": 3,
        "joined_without_invitation": 0,
        "organisations_answered": 2,
        "questions_asked": 1,
        "updates_published": 0,
        "private_conversations": 0,
        "private_conversations_with_notes": 0,
    }
    assert sorted(i["door"] for i in record["invitations"]) == ["slack", "teams", "web"]
    assert all(i["delivered_at"] and i["delivery"] == "done" for i in record["invitations"])
    assert len({i["queued_at"] for i in record["invitations"]}) == 1
    [published] = record["clarifications"]
    assert (published["question"], published["answer"]) == (QUESTION, ANSWER)
    assert published["published_at"]
    assert published["edited_to_keep_the_asker_anonymous"] is False
    assert published["original_question"] is None
    assert not any(name in json.dumps(published) for name in ASKER)
    [workshop] = record["events"]
    assert (workshop["capacity"], workshop["booked"], workshop["waiting"]) == (1, 1, 1)
    assert "Five-year agreements" not in json.dumps(record), "never anybody's answers"

    # --- 7. "You said, we did" reaches everyone ----------------------------------------------
    page = text_of(await priya.fill_in(f"yousaid {n}", [{"text": YOU_SAID}]))
    assert "Sent to 3 people invited or taking part" in page, page
    await settle(sender)
    seen = await delivered_everywhere(
        services, f"engagement:{n}:yousaid:%", tom, amina, people["web"]
    )
    assert all(YOU_SAID in text for text in seen.values()), seen
    assert YOU_SAID in await grace.inbox()
    async with priya.user.client.get(f"{priya.user.base}/engagements/{n}/record.json") as resp:
        assert json.loads(await resp.text())["you_said_we_did"]["text"] == YOU_SAID

    # Everything sent to Slack was valid Block Kit, and every Teams card valid.
    problems = block_kit_problems(BlockKitLog(fakes=[fake_slack]))
    problems += card_problems(
        CardLog(fakes=[fake_teams], returned=[("invoke", c) for c in amina.returned])
    )
    assert not problems, "\n".join(problems)
    assert not fake_slack.duplicates() and not fake_teams.duplicates()
