"""Feedback points, in-process: Tom (Riverside Youth Trust) sets up a feedback point for his
agreement with Priya's council; people who use the service answer on its public page with
no account; what they write is kept without a name or a time, scrubbed of phone numbers,
emails and postcodes; a message about harm goes to the safeguarding lead at once. Tom sees
every answer first; Priya's team sees them only once enough people have answered. Another
provider sees nothing, and that is on the record. Bad input is answered kindly and nothing
is kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.core.enums import Door
from bot.core.pages import PageContent, PageRefusal, PageRequest
from bot.core.turn import Intent
from handlers.feedback.public import feedback_page, form_token, send_feedback
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, FeedbackPost
from storage.models import AuditEvent
from tests.features.test_agreement_monitoring import make_agreement
from tests.support.engagements import draft_engagement
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 11:37pm in London: the entry keeps only the day.
NOW = datetime(2026, 1, 12, 23, 37, tzinfo=UTC)


async def set_up_point(door: TestDoor, tom: Conversation, agreement_id: int) -> FeedbackPoint:
    replies = await tom.fill(
        f"feedback new agreement {agreement_id}",
        {
            0: {
                "service_name": "Preston youth club",
                "questions": ["helping", "run_well", "keep_going", "anything_else"],
                "safeguarding_lead": "",
            }
        },
    )
    assert "Your feedback point is ready: Preston youth club" in text_of(replies), text_of(replies)
    async with door.services.db.session() as session:
        return (await session.scalars(select(FeedbackPoint))).one()


async def post(door: TestDoor, slug: str, **form: str) -> PageContent | PageRefusal:
    """Send the public page's form as a browser would, with a fresh signed token."""
    fields = {"form_token": form_token(door.services, slug), **form}
    asked = PageRequest(actor=None, params={"slug": slug}, format="html", form=fields)
    return await send_feedback(asked, door.services)


async def entries(door: TestDoor) -> list[FeedbackEntry]:
    async with door.services.db.session() as session:
        return list((await session.scalars(select(FeedbackEntry))).all())


async def refusals(door: TestDoor) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "feedback.refused")
                )
            ).all()
        )


@pytest.fixture
async def ready(door: TestDoor) -> tuple[Conversation, Conversation, FeedbackPoint]:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    return priya, tom, await set_up_point(door, tom, agreement_id)


@pytest.mark.parametrize("tom_door", [Door.SLACK, Door.TEAMS, Door.WEB])
async def test_a_provider_sets_up_a_point_from_any_door(door: TestDoor, tom_door: Door) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    tom = await door.sign_in("Tom Okafor", door=tom_door)
    point = await set_up_point(door, tom, agreement_id)
    said = tom.text()
    assert f"/f/{point.slug}" in said
    assert "never used in a contract's performance assessment" in said
    assert len(point.slug) >= 12 and point.state == "open"
    assert point.question_keys == ["helping", "run_well", "keep_going", "anything_else"]
    assert point.safeguarding_lead_id == await door.person_id("Tom Okafor")
    assert point.agreement_id == agreement_id and point.authority_id is not None
    await tom.say("feedback")
    assert "Preston youth club" in tom.text() and "Answers\n0" in tom.text()


