"""Engagements when people get things wrong, or try what they may not: over real HTTP on the
web door, against the real app and database.

Every case checks three things: the person gets a clear, plain-English message; nothing
that matters changed in the database (the engagement, invitations, messages, questions,
bookings, answers); and, where someone tried to act on what is not theirs or is closed,
the attempt is in the audit log (`engagement.refused`, `form.refused`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.core.reply import FormView, Reply
from bot.core.turn import Door, Intent, Submission, Turn
from bot.services import Services
from storage.engagement_tables import (
    Clarification,
    Engagement,
    EngagementEvent,
    EngagementFeedback,
    EngagementInvitation,
    EngagementParticipant,
    EngagementState,
    EventBooking,
    MeetingRequest,
)
from storage.models import (
    AuditEvent,
    Authority,
    FormResponse,
    Organisation,
    OutboxMessage,
    Person,
    Reminder,
    Role,
)
from storage.people import grant, load_actor
from tests.support.areas import codes
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of

TITLE = "Warm spaces this winter"
HUGE = 99_999_999_999  # bigger than any database integer id


# --- setting up -----------------------------------------------------------------------------


@dataclass
class Story:
    """One engagement (and, when asked for, its event and a waiting question)."""

    engagement_id: int
    event_id: int | None
    people: dict[str, int]
    question_id: int | None = None
    meeting_id: int | None = None


async def _people(services: Services) -> dict[str, int]:
    async with services.db.session() as session:
        return {
            name: person_id
            for name, person_id in (await session.execute(select(Person.name, Person.id))).all()
        }


async def _turn(services: Services, person_id: int, **parts: Any) -> list[Reply]:
    """A turn through the real router, in-process: used only to set the scene."""
    async with services.db.session() as session:
        actor = await load_actor(session, person_id, services.tz)
    return await services.router.dispatch(Turn(door=Door.WEB, actor=actor, **parts), services)


async def _fill_in(services: Services, person_id: int, text: str, values: dict[str, Any]) -> None:
    replies = await _turn(services, person_id, text=text)
    views = [r for r in replies if isinstance(r, FormView)]
    assert views, replies
    submitted = await _turn(
        services,
        person_id,
        submission=Submission(
            response_id=views[0].response_id, page=0, values=values, intent=Intent.SUBMIT
        ),
    )
    assert not any(isinstance(r, FormView) for r in submitted), submitted


async def make_engagement(
    services: Services,
    *,
    publish: bool = True,
    capacity: int | None = None,
    with_question: bool = False,
    with_meeting: bool = False,
) -> Story:
    """Priya's engagement for Preston and Burnley (every demo provider matches), set up
    and, unless asked not to, published through the real handlers."""
    now = services.clock.now()
    people = await _people(services)
    async with services.db.session() as session:
        riverside = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert riverside is not None
        engagement = Engagement(
            authority_id=riverside.id,
            title=TITLE,
            purpose="Warm, welcoming places to spend the day.",
            area_served=codes("Preston", "Burnley"),
            closes_at=now + timedelta(weeks=8),
            confidentiality="We keep what you say private.",
            question_ids=["viable_terms", "payment"],
            created_by=people["Priya Shah"],
            created_at=now,
            state=EngagementState.DRAFT,
        )
        session.add(engagement)
        await session.flush()
        event_id = None
        if capacity is not None:
            event = EngagementEvent(
                engagement_id=engagement.id,
                kind="drop_in",
                title="Drop-in at the library",
                starts_at=now + timedelta(days=10),
                place="Eastgate Library",
                capacity=capacity,
                created_at=now,
            )
            session.add(event)
            await session.flush()
            event_id = event.id
        story = Story(engagement.id, event_id, people)
    if not publish:
        return story
    replies = await _turn(
        services, people["Priya Shah"], text=f"engagements publish {story.engagement_id}"
    )
    assert any("Published" in getattr(r, "text", "") for r in replies), replies
    if with_question:
        await _fill_in(
            services,
            people["Tom Okafor"],
            f"engagements ask {story.engagement_id}",
            {"question": "Can two groups apply together?"},
        )
        async with services.db.session() as session:
            story.question_id = await session.scalar(select(Clarification.id))
    if with_meeting:
        await _fill_in(
            services,
            people["Tom Okafor"],
            f"engagements talk {story.engagement_id}",
            {"topic": "Our costs", "how": "call"},
        )
        async with services.db.session() as session:
            story.meeting_id = await session.scalar(select(MeetingRequest.id))
    return story


async def add_hilltop(services: Services) -> None:
    """A second council, Hilltop, and its commissioner Yusuf Khan."""
    async with services.db.session() as session:
        hilltop = Authority(name="Hilltop District Council", slug="hilltop")
        yusuf = Person(name="Yusuf Khan", email="yusuf@hilltop.example", is_demo=True)
        session.add_all([hilltop, yusuf])
        await session.flush()
        await grant(session, yusuf, Role.COMMISSIONER, authority_id=hilltop.id)


async def add_sam(services: Services) -> None:
    """A second member of Riverside Youth Trust (a fifth provider person)."""
    async with services.db.session() as session:
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert trust is not None
        sam = Person(name="Sam Patel", email="sam@riversideyouth.example", is_demo=True)
        session.add(sam)
        await session.flush()
        await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=trust.id)


Browsers = Callable[[str], Awaitable[WebUser]]


@pytest.fixture
async def browser(app_server: RunningApp) -> AsyncIterator[Browsers]:
    """`await browser("Tom Okafor")`: a browser signed in as that person."""
    opened: dict[str, WebUser] = {}

    async def signed_in(name: str) -> WebUser:
        if name not in opened:
            opened[name] = WebUser(app_server.url)
            await opened[name].sign_in_locally(name)
        return opened[name]

    yield signed_in
    for user in opened.values():
        await user.close()


async def open_link(user: WebUser, words: str) -> str:
    """Follow a link (a GET) to `engagements <words>`; returns the page's text."""
    status, html = await user.get(f"/do/engagements?words={quote_plus(words)}")
    assert status == 200, text_of(html)
    return text_of(html)


