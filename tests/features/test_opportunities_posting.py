"""Posting an opportunity, in-process: a draft saved page by page, lots, a preview exactly as
providers see it, publishing to the providers it fits (and only them) at the same moment,
and the guardrails, each refusal changing nothing and on the record."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.reply import Message
from storage.models import AuditEvent, FormResponse
from storage.opportunity_tables import Opportunity, OpportunityAnnouncement, OpportunityLot
from tests.features.engagement_story import add_hilltop
from tests.features.opportunity_story import (
    DEADLINE_WORDS,
    NOW,
    TITLE,
    add_lot,
    pages,
    post,
    post_with_two_lots,
    refusals,
    state_of,
)
from tests.support.inprocess import TestDoor, form_in, text_of

FITS = ("Tom Okafor", "Amina Begum")
DOES_NOT_FIT = ("Grace Lee", "Joan Hughes")


async def test_a_draft_is_saved_page_by_page_and_nothing_is_sent(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    form = form_in(await priya.say("opportunities new"))
    assert form.page_count == 4
    after_first = form_in(await priya.send_page(form, pages()[0]))
    assert after_first.page_index == 1
    async with door.services.db.session() as session:
        draft = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "opportunity_setup")
        )
    assert draft is not None and draft.answers["title"] == TITLE
    # Opening it again (from any door) carries on from the saved page.
    again = form_in(await priya.say("opportunities new"))
    assert again.response_id == form.response_id and again.page_index == 1
    assert await door.outbox() == []


async def test_post_with_two_lots_preview_then_publish_to_the_providers_it_fits(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post_with_two_lots(priya)
    previewed = await priya.say(f"opportunities preview {opportunity_id}")
    preview = text_of(previewed)
    assert "Is this for us?" in preview
    assert DEADLINE_WORDS in preview
    assert "£50,000 to £80,000" in preview
    assert "Lot 1: North Preston (£20,000 to £30,000)" in preview
    assert "Lot 2: South Preston (£30,000 to £50,000)" in preview
    assert "in arrears" in preview and "2 years" in preview
    assert "no TUPE" in preview and "groups of organisations can bid together" in preview
    assert "rough guess" in preview
    assert await door.outbox() == []  # a preview sends nothing

    published = text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    assert "Published" in published and "2 people in 2 organisations" in published

    queued = await door.outbox()
    told = {row.row.person_id for row in queued}
    fits = {await door.person_id(name) for name in FITS}
    assert told == fits
    assert len({row.row.next_attempt_at for row in queued}) == 1  # the same moment
    for message in queued:
        assert f"New opportunity: {TITLE}" in message.text
        assert DEADLINE_WORDS in message.text
    # What providers get is exactly the card the team previewed.
    card = [
        r for r in previewed if isinstance(r, Message) and r.title == f"New opportunity: {TITLE}"
    ]
    assert card and all(q.replies == card for q in queued)
    async with door.services.db.session() as session:
        announced = (await session.scalars(select(OpportunityAnnouncement))).all()
        opportunity = await session.get(Opportunity, opportunity_id)
        audited = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "opportunity.published")
        )
    assert {a.person_id for a in announced} == fits
    assert {a.outbox_key for a in announced} == {q.row.idempotency_key for q in queued}
    assert opportunity is not None and opportunity.state == "open"
    assert audited is not None and audited.object_id == str(opportunity_id)


async def test_a_short_window_is_a_warning_not_a_refusal(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    short = (NOW + timedelta(weeks=4)).date().isoformat()  # within the law's 25 days
    opportunity_id = await post(
        priya, submission_deadline=short, clarification_deadline="2026-01-26"
    )
    assert "six weeks" in priya.text()
    published = text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    assert "Published" in published and "six weeks" in published


async def test_a_deadline_that_has_passed_is_refused_and_nothing_changes(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    door.advance(timedelta(weeks=9))  # past the deadline before publishing
    before = await state_of(door.services)
    answer = text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    assert "Nothing was sent" in answer and "deadline for bids has passed" in answer
    assert await state_of(door.services) == before
    assert [r.object_id for r in await refusals(door.services, priya.person_id)] == [
        str(opportunity_id)
    ]


async def test_bad_values_and_dates_are_errors_on_the_form(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await priya.fill("opportunities new", pages(value_min="£90,000", value_max="£80,000"))
    assert "must be at least the least" in priya.text()
    await priya.fill("opportunities new", pages(clarification_deadline="2026-03-07"))
    assert "before the deadline for bids" in priya.text()
    async with door.services.db.session() as session:
        assert (await session.scalars(select(Opportunity))).all() == []


async def test_a_lot_needs_a_value(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    await priya.fill(f"opportunities lot {opportunity_id}", {0: {"title": "North"}})
    assert "Give this lot a value" in priya.text()
    await add_lot(priya, opportunity_id, "North", "£1,000", "£2,000")
    # A lot is changed in place by its number.
    await priya.fill(
        f"opportunities lot {opportunity_id} 1",
        {0: {"title": "North Preston", "value_min": "£1,000", "value_max": "£3,000"}},
    )
    async with door.services.db.session() as session:
        lots = (await session.scalars(select(OpportunityLot))).all()
    assert [(lot.number, lot.title, lot.value_max_pence) for lot in lots] == [
        (1, "North Preston", 300_000)
    ]


async def test_another_councils_commissioner_is_refused_on_the_record(door: TestDoor) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    yusuf = await door.sign_in("Yusuf Khan")
    before = await state_of(door.services)
    for words in ("publish", "preview", "interested"):
        answer = text_of(await yusuf.say(f"opportunities {words} {opportunity_id}"))
        assert "Only the commissioning team of the council that posted" in answer
    for words in ("edit", "lot"):
        answer = text_of(await yusuf.say(f"opportunities {words} {opportunity_id}"))
        assert "Only the commissioning team" in answer
    assert await state_of(door.services) == before
    attempts = [r.object_id for r in await refusals(door.services, yusuf.person_id)]
    assert attempts == [str(opportunity_id)] * 5
    # Nor does Hilltop see Riverside's draft at all.
    assert "couldn't find" in text_of(await yusuf.say(f"opportunities show {opportunity_id}"))


async def test_a_step_without_its_number_asks_which_one(door: TestDoor) -> None:
    priya = await door.sign_in("Priya Shah")
    for step in ("edit", "lot", "amend", "withdraw", "publish", "preview"):
        answer = text_of(await priya.say(f"opportunities {step}"))
        assert "Which one? Find it in the list: go to the opportunities list" in answer, step
    assert await refusals(door.services, priya.person_id) == []


async def test_editing_a_draft_starts_from_what_it_says_and_changes_it_in_place(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    form = form_in(await priya.say(f"opportunities edit {opportunity_id}"))
    assert form.values["title"] == TITLE
    changed = pages(title="Youth clubs")  # a page is sent whole, as a browser sends it
    await priya.fill(f"opportunities edit {opportunity_id}", changed)
    async with door.services.db.session() as session:
        rows = (await session.scalars(select(Opportunity))).all()
    assert [(o.id, o.title, o.value_max_pence) for o in rows] == [
        (opportunity_id, "Youth clubs", 8_000_000)
    ]
    deadline = rows[0].submission_deadline
    assert deadline is not None and DEADLINE_WORDS in text_of(
        await priya.say(f"opportunities preview {opportunity_id}")
    )
    # Once published it changes only by an amendment sent to everyone.
    await priya.say(f"opportunities publish {opportunity_id}")
    answer = text_of(await priya.say(f"opportunities edit {opportunity_id}"))
    assert "go to the form to send a change" in answer


async def test_cpv_codes_are_picked_by_words_or_codes_and_shown_by_name(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    # A piece that names no code is an error on the form, and nothing is saved.
    await priya.fill("opportunities new", pages(cpv_codes="zzzz nothing like it"))
    assert "zzzz nothing like it" in priya.text() and "Preview" not in priya.text()
    async with door.services.db.session() as session:
        assert (await session.scalars(select(Opportunity))).all() == []
    opportunity_id = await post(priya, cpv_codes="85312000, meals on wheels")
    async with door.services.db.session() as session:
        opportunity = await session.get(Opportunity, opportunity_id)
        assert opportunity is not None
        codes = list(opportunity.cpv_codes)
    assert codes[0] == "85312000" and len(codes) == 2
    assert all(len(code) == 8 and code.isdigit() for code in codes)
    shown = text_of(await priya.say(f"opportunities preview {opportunity_id}"))
    assert "What is being bought (CPV codes)" in shown and "85312000-9" in shown
