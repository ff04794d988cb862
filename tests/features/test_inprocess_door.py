"""The in-process test door itself: it takes the same path as the chat doors, and hides
nothing a test needs to see (replies, forms, the outbox, reminders, the clock, files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, FormView, Message, Notice
from bot.core.turn import Turn
from bot.turns import ReplyRoute
from handlers.readiness import REFRESH_AFTER, REFRESH_KIND
from storage.db import Database
from storage.models import Door, FormResponse, Person, ResponseState, WorkState
from tests.support.inprocess import TestDoor, TurnFailed, form_in, text_of

READINESS: dict[int, dict[str, str | list[str]]] = {
    0: {"annual_cost": "£45,000", "arrears_days": "61_90", "overhead_rate": "15%"},
    5: {"support_wanted": ["none"]},
}


async def test_help_lists_what_this_person_may_use(door: TestDoor) -> None:
    priya = await door.sign_in("Priya Shah")  # a commissioner
    tom = await door.sign_in("Tom Okafor")  # a provider
    [for_priya] = await priya.say("help")
    [for_tom] = await tom.say("help")
    assert isinstance(for_priya, Message) and isinstance(for_tom, Message)
    assert "• go to directory:" in text_of([for_priya])
    assert "• go to directory:" not in text_of([for_tom])
    assert "• go to readiness:" in text_of([for_tom])


async def test_unknown_people_and_words_are_refused(door: TestDoor) -> None:
    with pytest.raises(AssertionError, match="Nobody Atall"):
        await door.sign_in("Nobody Atall")
    tom = await door.sign_in("Tom Okafor")
    [notice] = await tom.say("fly")
    assert isinstance(notice, Notice) and 'I don\'t know "fly"' in notice.text
    assert tom.last == [notice]


async def test_a_form_is_sent_page_by_page_and_stored(door: TestDoor) -> None:
    tom = await door.sign_in("Tom Okafor")
    first = form_in(await tom.say("readiness"))
    assert first.page_index == 0 and first.page_count > 1
    # A wrong answer comes back on the same page, with the error, and nothing moves on.
    again = form_in(await tom.send_page(first, {"annual_cost": "lots"}))
    assert again.page_index == 0 and "annual_cost" in again.errors
    await tom.fill("readiness", READINESS)
    assert "Thank you" in tom.text()
    async with door.services.db.session() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(FormResponse)
            .where(
                FormResponse.form_key == "readiness", FormResponse.state == ResponseState.SUBMITTED
            )
        )
    assert sent == 1


async def test_fill_says_which_page_was_refused(door: TestDoor) -> None:
    tom = await door.sign_in("Tom Okafor")
    with pytest.raises(AssertionError, match="page 0 was refused"):
        await tom.fill("readiness", {0: {"annual_cost": "lots"}})


async def test_questions_answered_one_message_at_a_time_in_a_chat(door: TestDoor) -> None:
    """The router sends a chat message to the form open in that conversation, not to
    the commands; another person's conversation has no form open."""
    tom = await door.sign_in("Tom Okafor", door=Door.SLACK)
    grace = await door.sign_in("Grace Lee", door=Door.SLACK)
    assert tom.conversation != grace.conversation
    assert "Question 1 of" in text_of(await tom.say("readiness chat"))
    refused = text_of(await tom.say("lots"))
    assert "as an amount of money" in refused and "Question 1 of" in refused
    assert "Question 2 of" in text_of(await tom.say("£45,000"))
    assert 'I don\'t know "lots"' in text_of(await grace.say("lots"))
    assert "Question 3 of" in text_of(await tom.say("skip"))


async def test_a_role_lost_applies_to_the_next_turn(door: TestDoor) -> None:
    """The actor is read for every turn, as the web door reads it on every request."""
    tom = await door.sign_in("Tom Okafor")
    before = await tom.actor()
    assert not before.is_commissioner
    assert "readiness" in text_of(await tom.say("help"))
    async with door.services.db.session() as session:
        person = await session.get(Person, tom.person_id)
        assert person is not None
        for membership in list(person.memberships):
            await session.delete(membership)
    assert not (await tom.actor()).grants
    assert "• go to readiness:" not in text_of(await tom.say("help"))


async def test_a_retried_delivery_is_handled_once_and_replies_are_queued(door: TestDoor) -> None:
    tom = await door.sign_in("Tom Okafor", door=Door.SLACK)
    turn = Turn(door=Door.SLACK, actor=await tom.actor(), conversation="D1", text="help")
    route = ReplyRoute(door=Door.SLACK, address="D1", key="reply-E1", person_id=tom.person_id)
    first = await door.run(turn, event="E1", route=route)
    retry = await door.run(turn, event="E1", route=route)
    assert first.queued and not first.duplicate and first.replies
    assert retry.duplicate and not retry.replies
    [queued] = await door.outbox(door=Door.SLACK)
    assert queued.row.address == "D1" and queued.row.state == WorkState.PENDING
    assert queued.text == text_of(first.replies)
    assert [q.row.id for q in await tom.inbox()] == [queued.row.id]


async def test_a_database_error_fails_the_test_instead_of_reading_as_an_answer(
    door: TestDoor, tmp_path: Path
) -> None:
    """`run_turn` apologises to a person when the database is down; the test door must
    not hand that apology to a test as if it were the feature's answer."""
    tom = await door.sign_in("Tom Okafor")
    actor = await tom.actor()
    await door.services.db.dispose()
    door.services.db = Database(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/convene.db")
    with pytest.raises(TurnFailed):
        await door.run(Turn(door=Door.WEB, actor=actor, text="readiness"))


async def test_the_clock_moves_and_the_sweep_sends_what_falls_due(door: TestDoor) -> None:
    start = door.freeze(datetime(2026, 3, 6, 17, 0, tzinfo=UTC)).now()
    tom = await door.sign_in("Tom Okafor")
    await tom.fill("readiness", READINESS)
    [refresh] = await door.reminders(kind=REFRESH_KIND)
    assert refresh.due_at.replace(tzinfo=UTC) == start + REFRESH_AFTER
    assert await door.sweep() == 0  # not due yet
    assert door.advance(REFRESH_AFTER - timedelta(minutes=1)) < start + REFRESH_AFTER
    assert await door.sweep() == 0
    door.advance(timedelta(minutes=1))
    assert await door.sweep() == 1
    [done] = await door.reminders(kind=REFRESH_KIND)
    assert done.state == WorkState.DONE
    nudges = [q for q in await tom.inbox() if "Are your readiness answers still right?" in q.text]
    assert len(nudges) == 1


async def test_a_file_offered_is_made_for_the_person(door: TestDoor) -> None:
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("export directory")
    offers = [r for r in replies if isinstance(r, FileOffer)]
    assert offers, text_of(replies)
    taken = await priya.take_file()
    assert isinstance(taken, TakenFile), taken
    assert taken.rows > 0 and taken.data
    tom = await door.sign_in("Tom Okafor")  # a provider: the file is made for Priya only
    refused = await tom.take_file(offers[0])
    assert isinstance(refused, FileRefused)


def test_form_in_names_what_was_there_instead() -> None:
    with pytest.raises(AssertionError, match=r"no form in the replies: .*Hello"):
        form_in([Notice(text="Hello")])
    page = FormView(
        form_key="k",
        form_version=1,
        response_id=1,
        title="T",
        page_index=0,
        page_count=1,
        page_title="P",
        fields=[],
    )
    assert form_in([Notice(text="x"), page]) is page