async def press(user: WebUser, words: str) -> str:
    """Run `engagements <words>` from a posted form (what the confirm button does)."""
    if "csrf_token" not in user.last_html:
        await user.get("/")
    status, html = await user.post("/do/engagements", {"words": words})
    assert status == 200, text_of(html)
    return text_of(html)


# --- what must not change --------------------------------------------------------------------


async def state_of(services: Services) -> dict[str, Any]:
    """Everything a refused attempt must leave as it was (the audit log aside)."""
    async with services.db.session() as session:

        async def count(model: Any, *where: Any) -> int:
            return int(
                await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            )

        engagements = [
            (
                e.id,
                e.state,
                e.title,
                e.published_at,
                e.closed_at,
                e.closes_at,
                e.form_key,
                e.you_said_we_did,
            )
            for e in (await session.scalars(select(Engagement).order_by(Engagement.id))).all()
        ]
        clarifications = [
            (c.id, c.question, c.answer, c.published_at)
            for c in (await session.scalars(select(Clarification).order_by(Clarification.id)))
        ]
        bookings = [
            (b.person_id, b.state)
            for b in (await session.scalars(select(EventBooking).order_by(EventBooking.id)))
        ]
        responses = [
            (r.id, r.form_key, r.state, r.answers)
            for r in (await session.scalars(select(FormResponse).order_by(FormResponse.id)))
        ]
        meetings = [
            (m.id, m.state, m.proposed, m.agreed_at)
            for m in (await session.scalars(select(MeetingRequest).order_by(MeetingRequest.id)))
        ]
        return {
            "engagements": engagements,
            "clarifications": clarifications,
            "bookings": bookings,
            "responses": responses,
            "meetings": meetings,
            "events": await count(EngagementEvent),
            "invitations": await count(EngagementInvitation),
            "participants": await count(EngagementParticipant),
            "outbox": await count(OutboxMessage),
            "reminders": await count(Reminder),
            "feedback": await count(EngagementFeedback),
        }


async def refusals(
    services: Services, person_id: int, action: str = "engagement.refused"
) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == action, AuditEvent.actor_id == person_id)
                    .order_by(AuditEvent.id)
                )
            ).all()
        )