async def test_the_public_page_says_who_reads_it_and_what_happens_about_harm(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    page = await feedback_page(
        PageRequest(actor=None, params={"slug": point.slug}, format="html"), door.services
    )
    assert isinstance(page, PageContent) and page.data["open"]
    assert [q["key"] for q in page.data["questions"]] == [
        "helping",
        "run_well",
        "keep_going",
        "anything_else",
    ]
    assert [p["label"] for p in page.data["questions"][0]["points"]][-1] == "I don't know"
    missing = await feedback_page(
        PageRequest(actor=None, params={"slug": "not-a-point"}, format="html"), door.services
    )
    assert isinstance(missing, PageRefusal) and missing.status == 404


async def test_an_answer_is_kept_without_a_name_a_time_or_personal_details(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, tom, point = ready
    answer = await post(
        door,
        point.slug,
        helping="yes",
        run_well="a_bit",
        anything_else="Lovely staff. Ring me on 07700 900123 or jo@example.org, I live at PR1 2AB.",
    )
    assert isinstance(answer, PageContent) and answer.template == "feedback_thanks.html"
    assert not answer.data["harm"]
    (entry,) = await entries(door)
    assert entry.given_on == date(2026, 1, 12)
    assert entry.answers == {"helping": "yes", "run_well": "a_bit"}
    written = entry.comments["anything_else"]
    assert written == "Lovely staff. Ring me on [removed] or [removed], I live at [removed]."
    assert not entry.safeguarding and not entry.with_help
    await tom.say(f"feedback show {point.id}")
    assert written in tom.text()
    assert "07700" not in tom.text()


async def test_words_about_harm_show_who_to_call_and_reach_the_lead(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    door.services.settings.safeguarding_phone = "01772 000000"
    answer = await post(
        door, point.slug, anything_else="My carer hits me when nobody is there. Call 07700900123"
    )
    assert isinstance(answer, PageContent) and answer.data["harm"]
    lines = " ".join(answer.data["help_lines"])
    assert "call 999" in lines and "01772 000000" in lines
    (entry,) = await entries(door)
    assert entry.safeguarding
    (sent,) = await door.outbox(person_id=await door.person_id("Tom Okafor"))
    assert "Safeguarding" in sent.text
    assert "My carer hits me when nobody is there. Call [removed]" in sent.text
    assert "07700900123" not in sent.text
    tom = await door.sign_in("Tom Okafor")
    await tom.say("feedback")
    assert "Flagged for safeguarding\n1" in tom.text()


async def test_bad_input_is_answered_kindly_and_nothing_is_kept(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    empty = await post(door, point.slug)
    assert isinstance(empty, PageContent) and empty.status == 422
    assert "You have not answered anything yet" in empty.data["problem"]["message"]
    essay = await post(door, point.slug, helping="yes", anything_else="a" * 10_000)
    assert isinstance(essay, PageContent) and essay.status == 422
    assert "10,000 characters long" in essay.data["problem"]["message"]
    assert essay.data["values"]["anything_else"] == "a" * 10_000
    emoji = await post(door, point.slug, anything_else="\U0001f600\U0001f44d  \U0001f389")
    assert isinstance(emoji, PageContent) and emoji.status == 422
    assert "could not find any words" in emoji.data["problem"]["message"]
    changed = await post(door, point.slug, helping="excellent")
    assert isinstance(changed, PageContent) and changed.status == 422
    asked = PageRequest(
        actor=None,
        params={"slug": point.slug},
        format="html",
        form={"form_token": "made-up", "helping": "yes"},
    )
    forged = await send_feedback(asked, door.services)
    assert isinstance(forged, PageContent) and forged.status == 422
    assert forged.data["values"]["helping"] == "yes"
    robot = await post(door, point.slug, helping="yes", website="http://spam.example")
    assert isinstance(robot, PageContent) and robot.template == "feedback_thanks.html"
    assert await entries(door) == []


async def test_a_closed_point_takes_nothing_and_can_reopen(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, tom, point = ready
    await tom.say(f"feedback close {point.id}")
    assert "Closed Preston youth club" in tom.text()
    closed = await post(door, point.slug, helping="yes")
    assert isinstance(closed, PageContent) and closed.status == 409 and not closed.data["open"]
    assert await entries(door) == []
    await tom.say(f"feedback reopen {point.id}")
    assert "open for feedback again" in tom.text()
    assert isinstance(await post(door, point.slug, helping="yes"), PageContent)
    assert len(await entries(door)) == 1


async def test_the_provider_sees_answers_first_and_the_council_once_there_are_enough(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    priya, tom, point = ready
    minimum = door.services.settings.suppression_minimum
    await post(door, point.slug, helping="no", anything_else="The bus times are wrong.")
    await tom.say(f"feedback show {point.id}")
    assert "The bus times are wrong." in tom.text()
    await priya.say(f"feedback show {point.id}")
    assert f"Fewer than {minimum} people have answered" in priya.text()
    assert "The bus times are wrong." not in priya.text()
    await priya.say("feedback")
    assert f"Fewer than {minimum}" in priya.text()
    for _ in range(minimum - 1):
        await post(door, point.slug, helping="yes")
    await priya.say(f"feedback show {point.id}")
    assert "The bus times are wrong." in priya.text()
    assert f"See the agreement and its check-ins\ncmd.agreements\nshow {point.agreement_id}" in (
        priya.text()
    )
    assert f"What {minimum} people said" in priya.text()
    assert "rate a member of staff" in priya.text()


async def test_another_provider_sees_nothing_and_it_is_on_the_record(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    await post(door, point.slug, anything_else="Kind and helpful.")
    (entry,) = await entries(door)
    grace = await door.sign_in("Grace Lee")
    for step in (f"show {point.id}", f"close {point.id}", f"hide {entry.id} rude", "yousaid 1"):
        said = text_of(await grace.say(f"feedback {step}"))
        assert "couldn't find that feedback point" in said, step
        assert "Kind and helpful." not in said
    await grace.say("feedback")
    assert "Preston youth club" not in grace.text()
    assert len(await refusals(door)) == 4
    assert (await entries(door))[0].hidden_at is None
    with pytest.raises(AssertionError):
        form_in(await grace.say(f"feedback new agreement {point.agreement_id}"))
    assert "not part of it" in grace.text()


async def test_hiding_an_answer_needs_a_reason_and_is_on_the_record(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, tom, point = ready
    await post(door, point.slug, anything_else="The manager Dave is lazy.")
    (entry,) = await entries(door)
    # Without a reason (the web's "Hide this" button), a short form asks for one.
    form = form_in(await tom.say(f"feedback hide {entry.id}"))
    assert form.form_key == "feedback_hide"
    await tom.fill(f"feedback hide {entry.id}", {0: {"reason": "names a member of staff"}})
    assert "Hidden" in tom.text(), tom.text()
    await tom.say(f"feedback hide {entry.id} again")
    assert "already hidden" in tom.text()
    await tom.say(f"feedback show {point.id}")
    assert "Dave" not in tom.text() and "1 hidden by moderation" in tom.text()
    (hidden,) = await entries(door)
    assert hidden.hidden_reason == "names a member of staff"
    assert hidden.hidden_by == await door.person_id("Tom Okafor")
    async with door.services.db.session() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "feedback.entry_hidden")
        )
    assert event is not None and event.details["reason"] == "names a member of staff"


async def test_you_said_we_did_shows_on_the_public_page(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    priya, _, point = ready
    await priya.fill(
        f"feedback yousaid {point.id}",
        {0: {"text": "You said the bus times were wrong. We fixed them on the poster."}},
    )
    assert "Posted on the feedback page" in priya.text(), priya.text()
    async with door.services.db.session() as session:
        (post_row,) = (await session.scalars(select(FeedbackPost))).all()
    assert post_row.posted_by == await door.person_id("Priya Shah")
    page = await feedback_page(
        PageRequest(actor=None, params={"slug": point.slug}, format="html"), door.services
    )
    assert isinstance(page, PageContent)
    assert page.data["posts"][0]["text"].startswith("You said the bus times were wrong")
    assert page.data["posts"][0]["day"] == "Monday 12 January 2026"


async def test_a_provider_can_set_up_a_point_for_its_own_service(door: TestDoor) -> None:
    door.freeze(NOW)
    grace = await door.sign_in("Grace Lee")
    await grace.fill(
        "feedback new service",
        {
            0: {
                "service_name": "Friday food club",
                "questions": ["helping", "better"],
                "safeguarding_lead": "tom@riversideyouth.example",
            }
        },
    )
    assert "Your feedback point is ready: Friday food club" in grace.text(), grace.text()
    async with door.services.db.session() as session:
        point = (await session.scalars(select(FeedbackPoint))).one()
    assert point.organisation_id is not None and point.authority_id is None
    assert point.safeguarding_lead_id == await door.person_id("Tom Okafor")
    assert point.question_keys == ["helping", "better"]
    form = form_in(await grace.say("feedback new service"))
    replies = await grace.send_page(
        form,
        {"service_name": "Another", "safeguarding_lead": "nobody@nowhere.example"},
        intent=Intent.SUBMIT,
    )
    assert "couldn't find anyone on Convene with that email" in text_of(replies)


async def test_a_council_sets_up_a_point_for_its_engagement_and_a_provider_cannot(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    engagement = await draft_engagement(door.services)
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"feedback new engagement {engagement.id}")
    assert "Only the commissioning team of the council running that engagement" in tom.text()
    assert len(await refusals(door)) == 1
    priya = await door.sign_in("Priya Shah")
    await priya.fill(
        f"feedback new engagement {engagement.id}",
        {0: {"service_name": "Warm spaces drop-in", "questions": []}},
    )
    assert "Your feedback point is ready: Warm spaces drop-in" in priya.text(), priya.text()
    async with door.services.db.session() as session:
        point = (await session.scalars(select(FeedbackPoint))).one()
    assert point.engagement_id == engagement.id and point.authority_id == engagement.authority_id
    assert point.question_keys == ["helping", "run_well", "keep_going", "anything_else"]
    await post(door, point.slug, anything_else="Warm and friendly.")
    await priya.say(f"feedback show {point.id}")
    assert "Warm and friendly." in priya.text()  # the council runs it: nothing held back
    await tom.say(f"feedback show {point.id}")
    assert "Warm and friendly." not in tom.text()
    await tom.say("feedback")
    assert "Warm spaces drop-in" not in tom.text()
