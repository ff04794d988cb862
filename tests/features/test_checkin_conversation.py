"""Check-ins as forms, and a conversation after them, in-process.

Priya (Preston's commissioning team) and Tom (Riverside Youth Trust) agree a plan; the
check-in comes to Tom as a form built from the plan: its questions, a red/amber/green
choice because the plan has one (with what the colours mean), one optional value per
indicator of the outcomes framework, and "anything else". Sending it stops the chases and
tells Priya, with Reply and Arrange a call. They write to each other, arrange a call, and
the thread shows on the check-in for the two of them only. Indicator values are kept per
check-in, and the burden meter points at indicators nobody opened in a year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, FormView, Reply
from bot.core.turn import Intent
from handlers.agreements.monitoring import CHASE_KIND
from storage.conversation_tables import (
    CallState,
    CheckinCall,
    CheckinMessage,
    IndicatorOpened,
    IndicatorValue,
)
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.outcome_tables import OutcomeItem
from tests.features.test_agreement_monitoring import (
    NOW,
    agreed,
    make_agreement,
    refusals,
    send_first,
    texts_to,
)
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of


def _offers(replies: list[Reply]) -> list[FileOffer]:
    return [r for r in replies if isinstance(r, FileOffer)]


async def add_framework(door: TestDoor, agreement_id: int, *, made: datetime) -> list[int]:
    """One outcome with two indicators, made at `made`: the indicators' ids."""
    async with door.services.db.session() as session:
        outcome = OutcomeItem(
            agreement_id=agreement_id,
            kind="outcome",
            position=1,
            text="Young people feel safer",
            created_at=made,
            updated_at=made,
        )
        session.add(outcome)
        await session.flush()
        indicators = [
            OutcomeItem(
                agreement_id=agreement_id,
                kind="indicator",
                outcome_id=outcome.id,
                position=n,
                text=text,
                created_at=made,
                updated_at=made,
            )
            for n, text in enumerate(
                ["Young people say they feel safe", "Sessions attended each week"], start=1
            )
        ]
        session.add_all(indicators)
        await session.flush()
        return [i.id for i in indicators]


async def answered_checkin(door: TestDoor) -> tuple[int, int, Conversation, Conversation, int]:
    """An agreement with a framework, an agreed plan, and check-in answered by form."""
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    indicator_ids = await add_framework(door, agreement_id, made=NOW)
    priya, tom = await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    await tom.fill(
        f"agreements answer {checkin_id}",
        {
            0: {"effective": "Yes, 40 came each week", "rag": "amber"},
            1: {f"indicator_{indicator_ids[1]}": "40"},
            2: {},
        },
    )
    assert "your check-in for Youth clubs in Preston is sent" in tom.text(), tom.text()
    return agreement_id, checkin_id, priya, tom, indicator_ids[1]