async def assert_refused_and_audited(
    services: Services,
    person_id: int,
    before: dict[str, Any],
    *,
    attempted: str,
    engagement_id: int | None,
) -> None:
    assert await state_of(services) == before, "a refused attempt changed something"
    events = [
        e
        for e in await refusals(services, person_id)
        if (e.details or {}).get("attempted") == attempted
    ]
    assert events, f"the refused {attempted!r} is not in the audit log"
    assert events[-1].door == Door.WEB
    if engagement_id is not None:
        assert events[-1].object_id == str(engagement_id)


# --- after the closing date ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["closing time passed", "closed early"])
async def test_answering_after_the_closing_date(
    services: Services, browser: Browsers, how: str
) -> None:
    story = await make_engagement(services)
    tom = await browser("Tom Okafor")
    e = story.engagement_id
    # Tom starts in time and saves his first page.
    status, html = await tom.get(f"/do/engagements?words=answer+{e}")
    assert "What would make this work possible" in html, text_of(html)
    action = form_action(html)
    status, html = await tom.post(
        action, [("viable_terms", "Longer agreements."), ("_page", "0"), ("_intent", "next")]
    )
    assert status == 200 and "How would you like to be paid" in html, text_of(html)

    if how == "closed early":
        page = await press(await browser("Priya Shah"), f"close {e}")
        assert "Closed" in page, page
    else:
        async with services.db.session() as session:
            engagement = await session.get(Engagement, e)
            assert engagement is not None
            services.clock = FixedClock(engagement.closes_at + timedelta(minutes=1))
    before = await state_of(services)

    # Sending the last page of the draft he opened in time is refused.
    status, html = await tom.post(
        action, [("payment", "advance"), ("_page", "1"), ("_intent", "submit")]
    )
    page = text_of(html)
    assert "This engagement has closed, so this can't be sent or changed now." in page, page
    assert "Nothing was saved." in page
    async with services.db.session() as session:
        draft = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == f"engagement-{e}")
        )
        assert draft is not None
        assert draft.state == "draft" and draft.answers == {"viable_terms": "Longer agreements."}
        refused = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "form.refused",
                AuditEvent.actor_id == story.people["Tom Okafor"],
                AuditEvent.object_id == str(draft.id),
            )
        )
    assert refused == 1

    # Opening the questions again says why, plainly.
    page = await open_link(tom, f"answer {e}")
    assert f"{TITLE} closed on" in page, page
    assert "so answers can't be sent or changed now" in page
    await assert_refused_and_audited(
        services, story.people["Tom Okafor"], before, attempted="answer", engagement_id=e
    )


CLOSED_STEPS = [
    # (who, what they try, what they are told, what the audit log calls it)
    ("Tom Okafor", "ask {e}", "has closed, so questions and updates can't be published", "ask"),
    ("Tom Okafor", "talk {e}", "This engagement is not open, so you can't ask for", "talk"),
    (
        "Priya Shah",
        "update {e}",
        "has closed, so questions and updates can't be published",
        "update",
    ),
    (
        "Priya Shah",
        "reply {e} {q}",
        "has closed, so questions and updates can't be published",
        "answer question",
    ),
]


@pytest.mark.parametrize(("who", "words", "told", "attempted"), CLOSED_STEPS)
async def test_closed_engagement_takes_no_more_questions(
    services: Services, browser: Browsers, who: str, words: str, told: str, attempted: str
) -> None:
    story = await make_engagement(services, with_question=True)
    e = story.engagement_id
    await press(await browser("Priya Shah"), f"close {e}")
    before = await state_of(services)
    page = await open_link(await browser(who), words.format(e=e, q=story.question_id))
    assert told in page, page
    await assert_refused_and_audited(
        services, story.people[who], before, attempted=attempted, engagement_id=e
    )


async def test_question_drafted_before_closing_is_not_published_after(
    services: Services, browser: Browsers
) -> None:
    story = await make_engagement(services)
    e = story.engagement_id
    tom = await browser("Tom Okafor")
    status, html = await tom.get(f"/do/engagements?words=ask+{e}")
    assert "What would you like to ask?" in html, text_of(html)
    await press(await browser("Priya Shah"), f"close {e}")
    before = await state_of(services)
    if "csrf_token" not in tom.last_html:
        await tom.get("/")
    status, html = await tom.post(
        form_action(html),
        [("question", "Is the budget yearly?"), ("_page", "0"), ("_intent", "submit")],
    )
    assert status == 200
    assert "This engagement has closed" in text_of(html), text_of(html)
    assert await state_of(services) == before
    assert await refusals(services, story.people["Tom Okafor"], "form.refused")


