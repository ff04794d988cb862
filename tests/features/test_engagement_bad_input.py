"""Engagements when people get things wrong, or try what they may not: in-process, through
the test door (tests/support/inprocess.py): the real router, handlers and database, with
the same turns the web door sends.

Every case checks three things: the person gets a clear, plain-English message; nothing
that matters changed in the database (the engagement, invitations, messages, questions,
bookings, answers); and, where someone tried to act on what is not theirs or is closed,
the attempt is in the audit log (`engagement.refused`, `form.refused`).

The web door's own part (a link never changes anything, the record pages' statuses) stays
over real HTTP in tests/integration/test_engagement_web_links.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.core.turn import Intent
from bot.services import Services
from storage.engagement_tables import (
    Engagement,
    EngagementInvitation,
    EventBooking,
    MeetingRequest,
)
from storage.models import AuditEvent, FormResponse, OutboxMessage
from tests.features.engagement_story import (
    HUGE,
    TITLE,
    _people,
    add_hilltop,
    add_sam,
    assert_refused_and_audited,
    make_engagement,
    refusals,
    state_of,
)
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

Browsers = Callable[[str], Awaitable[Conversation]]


@pytest.fixture
def browser(door: TestDoor) -> Browsers:
    """`await browser("Tom Okafor")`: that person, signed in on the test door (web turns)."""
    opened: dict[str, Conversation] = {}

    async def signed_in(name: str) -> Conversation:
        if name not in opened:
            opened[name] = await door.sign_in(name)
        return opened[name]

    return signed_in


async def open_link(user: Conversation, words: str) -> str:
    """`engagements <words>`, as following a link sends it; every word of the answer."""
    return text_of(await user.say(f"engagements {words}"))


async def press(user: Conversation, words: str) -> str:
    """`engagements <words>`, as the confirm button sends it; every word of the answer."""
    return text_of(await user.say(f"engagements {words}"))


# --- after the closing date ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["closing time passed", "closed early"])
async def test_answering_after_the_closing_date(
    services: Services, browser: Browsers, how: str
) -> None:
    story = await make_engagement(services)
    tom = await browser("Tom Okafor")
    e = story.engagement_id
    # Tom starts in time and saves his first page.
    form = form_in(await tom.say(f"engagements answer {e}"))
    assert "What would make this work possible" in text_of([form]), tom.text()
    replies = await tom.send_page(form, {"viable_terms": "Longer agreements."}, page=0)
    assert "How would you like to be paid" in text_of(replies), text_of(replies)

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
    page = text_of(await tom.send_page(form, {"payment": "advance"}, page=1, intent=Intent.SUBMIT))
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
    form = form_in(await tom.say(f"engagements ask {e}"))
    assert "What would you like to ask?" in text_of([form]), tom.text()
    await press(await browser("Priya Shah"), f"close {e}")
    before = await state_of(services)
    replies = await tom.send_page(
        form, {"question": "Is the budget yearly?"}, page=0, intent=Intent.SUBMIT
    )
    assert "This engagement has closed" in text_of(replies), text_of(replies)
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
    form = form_in(await priya.say(f"engagements update {story.engagement_id}"))
    assert "What is the update about?" in text_of([form]), priya.text()
    yusuf = await browser("Yusuf Khan")
    before = await state_of(services)
    replies = await yusuf.send_page(
        form,
        {"title": "Closing date moved", "text": "It now closes tomorrow."},
        page=0,
        intent=Intent.SUBMIT,
    )
    assert "This belongs to someone else, so you can't change it." in text_of(replies)
    assert await state_of(services) == before
    assert await refusals(services, (await _people(services))["Yusuf Khan"], "form.refused")


# --- commands people get wrong ---------------------------------------------------------------


async def test_unknown_sub_command(services: Services, browser: Browsers) -> None:
    page = await open_link(await browser("Tom Okafor"), "frobnicate 3")
    assert 'Sorry, I don\'t know "engagements frobnicate"' in page, page
    # The web has nowhere to type: it links to the list instead.
    assert "See them: go to the engagements list" in page and "Type engagements" not in page


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
    before = await state_of(services)
    page = await open_link(await browser("Priya Shah"), words)
    assert "Which one? Find it in the list: go to the engagements list" in page, page
    # `edit` without a number it can use never starts a new engagement instead.
    assert await state_of(services) == before


@pytest.mark.parametrize("words", ["publish", "close", "rsvp", "cancel", "join"])
async def test_missing_number_on_a_changing_step(
    services: Services, browser: Browsers, words: str
) -> None:
    await make_engagement(services, publish=False)
    before = await state_of(services)
    page = await press(await browser("Priya Shah"), words)
    assert "Which one? Find it in the list: go to the engagements list" in page, page
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
    before = await state_of(services)
    for value in (f"{HUGE}:yes", "999:no", "abc:yes", ":yes"):
        replies = await priya.press("engagement.attended", value)
        assert "Only the council running it can record this." in text_of(replies)
    assert await state_of(services) == before
    assert len(await refusals(services, story.people["Priya Shah"])) == 4


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
    home = await user.say("home")
    assert TITLE not in text_of(home)
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
    services: Services, door: TestDoor, browser: Browsers
) -> None:
    draft = await make_engagement(services, publish=False)
    # Priya in two browsers at once: two conversations, one person.
    first, second = await browser("Priya Shah"), await door.sign_in("Priya Shah")
    pages = await asyncio.gather(
        press(first, f"publish {draft.engagement_id}"),
        press(second, f"publish {draft.engagement_id}"),
    )
    assert sum("Published." in page for page in pages) == 1, pages
    assert sum("is already published" in page for page in pages) == 1, pages
    assert await _published_events(services, draft.engagement_id) == 1
    async with services.db.session() as session:
        invitations = await session.scalar(select(func.count()).select_from(EngagementInvitation))
        messages = await session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key.like("engagement:%:invite:%"))
        )
    assert invitations == messages == 4
