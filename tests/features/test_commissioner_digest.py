"""The commissioners' weekly digest, in-process with a fixed clock: on the chosen day
(Monday unless changed) in the person's waking hours, one message per person per ISO week
through the outbox, saying what changed, what is due and what is overdue, each line a
button onward; nothing for a commissioner whose week held nothing; and the day choice.

The bench's seeding is frozen at Monday 12 January 2026, 9am in London.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bench.dashboard import NOW, python_figures
from bot.core.reply import Message
from storage.agreement_tables import Agreement
from storage.commissioner_digests import COMMISSIONER_DIGEST_KIND
from storage.models import Authority, Person, Role
from storage.monitoring_tables import CheckinRow
from storage.people import grant
from tests.features.test_dashboard import COMMISSIONER, seeded
from tests.support.inprocess import Queued, TestDoor


def digests(queued: list[Queued]) -> list[Queued]:
    return [q for q in queued if q.row.idempotency_key.startswith("digest:commissioner:")]


async def dana_id(door: TestDoor) -> int:
    async with door.services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == COMMISSIONER))
    assert found is not None
    return found


async def test_on_monday_the_commissioner_gets_one_digest_of_the_councils_week(
    door: TestDoor,
) -> None:
    dana, council = await seeded(door)
    await dana.say("dashboard")  # the first commissioner to look starts the hourly job
    assert len(await door.reminders(kind=COMMISSIONER_DIGEST_KIND)) == 1
    await door.sweep()
    person = await dana_id(door)
    (sent,) = digests(await door.outbox(person_id=person))
    assert sent.row.idempotency_key == f"digest:commissioner:{person}:2026-W03"
    (message,) = sent.replies
    assert isinstance(message, Message)
    assert message.title == "Your week, Monday 12 January 2026"
    assert message.who_sees and "Only you get this message" in message.who_sees
    headings = [s.heading for s in message.sections]
    assert "Bench Council 0" in headings
    # Overdue check-ins: every agreement with one is a line (or counted), as the rows say.
    async with door.services.db.session() as session:
        _, _, agreement, _ = await python_figures(session, council, today=NOW.date(), now=NOW)
        overdue_agreements = await session.scalar(
            select(func.count(func.distinct(CheckinRow.agreement_id)))
            .join(Agreement, Agreement.id == CheckinRow.agreement_id)
            .where(
                Agreement.authority_id == council,
                CheckinRow.answered_at.is_(None),
                CheckinRow.due_on < NOW.date(),
            )
        )
    assert agreement.checkins_overdue > 0
    overdue = next(s for s in message.sections if s.heading == "Overdue")
    listed = [b for b in overdue.buttons if not b.label.startswith("And ")]
    more = [b for b in overdue.buttons if b.label.startswith("And ")]
    extra = int(more[0].label.split()[1]) if more else 0
    assert len(listed) + extra == overdue_agreements
    total = sum(int(b.label.rsplit(": ", 1)[1].split()[0]) for b in listed)
    assert total <= agreement.checkins_overdue
    assert all("overdue since" in b.label and b.value.startswith("show ") for b in listed)
    # Every line is a button onward; dates are written in full.
    for section in message.sections[1:]:
        assert section.buttons and all(b.action.startswith("cmd.") for b in section.buttons)
    assert "Due by Sunday 18 January 2026" in headings or "What changed" in " ".join(
        h or "" for h in headings
    )
    # The next hour's run (same day, same ISO week) adds nothing.
    door.advance(timedelta(hours=1))
    await door.sweep()
    assert len(digests(await door.outbox(person_id=person))) == 1


async def test_the_chosen_day_quiet_hours_and_turning_it_off(door: TestDoor) -> None:
    dana, _ = await seeded(door)
    replies = await dana.say("dashboard digest day=wednesday")
    assert "We send your weekly digest on Wednesdays" in dana.text()
    assert replies
    person = await dana_id(door)
    await door.sweep()  # Monday: not her day any more
    assert digests(await door.outbox(person_id=person)) == []
    door.advance(timedelta(days=1, hours=22))  # Wednesday 7am: still before her day starts
    await door.sweep()
    assert digests(await door.outbox(person_id=person)) == []
    door.advance(timedelta(hours=1, minutes=5))  # Wednesday 8:05am
    await door.sweep()
    (sent,) = digests(await door.outbox(person_id=person))
    assert sent.replies[0].title == "Your week, Wednesday 14 January 2026"  # type: ignore[union-attr]
    await dana.say("dashboard digest off")
    assert "You have turned off the weekly digest" in dana.text()
    door.advance(timedelta(days=7))
    await door.sweep()
    assert len(digests(await door.outbox(person_id=person))) == 1
    await dana.say("dashboard digest tue")
    assert "Tuesdays" in dana.text()
    await dana.say("dashboard digest someday")
    assert "Choose a day from Monday to Sunday" in dana.text()


async def test_nothing_is_sent_to_a_commissioner_whose_week_held_nothing(
    door: TestDoor,
) -> None:
    dana, _ = await seeded(door)
    async with door.services.db.session() as session:
        quiet = Authority(name="Quiet Council", slug="quiet-council")
        sam = Person(name="Sam Quiet", email="sam@quiet.example", is_demo=True)
        session.add_all([quiet, sam])
        await session.flush()
        await grant(session, sam, Role.COMMISSIONER, authority_id=quiet.id)
        sam_id = sam.id
    await dana.say("dashboard")
    await door.sweep()
    assert digests(await door.outbox(person_id=sam_id)) == []
    assert len(digests(await door.outbox(person_id=await dana_id(door)))) == 1


async def test_only_commissioners_choose_a_digest_day(door: TestDoor) -> None:
    tom = await door.sign_in("Tom Okafor")
    await tom.say("dashboard digest day=friday")
    assert "The weekly digest is for council commissioning teams." in tom.text()


async def test_home_shows_a_commissioner_their_digest_day_with_buttons(door: TestDoor) -> None:
    dana, _ = await seeded(door)
    await dana.say("home")
    assert "Your weekly digest (for commissioners)" in dana.text()
    assert "We send your weekly digest on Mondays" in dana.text()
    assert "digest day=off" in dana.text() and "digest day=friday" in dana.text()
    tom = await door.sign_in("Tom Okafor")
    await tom.say("home")
    assert "Your weekly digest" not in tom.text()