# --- events ----------------------------------------------------------------------------------


async def _bookings(services: Services, event_id: int) -> dict[str, list[int]]:
    async with services.db.session() as session:
        rows = (
            await session.execute(
                select(EventBooking.state, EventBooking.person_id)
                .where(EventBooking.event_id == event_id)
                .order_by(EventBooking.created_at, EventBooking.id)
            )
        ).all()
    found: dict[str, list[int]] = {"booked": [], "waiting": [], "cancelled": []}
    for state, person_id in rows:
        found[state].append(person_id)
    return found


async def test_rsvp_to_a_full_event_joins_the_waiting_list(
    services: Services, browser: Browsers
) -> None:
    story = await make_engagement(services, capacity=2)
    assert story.event_id is not None
    ev, people = story.event_id, story.people
    for name in ("Tom Okafor", "Grace Lee"):
        page = await press(await browser(name), f"rsvp {ev}")
        assert "You have a place at Drop-in at the library" in page, page
    for position, name in enumerate(("Amina Begum", "Joan Hughes"), start=1):
        page = await press(await browser(name), f"rsvp {ev}")
        assert (
            f"Drop-in at the library is full, so we put you on the waiting list (number {position})"
            in page
        ), page
    bookings = await _bookings(services, ev)
    assert bookings["booked"] == [people["Tom Okafor"], people["Grace Lee"]]
    assert bookings["waiting"] == [people["Amina Begum"], people["Joan Hughes"]]
    waitlisted = [
        e
        for name in ("Amina Begum", "Joan Hughes")
        for e in await refusals(services, people[name], "event.waitlisted")
    ]
    assert len(waitlisted) == 2

    page = await open_link(await browser("Joan Hughes"), f"show {story.engagement_id}")
    assert "0 of 2 places left" in page, page

    # Booking again changes nothing.
    before = await state_of(services)
    page = await press(await browser("Amina Begum"), f"rsvp {ev}")
    assert "You already have a place on the waiting list at Drop-in at the library" in page
    assert await state_of(services) == before

    # A place given up goes to whoever waited longest; never more than the capacity.
    page = await press(await browser("Tom Okafor"), f"cancel {ev}")
    assert "You no longer have a place" in page, page
    bookings = await _bookings(services, ev)
    assert bookings["booked"] == [people["Grace Lee"], people["Amina Begum"]]
    assert bookings["waiting"] == [people["Joan Hughes"]]
    async with services.db.session() as session:
        told = await session.scalar(
            select(func.count()).where(
                OutboxMessage.person_id == people["Amina Begum"],
                OutboxMessage.idempotency_key.like(f"event:{ev}:promoted:%"),
            )
        )
    assert told == 1


async def test_many_rsvps_at_once_never_go_over_capacity(
    services: Services, browser: Browsers
) -> None:
    await add_sam(services)
    story = await make_engagement(services, capacity=2)
    assert story.event_id is not None
    names = ["Tom Okafor", "Grace Lee", "Amina Begum", "Joan Hughes", "Sam Patel"]
    users = [await browser(name) for name in names]
    for user in users:
        await user.get("/")
    pages = await asyncio.gather(*(press(user, f"rsvp {story.event_id}") for user in users))
    for page in pages:
        assert "You have a place" in page or "waiting list" in page, page
    bookings = await _bookings(services, story.event_id)
    assert len(bookings["booked"]) == 2, bookings
    assert len(bookings["waiting"]) == 3, bookings
    assert sum("You have a place" in page for page in pages) == 2