async def test_the_checkin_form_is_built_from_the_plan_and_timed(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    indicator_ids = await add_framework(door, agreement_id, made=NOW)
    priya, tom = await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    (sent,) = [q for q in await door.outbox(person_id=tom.person_id) if "Check-in" in q.text]
    assert "Press Answer" in sent.text

    # The button on the check-in message opens the form.
    form = form_in(await tom.press("cmd.agreements", f"answer {checkin_id}"))
    assert form.page_count == 3
    assert [f.id for f in form.fields] == ["effective", "harder_easier", "rag"]
    rag = form.fields[2]
    assert rag.required and rag.help and "Amber" in rag.help
    assert not form.values["rag"]  # nothing chosen for them
    door.advance(timedelta(minutes=9))
    page = form_in(await tom.send_page(form, {"effective": "Yes, 40 came each week"}))
    assert page.errors == {"rag": page.errors["rag"]} and page.errors["rag"]
    page = form_in(await tom.send_page(form, {"effective": "Yes", "rag": "green"}))
    assert [f.id for f in page.fields] == [f"indicator_{i}" for i in indicator_ids]
    assert page.fields[0].label.startswith("1.1 Young people say")
    last = form_in(await tom.send_page(page, {f"indicator_{indicator_ids[1]}": "40 a week"}))
    assert [f.id for f in last.fields] == ["notes"]
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.answered_at is None  # nothing sent yet
    door.advance(timedelta(minutes=3))
    await tom.send_page(last, {"notes": "A new volunteer started"}, intent=Intent.SUBMIT)
    assert "your check-in for Youth clubs in Preston is sent" in tom.text(), tom.text()

    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.rag == "green" and row.minutes_spent == 12
        assert row.answers == {"effective": "Yes", "notes": "A new volunteer started"}
        values = (await session.scalars(select(IndicatorValue))).all()
        assert [(v.item_id, v.value) for v in values] == [(indicator_ids[1], "40 a week")]
    assert [r for r in await door.reminders(kind=CHASE_KIND) if r.state == "pending"] == []
    (told,) = [q for q in await door.outbox(person_id=priya.person_id) if "answered" in q.text]
    assert "Sessions attended each week: 40 a week" in told.text
    assert "Reply" in told.text and "Arrange a call" in told.text
    # Sent once: the form can't be sent again.
    assert "was answered on" in text_of(await tom.say(f"agreements answer {checkin_id}"))
    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "12 minutes spent answering" in said


async def test_the_checkin_form_in_chat_one_question_at_a_time(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    _, _ = await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    tom = await door.sign_in("Tom Okafor")
    said = text_of(await tom.say(f"agreements answer {checkin_id} chat"))
    assert "Is it effective" in said
    await tom.say("Yes, more came than we hoped")
    assert "harder or easier" in tom.text()
    await tom.say("skip")
    assert "red, amber or green" in tom.text()
    await tom.say("green")
    assert "Anything else" in tom.text()
    await tom.say("skip")
    assert "is sent" in tom.text(), tom.text()
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.rag == "green"
        assert row.answers == {"effective": "Yes, more came than we hoped"}


async def test_no_rating_without_one_in_the_plan_and_only_the_lead_answers(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door, consortium=True)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    await priya.say(
        f'agreements plan {agreement_id} frequency=monthly method="A short form" '
        "questions=effective rag=no"
    )
    await tom.say(f"agreements accept {agreement_id}")
    checkin_id = await send_first(door)

    form = form_in(await tom.say(f"agreements answer {checkin_id}"))
    assert "rag" not in [f.id for f in form.fields]
    before = len(await refusals(door))
    await tom.say(f'agreements answer {checkin_id} effective="Yes" rag=green')
    assert "no red, amber or green rating" in tom.text()

    # Asha is in the consortium but not its lead: it can't answer, by form or typed.
    amina = await door.sign_in("Amina Begum")
    assert "couldn't find that agreement" in text_of(
        await amina.say(f"agreements answer {checkin_id}")
    )
    await amina.say(f'agreements answer {checkin_id} effective="Yes"')
    assert "couldn't find that agreement" in amina.text()
    # Priya (the team) reads it, but does not answer it.
    assert "Only the organisation asked can answer" in text_of(
        await priya.say(f"agreements answer {checkin_id}")
    )
    assert len(await refusals(door)) >= before + 4
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.answered_at is None


async def test_the_plan_as_a_form_with_no_frequency_chosen_for_you(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya = await door.sign_in("Priya Shah")
    form = form_in(await priya.say(f"agreements plan {agreement_id}"))
    frequency = form.fields[0]
    assert frequency.id == "frequency" and frequency.required and not form.values["frequency"]
    # Every few weeks, without saying how many: sent back, nothing saved.
    page = form_in(await priya.send_page(form, {"frequency": "every_n_weeks"}))
    questions = next(f for f in page.fields if f.id == "questions")
    assert "Is it effective? Is it making the difference" in questions.choices[0].label
    back = await priya.send_page(
        page,
        {"method": "A short form", "questions": ["effective", "new_outcomes"], "rag": "no"},
        intent=Intent.SUBMIT,
    )
    assert isinstance(back[0], FormView) and "weeks" in back[0].errors
    async with door.services.db.session() as session:
        assert (await session.scalars(select(MonitoringPlanRow))).all() == []

    await priya.fill(
        f"agreements plan {agreement_id}",
        {
            0: {"frequency": "every_n_weeks", "weeks": "6"},
            1: {
                "method": "A short form",
                "questions": ["effective", "new_outcomes"],
                "rag": "no",
                "timeline": "Within 10 working days",
                "targets": "40 young people a week by June",
            },
        },
    )
    assert "Nothing is sent until the provider accepts it" in priya.text(), priya.text()
    async with door.services.db.session() as session:
        (plan,) = (await session.scalars(select(MonitoringPlanRow))).all()
        assert plan.frequency == "every_n_weeks" and plan.every_weeks == 6
        assert plan.questions == ["effective", "new_outcomes"] and plan.rag is False
        assert plan.targets == "40 young people a week by June"
    tom = await door.sign_in("Tom Okafor")
    said = text_of(await tom.say(f"agreements monitoring {agreement_id}"))
    assert "every 6 weeks" in said and "40 young people a week by June" in said


async def test_replies_go_between_the_team_and_the_reporter_only(door: TestDoor) -> None:
    agreement_id, checkin_id, priya, tom, _ = await answered_checkin(door)
    await priya.say(f'agreements reply {checkin_id} text="Could you tell us about the girls?"')
    assert "Sent to the provider" in priya.text(), priya.text()
    assert any(
        "Could you tell us about the girls?" in t for t in await texts_to(door, "Tom Okafor")
    )

    # Tom replies back with the form.
    await tom.fill(f"agreements reply {checkin_id}", {0: {"text": "Numbers are up by 10"}})
    assert "Sent to the council's team" in tom.text(), tom.text()
    assert any("Numbers are up by 10" in t for t in await texts_to(door, "Priya Shah"))

    for person in (priya, tom):
        said = text_of(await person.say(f"agreements checkin {checkin_id}"))
        assert "The conversation" in said
        assert said.index("about the girls") < said.index("Numbers are up by 10")

    # An empty reply is refused; others can neither see nor reply.
    await tom.say(f'agreements reply {checkin_id} text=" "')
    assert "Write your message" in tom.text() and "Nothing was sent" in tom.text()
    before = len(await refusals(door))
    grace = await door.sign_in("Grace Lee")
    for step in (
        f'reply {checkin_id} text="Hello"',
        f"checkin {checkin_id}",
        f"reply {checkin_id}",
    ):
        said = text_of(await grace.say(f"agreements {step}"))
        assert "couldn't find that agreement" in said and "girls" not in said
    assert len(await refusals(door)) == before + 3
    async with door.services.db.session() as session:
        assert len((await session.scalars(select(CheckinMessage))).all()) == 2
    assert await texts_to(door, "Grace Lee") == []
    assert agreement_id


async def test_arranging_a_call_with_times_in_full(door: TestDoor) -> None:
    _, checkin_id, priya, tom, _ = await answered_checkin(door)
    # Only the team offers times.
    assert "Only the council's commissioning team offers times" in text_of(
        await tom.say(f"agreements call {checkin_id}")
    )
    form = form_in(await priya.say(f"agreements call {checkin_id}"))
    back = await priya.send_page(form, {"option_1": "1 February 2026 10am"}, intent=Intent.SUBMIT)
    assert isinstance(back[0], FormView) and "has passed" in back[0].errors["option_1"]
    await priya.send_page(
        form,
        {"option_1": "20 February 2026 10am", "option_2": "23 February 2026 2pm"},
        intent=Intent.SUBMIT,
    )
    assert "Sent 2 times" in priya.text(), priya.text()
    async with door.services.db.session() as session:
        (offer,) = (await session.scalars(select(CheckinCall))).all()
    offered = [
        q for q in await door.outbox(person_id=tom.person_id) if "would like a call" in q.text
    ]
    assert len(offered) == 1 and "Friday 20 February 2026, 10am" in offered[0].text
    assert "None of these suit" in offered[0].text

    # Grace can't pick; a bad pick changes nothing; Tom picks the second.
    grace = await door.sign_in("Grace Lee")
    assert "couldn't find" in text_of(await grace.say(f"agreements pick {offer.id} 1"))
    await tom.say(f"agreements pick {offer.id} 5")
    assert "Nothing was changed" in tom.text()
    await tom.press("cmd.agreements", f"pick {offer.id} 2")
    assert "Agreed: a call on Monday 23 February 2026, 2pm" in tom.text(), tom.text()
    # Tom takes the call as a calendar file; Priya asks for hers; Grace gets none.
    taken = await tom.take_file()
    assert isinstance(taken, TakenFile), taken
    assert b"BEGIN:VEVENT" in taken.data and b"DTSTART:20260223T140000Z" in taken.data
    await priya.say(f"agreements calendar {offer.id}")
    assert isinstance(await priya.take_file(), TakenFile)
    assert isinstance(await grace.take_file(next(iter(_offers(tom.last)))), FileRefused)
    assert "couldn't find" in text_of(await grace.say(f"agreements calendar {offer.id}"))
    assert any(
        "Call agreed: Monday 23 February 2026, 2pm" in t for t in await texts_to(door, "Priya Shah")
    )
    await tom.say(f"agreements pick {offer.id} 1")
    assert "already been answered" in tom.text()
    assert "Call agreed for Monday 23 February 2026, 2pm" in text_of(
        await priya.say(f"agreements checkin {checkin_id}")
    )

    # A second offer, where none suit, with a note for the team.
    await priya.fill(f"agreements call {checkin_id}", {0: {"option_1": "2 March 2026 9am"}})
    async with door.services.db.session() as session:
        second = max((await session.scalars(select(CheckinCall))).all(), key=lambda c: c.id)
    await tom.say(f'agreements pick {second.id} none note="Mornings are hard for us"')
    assert "none of the times suit" in tom.text()
    async with door.services.db.session() as session:
        row = await session.get(CheckinCall, second.id)
        assert row is not None and row.state == CallState.NONE_SUIT
        assert row.note == "Mornings are hard for us"
    assert any("Mornings are hard for us" in t for t in await texts_to(door, "Priya Shah"))
    assert await texts_to(door, "Grace Lee") == []


async def test_indicator_values_over_time_and_unopened_indicators(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    made = NOW - timedelta(days=400)
    indicator_ids = await add_framework(door, agreement_id, made=made)
    priya, tom = await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    await tom.say(f'agreements answer {checkin_id} effective="Yes" rag=green indicator_3_1="9"')
    assert "no indicator 3.1" in tom.text() and "Nothing was changed" in tom.text()
    await tom.say(f'agreements answer {checkin_id} effective="Yes" rag=green indicator_1_1="8/10"')
    assert "is sent" in tom.text(), tom.text()
    async with door.services.db.session() as session:
        (value,) = (await session.scalars(select(IndicatorValue))).all()
        assert (value.item_id, value.value) == (indicator_ids[0], "8/10")
        # Someone opened 1.1 over a year ago: it counts as not opened in a year too.
        session.add(
            IndicatorOpened(
                item_id=indicator_ids[0],
                person_id=priya.person_id,
                opened_at=door.now() - timedelta(days=370),
            )
        )

    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "Nobody has opened indicator 1.1 (Young people say they feel safe)" in said
    assert f"agreements framework {agreement_id} remove indicator 1.2" in said

    # Tom (a party) sees the values; only the team's opening is recorded.
    said = text_of(await tom.say(f"agreements indicator {agreement_id} 1.1"))
    assert "Monday 16 February 2026: 8/10" in said
    said = text_of(await priya.say(f"agreements indicator {agreement_id} 1.1"))
    assert "8/10" in said
    async with door.services.db.session() as session:
        opens = (await session.scalars(select(IndicatorOpened))).all()
        assert [o.person_id for o in opens] == [priya.person_id, priya.person_id]
    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "indicator 1.1" not in said and "indicator 1.2" in said

    # A bad number, and a stranger: refused, on the record.
    assert "Say which indicator" in text_of(
        await priya.say(f"agreements indicator {agreement_id} 4.1")
    )
    grace = await door.sign_in("Grace Lee")
    said = text_of(await grace.say(f"agreements indicator {agreement_id} 1.1"))
    assert "couldn't find that agreement" in said and "8/10" not in said


async def test_indicators_newer_than_a_year_are_not_offered_for_removal(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    await add_framework(door, agreement_id, made=NOW - timedelta(days=200))
    priya = await door.sign_in("Priya Shah")
    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "Nobody has opened" not in said
    door.advance(timedelta(days=200))
    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "Nobody has opened indicator 1.1" in said and "indicator 1.2" in said
    assert datetime(2026, 1, 1, tzinfo=UTC) < door.now()


async def test_a_form_sent_after_a_typed_answer_changes_nothing(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    _, tom = await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    form = form_in(await tom.say(f"agreements answer {checkin_id}"))
    await tom.say(f'agreements answer {checkin_id} effective="Typed first" rag=green')
    assert "is sent" in tom.text()
    page = form_in(await tom.send_page(form, {"effective": "From the form", "rag": "red"}))
    back = await tom.send_page(page, {}, intent=Intent.SUBMIT)
    said = text_of(back)
    assert "already been answered" in said, said
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.rag == "green"
        assert row.answers == {"effective": "Typed first"}
