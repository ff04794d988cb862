"""Clarifications on an opportunity, in-process, through the mechanism engagements use: a
provider asks privately, the team answers everyone told or interested (and every asker) at
the same moment without naming who asked, the Q&A is in the full details for every
provider, asking closes on the last day for questions, and an answer for the asker alone
needs a reason on the record. Publishing a tender closes the private conversations of the
engagement it came from (Procurement Act 2023 s.16)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.turn import Intent
from storage.clarification_tables import Audience, Clarification
from storage.engagement_tables import MeetingRequest, MeetingState
from storage.models import AuditEvent
from storage.opportunity_tables import Opportunity
from tests.features.engagement_story import HUGE, add_hilltop, add_sam, make_engagement
from tests.features.opportunity_story import NOW, TITLE, pages, post, refusals
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

QUESTION = "We are Eastgate Community Kitchen: can a food charity bid for one lot?"
PUBLISHED = "Can a food charity bid for one lot?"
ANSWER = "Yes. Any organisation can bid for one lot or both."
LAST_DAY_WORDS = "Friday 20 February 2026, 5pm"


async def _published(door: TestDoor, **changes: str) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, **changes)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    return priya, opportunity_id


async def _ask(person: Conversation, opportunity_id: int, question: str) -> str:
    await person.fill(f"opportunities ask {opportunity_id}", {0: {"question": question}})
    return person.text()


async def _questions(door: TestDoor) -> list[Clarification]:
    async with door.services.db.session() as session:
        return list((await session.scalars(select(Clarification).order_by(Clarification.id))).all())


async def _actions(door: TestDoor, action: str) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                )
            ).all()
        )


async def test_an_answer_reaches_everyone_at_once_and_never_names_who_asked(
    door: TestDoor,
) -> None:
    priya, o = await _published(door)
    tom = await door.sign_in("Tom Okafor")  # told: the opportunity fits his trust
    amina = await door.sign_in("Amina Begum")  # told too
    grace = await door.sign_in("Grace Lee")  # not told (food, Burnley): she asks anyway
    assert "Ask a question" in text_of(await grace.say(f"opportunities show {o}"))

    thanks = await _ask(grace, o, QUESTION)
    assert "answer your question for everyone told about this opportunity" in thanks
    assert "without your name" in thanks
    [question] = await _questions(door)
    assert (question.opportunity_id, question.engagement_id) == (o, None)
    alert = [q.text for q in await priya.inbox() if "A new question" in q.text]
    assert alert and QUESTION in alert[0]

    # The team sees who asked; nobody else is told anything yet.
    waiting = text_of(await priya.say(f"opportunities questions {o}"))
    assert QUESTION in waiting and "Eastgate Community Kitchen" in waiting
    assert "Questions to answer (1)" in text_of(await priya.say(f"opportunities show {o}"))
    assert "1 question to answer" in text_of(await priya.say("home"))
    before = {p.person_id: len(await p.inbox()) for p in (tom, amina, grace)}

    door.advance(timedelta(hours=2))
    await priya.fill(
        f"opportunities answer {o} {question.id}",
        {0: {"question": PUBLISHED, "answer": ANSWER}},
    )
    assert "Published on Monday 12 January 2026, 11am to 3 people told about it" in priya.text()

    sent = {}
    for person in (tom, amina, grace):
        inbox = await person.inbox()
        [message] = inbox[before[person.person_id] :]
        sent[person.person_id] = message
        assert PUBLISHED in message.text and ANSWER in message.text
        assert "edited to keep the asker anonymous" in message.text
        for secret in ("Eastgate", "Grace", "We are"):
            assert secret not in message.text
    assert len({m.row.next_attempt_at for m in sent.values()}) == 1, "not all at the same moment"

    # In the full details for every provider, as published; the team also sees the original.
    for person in (tom, grace):
        details = text_of(await person.say(f"opportunities show {o}"))
        assert "Questions and answers" in details and ANSWER in details
        assert "Eastgate" not in details
    assert f"First asked as: {QUESTION}" in text_of(await priya.say(f"opportunities show {o}"))
    [published] = await _actions(door, "clarification.published")
    assert published.details["opportunity_id"] == o and published.details["recipients"] == 3
    [asked] = await _actions(door, "clarification.asked")
    assert (asked.actor_id, asked.details["opportunity_id"]) == (grace.person_id, o)

    # Answering twice changes nothing.
    again = text_of(await priya.say(f"opportunities answer {o} {question.id}"))
    assert "answered already" in again


async def test_asking_closes_on_the_last_day_for_questions_and_answers_still_go_out(
    door: TestDoor,
) -> None:
    priya, o = await _published(door)
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    await _ask(tom, o, "Is there a briefing event?")
    [question] = await _questions(door)
    opened_in_time = form_in(await amina.say(f"opportunities ask {o}"))

    door.advance(timedelta(days=39, hours=8))  # Friday 20 February, 5pm: the last moment
    refused = text_of(await amina.say(f"opportunities ask {o}"))
    assert f"The last day for questions about {TITLE} was {LAST_DAY_WORDS}" in refused
    assert "Nothing was sent" in refused
    late = text_of(
        await amina.send_page(
            opened_in_time, {"question": "Too late?"}, page=0, intent=Intent.SUBMIT
        )
    )
    assert LAST_DAY_WORDS in late
    assert [q.id for q in await _questions(door)] == [question.id]
    assert [r.details["attempted"] for r in await refusals(door.services, amina.person_id)] == [
        "ask",
        "ask",
    ]
    assert "Ask a question" not in text_of(await amina.say(f"opportunities show {o}"))

    # The team can still answer what was asked in time, for everyone.
    await priya.fill(
        f"opportunities answer {o} {question.id}",
        {0: {"question": "Is there a briefing event?", "answer": "Yes, on 1 March."}},
    )
    assert "Published on" in priya.text()
    assert any("Yes, on 1 March." in m.text for m in await amina.inbox())


async def test_an_answer_about_the_asker_alone_goes_to_them_with_a_reason_on_the_record(
    door: TestDoor,
) -> None:
    priya, o = await _published(door)
    await add_sam(door.services)
    tom = await door.sign_in("Tom Okafor")
    sam = await door.sign_in("Sam Patel")  # Tom's colleague at the trust
    amina = await door.sign_in("Amina Begum")
    await _ask(tom, o, "Is our charity number on your list right?")
    [question] = await _questions(door)
    amina_before = len(await amina.inbox())

    form = form_in(await priya.say(f"opportunities answer {o} {question.id}"))
    private = {"question": question.question, "answer": "Yes, it is.", "who_for": "asker"}
    refused = form_in(await priya.send_page(form, private, page=0, intent=Intent.SUBMIT))
    assert "Say why this question is only about the organisation that asked" in str(refused.errors)
    assert (await _questions(door))[0].published_at is None

    why = "It is about their own registration, nobody else's."
    await priya.send_page(form, {**private, "private_reason": why}, page=0, intent=Intent.SUBMIT)
    assert "only to the 2 people in the organisation that asked" in priya.text()
    [answered] = await _questions(door)
    assert (answered.audience, answered.private_reason) == (Audience.ASKER, why)
    for person in (tom, sam):
        assert any("answered for your organisation only" in m.text for m in await person.inbox())
    assert len(await amina.inbox()) == amina_before
    assert "Yes, it is." not in text_of(await amina.say(f"opportunities show {o}"))
    assert "Yes, it is." in text_of(await tom.say(f"opportunities show {o}"))
    assert why in text_of(await priya.say(f"opportunities show {o}"))
    [record] = await _actions(door, "clarification.answered_privately")
    assert record.details["reason"] == why and record.details["recipients"] == 2


async def test_only_the_team_sees_who_asked_and_answers(door: TestDoor) -> None:
    _, o = await _published(door)
    await add_hilltop(door.services)
    tom = await door.sign_in("Tom Okafor")
    yusuf = await door.sign_in("Yusuf Khan")
    await _ask(tom, o, "Can we bid with a partner?")
    [question] = await _questions(door)

    assert "Only the commissioning team" in text_of(await yusuf.say(f"opportunities questions {o}"))
    assert "Only the commissioning team" in text_of(
        await yusuf.say(f"opportunities answer {o} {question.id}")
    )
    assert "Only the commissioning team" in text_of(
        await tom.say(f"opportunities answer {o} {question.id}")
    )
    assert "Riverside Youth Trust" not in text_of(await tom.say(f"opportunities show {o}"))
    assert [r.details["attempted"] for r in await refusals(door.services, yusuf.person_id)] == [
        "see questions",
        "answer question",
    ]
    assert (await _questions(door))[0].published_at is None
    # A draft takes no questions, and a number that isn't there is said plainly.
    assert "couldn't find" in text_of(await tom.say(f"opportunities ask {HUGE}"))


async def test_publishing_the_tender_closes_the_engagements_private_conversations(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    story = await make_engagement(door.services, with_meeting=True)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    await amina.fill(
        f"engagements talk {story.engagement_id}", {0: {"topic": "Our rent", "how": "visit"}}
    )
    async with door.services.db.session() as session:
        toms = await session.get(MeetingRequest, story.meeting_id)
        assert toms is not None  # agreed for Thursday: not held yet, so it is cancelled
        toms.state, toms.agreed_at = MeetingState.AGREED, NOW + timedelta(days=3)
        held = MeetingRequest(  # held last week: it stays on the record as it was
            engagement_id=story.engagement_id,
            organisation_id=toms.organisation_id,
            topic="Our volunteers",
            state=MeetingState.AGREED,
            agreed_at=NOW - timedelta(days=7),
            created_at=NOW - timedelta(days=8),
        )
        session.add(held)
        await session.flush()
        held_id = held.id

    # Only one of the council's own engagements can be named.
    async with door.services.db.session() as session:
        before = await session.scalar(select(func.count()).select_from(Opportunity))
    await priya.fill("opportunities new", pages(engagement=str(HUGE)))
    form = form_in(priya.last)
    assert "Your council has no engagement number" in form.errors["engagement"]
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Opportunity)) == before

    o = await post(priya, engagement=str(story.engagement_id))
    assert "Your engagements:" in text_of(await priya.say(f"opportunities edit {o}"))
    published = text_of(await priya.say(f"opportunities publish {o}"))
    assert "we cancelled 2 not yet held and told both sides why" in published

    async with door.services.db.session() as session:
        meetings = (await session.scalars(select(MeetingRequest))).all()
    assert {m.id: m.state for m in meetings if m.id != held_id} == {
        m.id: MeetingState.CANCELLED for m in meetings if m.id != held_id
    }
    assert {m.state for m in meetings if m.id == held_id} == {MeetingState.AGREED}
    for person in (tom, amina):
        [told] = [m for m in await person.inbox() if "is cancelled" in m.text]
        # The way on is the tender's question form (a link on the web, the command in chat).
        assert "section 16" in told.text and f"question form for opportunity {o}" in told.text
    assert "Thursday 15 January 2026, 9am" in next(
        m.text for m in await tom.inbox() if "is cancelled" in m.text
    )
    assert len([m for m in await priya.inbox() if "cancelled" in m.text]) == 2
    assert len(await _actions(door, "meeting.cancelled")) == 2

    # New ones are refused, with the reason, and on the record.
    refused = text_of(await tom.say(f"engagements talk {story.engagement_id}"))
    assert "Private conversations about" in refused and "have closed" in refused
    assert story.meeting_id is not None
    assert "have closed" in text_of(await priya.say(f"engagements times {story.meeting_id}"))
    assert "have closed" in text_of(await tom.say(f"engagements pick {story.meeting_id} 1"))
    async with door.services.db.session() as session:
        attempts = (
            await session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "engagement.refused")
            )
        ).all()
    assert [a["attempted"] for a in attempts] == ["talk", "propose times", "pick time"]


async def test_engagements_answer_the_asker_alone_through_the_same_mechanism(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    story = await make_engagement(door.services, with_question=True)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    e, q = story.engagement_id, story.question_id
    why = "It is about their own lease."
    await priya.fill(
        f"engagements reply {e} {q}",
        {
            0: {
                "question": "Can two groups apply together?",
                "answer": "Yes, your lease allows it.",
                "who_for": "asker",
                "private_reason": why,
            }
        },
    )
    assert "only to the 1 person in the organisation that asked" in priya.text()
    assert any("Yes, your lease allows it." in m.text for m in await tom.inbox())
    assert not any("Yes, your lease allows it." in m.text for m in await amina.inbox())
    assert "Yes, your lease allows it." not in text_of(await amina.say(f"engagements show {e}"))
    assert "Yes, your lease allows it." in text_of(await tom.say(f"engagements show {e}"))
    assert why in text_of(await priya.say(f"engagements show {e}"))
    [record] = await _actions(door, "clarification.answered_privately")
    assert record.details["engagement_id"] == e and record.details["reason"] == why