async def test_rsvp_after_closing_is_refused(services: Services, browser: Browsers) -> None:
    story = await make_engagement(services, capacity=5)
    await press(await browser("Priya Shah"), f"close {story.engagement_id}")
    before = await state_of(services)
    page = await press(await browser("Grace Lee"), f"rsvp {story.event_id}")
    assert "Bookings for this event are closed." in page, page
    await assert_refused_and_audited(
        services,
        story.people["Grace Lee"],
        before,
        attempted="rsvp",
        engagement_id=story.engagement_id,
    )


# --- a commissioner from another council -----------------------------------------------------

OTHER_COUNCIL = [
    # (what Yusuf tries, how: link or form, what he is told, what the audit log calls it)
    ("publish {d}", "press", "Only the commissioning team of the council running an", "publish"),
    ("close {e}", "press", "Only the council running it can close it.", "close"),
    (
        "reply {e} {q}",
        "link",
        "Only the commissioning team of the council running it",
        "answer question",
    ),
    ("update {e}", "link", "Only the commissioning team of the council running it", "update"),
    ("summary {e}", "link", "Only the council running it can see its summary.", "summary"),
    ("record {e}", "link", "Only the council running it can see its record.", "record"),
    ("questions {e}", "link", "Only the council running it can see these.", "see questions"),
    ("event {e}", "link", "Only the commissioning team of the council running it", "add event"),
    ("attendance {ev}", "link", "Only the council running it can see this.", "attendance"),
    ("times {m}", "link", "Only the commissioning team of the council running it", "propose times"),
    (
        "yousaid {e}",
        "link",
        "Only the commissioning team of the council running it",
        "you said we did",
    ),
    ("edit {d}", "link", "That engagement isn't one of your council's.", "edit"),
]


@pytest.mark.parametrize(("words", "how", "told", "attempted"), OTHER_COUNCIL)
async def test_another_councils_commissioner_cannot_act(
    services: Services, browser: Browsers, words: str, how: str, told: str, attempted: str
) -> None:
    await add_hilltop(services)
    story = await make_engagement(services, capacity=3, with_question=True, with_meeting=True)
    draft = await make_engagement(services, publish=False)
    people = await _people(services)
    yusuf = await browser("Yusuf Khan")
    filled = words.format(
        e=story.engagement_id,
        d=draft.engagement_id,
        q=story.question_id,
        ev=story.event_id,
        m=story.meeting_id,
    )
    before = await state_of(services)
    page = await (press(yusuf, filled) if how == "press" else open_link(yusuf, filled))
    assert told in page, page
    target = draft.engagement_id if "{d}" in words else story.engagement_id
    await assert_refused_and_audited(
        services, people["Yusuf Khan"], before, attempted=attempted, engagement_id=target
    )


@pytest.mark.parametrize(
    ("who", "words", "told"),
    [
        ("Joan Hughes", "pick {m} 1", "That conversation is not one of your organisation's."),
        ("Priya Shah", "pick {m} 1", "That conversation is not one of your organisation's."),
        ("Tom Okafor", "pick {m} 3", "Please pick one of the times the team suggested."),
        ("Tom Okafor", "pick {m}", "Please pick one of the times the team suggested."),
    ],
)
async def test_only_the_provider_who_asked_picks_a_time(
    services: Services, browser: Browsers, who: str, words: str, told: str
) -> None:
    """A private conversation is A's: another provider (or the team) can't pick its time,
    and a time that was not offered is not taken."""
    story = await make_engagement(services, with_meeting=True)
    soon = services.clock.now() + timedelta(days=3)
    async with services.db.session() as session:
        meeting = await session.get(MeetingRequest, story.meeting_id)
        assert meeting is not None
        meeting.proposed = [soon.isoformat(), (soon + timedelta(days=1)).isoformat()]
        meeting.state = "proposed"
    before = await state_of(services)
    page = await press(await browser(who), words.format(m=story.meeting_id))
    assert told in page, page
    assert "Our costs" not in page  # nothing of the request is shown to anyone else
    assert await state_of(services) == before
    if who != "Tom Okafor":
        assert [
            e
            for e in await refusals(services, story.people[who])
            if (e.details or {}).get("attempted") == "pick time"
        ]


async def test_another_councils_commissioner_cannot_send_priyas_draft(
    services: Services, browser: Browsers
) -> None:
    """Yusuf posts Priya's own draft update (its id is guessable): refused, nothing sent."""
    await add_hilltop(services)
    story = await make_engagement(services)
    priya = await browser("Priya Shah")
    status, html = await priya.get(f"/do/engagements?words=update+{story.engagement_id}")
    assert "What is the update about?" in html, text_of(html)
    action = form_action(html)
    yusuf = await browser("Yusuf Khan")
    await yusuf.get("/")
    before = await state_of(services)
    status, html = await yusuf.post(
        action,
        [
            ("title", "Closing date moved"),
            ("text", "It now closes tomorrow."),
            ("_page", "0"),
            ("_intent", "submit"),
        ],
    )
    assert status == 200
    assert "This belongs to someone else, so you can't change it." in text_of(html)
    assert await state_of(services) == before
    assert await refusals(services, (await _people(services))["Yusuf Khan"], "form.refused")


async def test_another_council_cannot_open_the_record_page(
    services: Services, browser: Browsers
) -> None:
    await add_hilltop(services)
    story = await make_engagement(services)
    yusuf = await browser("Yusuf Khan")
    for suffix in ("record", "record.json"):
        status, html = await yusuf.get(f"/engagements/{story.engagement_id}/{suffix}")
        assert status == 403, html
        assert "This record is not yours to see" in text_of(html)
        assert TITLE not in html
    refused = await refusals(services, story.people["Yusuf Khan"], "engagement.record_refused")
    assert len(refused) == 2


# --- commands people get wrong ---------------------------------------------------------------


async def test_unknown_sub_command(services: Services, browser: Browsers) -> None:
    page = await open_link(await browser("Tom Okafor"), "frobnicate 3")
    assert 'Sorry, I don\'t know "engagements frobnicate"' in page, page
    assert "Type engagements to see them" in page


@pytest.mark.parametrize(
    "words",
    [
        "show",
        "summary",
        "record",
        "questions",
        "attendance",
        "show abc",
        "summary x4",
        "edit",
        "edit abc",
        f"edit {HUGE}",
    ],
)
async def test_missing_number(services: Services, browser: Browsers, words: str) -> None:
    step = words.split()[0]
    before = await state_of(services)
    page = await open_link(await browser("Priya Shah"), words)
    assert f"Which one? Type engagements {step} and its number" in page, page
    # `edit` without a number it can use never starts a new engagement instead.
    assert await state_of(services) == before


@pytest.mark.parametrize("words", ["publish", "close", "rsvp", "cancel", "join"])
async def test_missing_number_on_a_changing_step(
    services: Services, browser: Browsers, words: str
) -> None:
    await make_engagement(services, publish=False)
    before = await state_of(services)
    page = await press(await browser("Priya Shah"), words)
    assert f"Which one? Type engagements {words} and its number" in page, page
    assert await state_of(services) == before


NOT_THERE = [
    # (who, what, told)
    ("Tom Okafor", "show {n}", "We couldn't find that engagement."),
    ("Tom Okafor", "answer {n}", "We couldn't find that engagement."),
    ("Tom Okafor", "ask {n}", "We couldn't find that engagement."),
    ("Tom Okafor", "feedback {n}", "We couldn't find that engagement."),
    ("Tom Okafor", "talk {n}", "This engagement is not open"),
    ("Priya Shah", "show {n}", "We couldn't find that engagement."),
    ("Priya Shah", "summary {n}", "Only the council running it can see its summary."),
    ("Priya Shah", "record {n}", "Only the council running it can see its record."),
    ("Priya Shah", "questions {n}", "Only the council running it can see these."),
    ("Priya Shah", "edit {n}", "That engagement isn't one of your council's."),
    ("Priya Shah", "update {n}", "We couldn't find that engagement."),
]


@pytest.mark.parametrize("number", [999, HUGE, -3])
@pytest.mark.parametrize(("who", "words", "told"), NOT_THERE)
async def test_engagement_that_does_not_exist(
    services: Services, browser: Browsers, who: str, words: str, told: str, number: int
) -> None:
    await make_engagement(services)
    before = await state_of(services)
    page = await open_link(await browser(who), words.format(n=number))
    assert "went wrong" not in page, page
    # -3 reads as no number at all, so the person is asked which one.
    assert told in page or "Which one?" in page, page
    assert await state_of(services) == before


@pytest.mark.parametrize(
    "words", ["publish {n}", "close {n}", "join {n}", "rsvp {n}", "cancel {n}"]
)
async def test_changing_step_on_something_that_does_not_exist(
    services: Services, browser: Browsers, words: str
) -> None:
    await make_engagement(services)
    before = await state_of(services)
    for number in (999, HUGE):
        page = await press(await browser("Priya Shah"), words.format(n=number))
        assert "went wrong" not in page, page
        assert "Published" not in page and "Closed" not in page
    assert await state_of(services) == before


async def test_attendance_button_for_a_booking_that_does_not_exist(
    services: Services, browser: Browsers
) -> None:
    story = await make_engagement(services, capacity=5)
    priya = await browser("Priya Shah")
    await priya.get("/")
    before = await state_of(services)
    for value in (f"{HUGE}:yes", "999:no", "abc:yes", ":yes"):
        status, html = await priya.post("/actions/engagement.attended", {"value": value})
        assert status == 200, text_of(html)
        assert "Only the council running it can record this." in text_of(html)
    assert await state_of(services) == before
    assert len(await refusals(services, story.people["Priya Shah"])) == 4


async def test_record_page_of_nothing(services: Services, browser: Browsers) -> None:
    priya = await browser("Priya Shah")
    for number in (999, HUGE):
        status, html = await priya.get(f"/engagements/{number}/record")
        assert status in (403, 404), (status, text_of(html))
        assert "went wrong" not in text_of(html)


# --- drafts are the commissioning team's own -------------------------------------------------

DRAFT_HIDDEN = [
    ("Tom Okafor", "show {d}", "We couldn't find that engagement."),
    ("Tom Okafor", "answer {d}", "We couldn't find that engagement."),
    ("Tom Okafor", "ask {d}", "We couldn't find that engagement."),
    ("Tom Okafor", "feedback {d}", "We couldn't find that engagement."),
    ("Tom Okafor", "talk {d}", "This engagement is not open"),
    ("Joan Hughes", "show {d}", "We couldn't find that engagement."),
    ("Yusuf Khan", "show {d}", "We couldn't find that engagement."),
    ("Alex Morgan", "show {d}", "We couldn't find that engagement."),
]


@pytest.mark.parametrize(("who", "words", "told"), DRAFT_HIDDEN)
async def test_a_draft_is_hidden_from_everyone_else(
    services: Services, browser: Browsers, who: str, words: str, told: str
) -> None:
    await add_hilltop(services)
    draft = await make_engagement(services, publish=False)
    user = await browser(who)
    before = await state_of(services)
    page = await open_link(user, words.format(d=draft.engagement_id))
    assert told in page, page
    assert "Warm, welcoming places" not in page  # nothing of the draft shows
    listing = await open_link(user, "list")
    assert TITLE not in listing, listing
    status, html = await user.get("/")
    assert status == 200 and TITLE not in text_of(html)
    assert await state_of(services) == before


async def test_a_draft_cannot_be_joined_or_booked(services: Services, browser: Browsers) -> None:
    draft = await make_engagement(services, publish=False, capacity=5)
    tom = await browser("Tom Okafor")
    before = await state_of(services)
    page = await press(tom, f"join {draft.engagement_id}")
    assert "This engagement is not open, so you can't join it." in page, page
    page = await press(tom, f"rsvp {draft.event_id}")
    assert "Bookings for this event are closed." in page, page
    await assert_refused_and_audited(
        services,
        draft.people["Tom Okafor"],
        before,
        attempted="rsvp",
        engagement_id=draft.engagement_id,
    )
    assert [
        e
        for e in await refusals(services, draft.people["Tom Okafor"])
        if (e.details or {}).get("attempted") == "join"
    ]


async def test_the_team_sees_its_own_draft(services: Services, browser: Browsers) -> None:
    draft = await make_engagement(services, publish=False)
    page = await open_link(await browser("Priya Shah"), f"show {draft.engagement_id}")
    assert f"Draft: {TITLE}" in page, page
    assert "Nothing is sent until you publish" in page


# --- publishing ------------------------------------------------------------------------------


async def _published_events(services: Services, engagement_id: int) -> int:
    async with services.db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    AuditEvent.action == "engagement.published",
                    AuditEvent.object_id == str(engagement_id),
                )
            )
            or 0
        )


async def test_publishing_twice_sends_nothing_twice(services: Services, browser: Browsers) -> None:
    story = await make_engagement(services)
    before = await state_of(services)
    assert before["invitations"] == 4  # Tom, Grace, Amina and Joan
    page = await press(await browser("Priya Shah"), f"publish {story.engagement_id}")
    assert f"{TITLE} is already published." in page, page
    assert await state_of(services) == before
    assert await _published_events(services, story.engagement_id) == 1


async def test_two_publishes_at_once_invite_once(
    services: Services, app_server: RunningApp, browser: Browsers
) -> None:
    draft = await make_engagement(services, publish=False)
    first, second = await browser("Priya Shah"), WebUser(app_server.url)
    try:
        await second.sign_in_locally("Priya Shah")
        await first.get("/")
        pages = await asyncio.gather(
            press(first, f"publish {draft.engagement_id}"),
            press(second, f"publish {draft.engagement_id}"),
        )
    finally:
        await second.close()
    assert sum("Published." in page for page in pages) == 1, pages
    assert sum("is already published" in page for page in pages) == 1, pages
    assert await _published_events(services, draft.engagement_id) == 1
    async with services.db.session() as session:
        invitations = await session.scalar(select(func.count()).select_from(EngagementInvitation))
        messages = await session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key.like("engagement:%:invite:%"))
        )
    assert invitations == messages == 4


# --- the web door never changes anything from a link -----------------------------------------


async def _draft_state(services: Services, engagement_id: int) -> tuple[str, int]:
    async with services.db.session() as session:
        engagement = await session.get(Engagement, engagement_id)
        assert engagement is not None
        invitations = await session.scalar(select(func.count()).select_from(EngagementInvitation))
        return engagement.state, int(invitations or 0)


async def test_a_link_never_publishes(services: Services, browser: Browsers) -> None:
    draft = await make_engagement(services, publish=False)
    d = draft.engagement_id
    priya = await browser("Priya Shah")
    links = [
        f"/do/engagements?words=publish+{d}",
        f"/do/engagements?words=PUBLISH+{d}",
        f"/do/engagements?words=publish&id={d}",
        "/do/" + quote(f"engagements publish {d}"),
        "/do/" + quote(f"engagements publish {d}") + "?x=1",
    ]
    for link in links:
        status, html = await priya.get(link)
        assert status == 200, text_of(html)
        assert "Please confirm" in text_of(html), (link, text_of(html))
        assert "Published" not in text_of(html)
        assert await _draft_state(services, d) == ("draft", 0), link
    # A post without this browser's token (another site's form) changes nothing either.
    status, html = await priya.post("/do/engagements", {"words": f"publish {d}"}, csrf=False)
    assert status == 403 and "This page has expired" in text_of(html)
    assert await _draft_state(services, d) == ("draft", 0)
    # The confirm page's own button publishes.
    status, html = await priya.get(f"/do/engagements?words=publish+{d}")
    status, html = await priya.post("/do/engagements", {"words": f"publish {d}"})
    assert "Published" in text_of(html), text_of(html)
    assert await _draft_state(services, d) == ("open", 4)


@pytest.mark.parametrize(
    "words", ["close {e}", "rsvp {ev}", "cancel {ev}", "join {e}", "pick {m} 1"]
)
async def test_a_link_never_changes_anything(
    services: Services, browser: Browsers, words: str
) -> None:
    story = await make_engagement(services, capacity=5, with_meeting=True)
    filled = words.format(e=story.engagement_id, ev=story.event_id, m=story.meeting_id)
    before = await state_of(services)
    for name in ("Priya Shah", "Grace Lee", "Tom Okafor"):
        user = await browser(name)
        for link in (
            f"/do/engagements?words={quote_plus(filled)}",
            "/do/" + quote(f"engagements {filled}"),
        ):
            status, html = await user.get(link)
            assert status == 200
            assert "Please confirm" in text_of(html), (name, link, text_of(html))
    assert await state_of(services) == before
