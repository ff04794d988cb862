"""Deadline reminders to the people whose organisations said they are interested: 14 days, 3
working days and the morning of the deadline, on working days, at each person's own local
time and quiet hours; moved by an amendment; none for a withdrawn opportunity or for an
organisation that withdrew its interest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.quiet_hours import Preferences
from bot.core.reply import Message
from handlers.opportunities.reminders import REMINDER_KIND, Which, reminder_day
from storage.models import Membership, Organisation, Person, Role
from storage.notification_preferences import save_preferences
from storage.opportunity_tables import OpportunityAnnouncement
from tests.features.opportunity_story import NOW, TITLE, post
from tests.support.inprocess import Conversation, Queued, TestDoor, text_of

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
#: Tuesday 26 May 2026, the day after the Spring bank holiday (Monday 25 May).
DEADLINE_DAY = "2026-05-26"
DEADLINE_WORDS = "Tuesday 26 May 2026, 5pm"


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def test_reminder_days_skip_weekends_and_bank_holidays() -> None:
    deadline = datetime(2026, 5, 26, 17, tzinfo=LONDON)  # the Tuesday after a bank holiday
    assert reminder_day(Which.FOURTEEN_DAYS, deadline, LONDON) == date(2026, 5, 12)
    # Three working days before: not Monday (a bank holiday), not the weekend.
    assert reminder_day(Which.THREE_WORKING_DAYS, deadline, LONDON) == date(2026, 5, 20)
    assert reminder_day(Which.MORNING_OF, deadline, LONDON) == date(2026, 5, 26)
    # Fourteen days before Monday 18 May is the Early May bank holiday: the Friday before.
    monday = datetime(2026, 5, 18, 17, tzinfo=LONDON)
    assert reminder_day(Which.FOURTEEN_DAYS, monday, LONDON) == date(2026, 5, 1)
    # A Saturday deadline: its "morning of" reminder goes on the Friday.
    saturday = datetime(2026, 5, 30, 17, tzinfo=LONDON)
    assert reminder_day(Which.MORNING_OF, saturday, LONDON) == date(2026, 5, 29)


async def _add_member_in_new_york(door: TestDoor) -> int:
    """Sam works for Riverside Youth Trust from New York."""
    async with door.services.db.session() as session:
        riverside = await session.scalar(
            select(Organisation).where(Organisation.name == "Riverside Youth Trust")
        )
        assert riverside is not None
        sam = Person(
            name="Sam Reyes", email="sam@riversideyouth.example", timezone="America/New_York"
        )
        session.add(sam)
        await session.flush()
        session.add(
            Membership(person_id=sam.id, role=Role.PROVIDER_MEMBER, organisation_id=riverside.id)
        )
        return sam.id


async def _publish(
    door: TestDoor, deadline: str = DEADLINE_DAY, **changes: str
) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    changes.setdefault("clarification_deadline", "2026-05-01")
    opportunity_id = await post(priya, submission_deadline=deadline, **changes)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    return priya, opportunity_id


async def _reminders_queued(door: TestDoor, which: Which) -> list[Queued]:
    return [q for q in await door.outbox() if f":reminder:{which}:" in q.row.idempotency_key]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _due_reminders(door: TestDoor) -> dict[str, datetime]:
    return {
        r.target_id: _aware(r.due_at)
        for r in await door.reminders(kind=REMINDER_KIND)
        if r.state == "pending"
    }


def _due(queued: Queued) -> datetime:
    due = queued.row.next_attempt_at
    return due if due.tzinfo else due.replace(tzinfo=UTC)


async def test_interested_people_are_reminded_at_their_own_local_times(door: TestDoor) -> None:
    sam_id = await _add_member_in_new_york(door)
    _, opportunity_id = await _publish(door)
    assert await _due_reminders(door) == {
        f"{opportunity_id}:14_days": at(date(2026, 5, 12), 10),
        f"{opportunity_id}:3_working_days": at(date(2026, 5, 20), 10),
        f"{opportunity_id}:morning_of": at(date(2026, 5, 26), 8),
    }

    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    await tom.say(f"opportunities interest {opportunity_id}")
    await amina.say(f"opportunities interest {opportunity_id}")
    await amina.say(f"opportunities leave {opportunity_id}")  # Asha changed its mind
    # Tom's day starts at 10:30, so nothing reaches him before then.
    async with door.services.db.session() as session:
        await save_preferences(session, tom.person_id, Preferences(day_starts=time(10, 30)), NOW)

    door.advance(at(date(2026, 5, 12), 10) - door.now())
    assert await door.sweep() == 1
    fourteen = await _reminders_queued(door, Which.FOURTEEN_DAYS)
    assert {q.row.person_id: _due(q) for q in fourteen} == {
        tom.person_id: at(date(2026, 5, 12), 10, 30),  # quiet hours until 10:30
        sam_id: at(date(2026, 5, 12), 10, tz=NEW_YORK),  # 10am in New York
    }
    by_person = {q.row.person_id: q for q in fourteen}
    toms = by_person[tom.person_id]
    assert TITLE in toms.text and DEADLINE_WORDS in toms.text
    assert "What to do next" in toms.text and "about two weeks" in toms.text
    [message] = [r for r in toms.replies if isinstance(r, Message)]
    assert f"calendar {opportunity_id}" in [b.value for b in message.buttons]
    # Sam reads the deadline in his own time: 5pm in London is midday in New York.
    assert "Tuesday 26 May 2026, midday" in by_person[sam_id].text
    assert await door.sweep() == 0 and len(await _reminders_queued(door, Which.FOURTEEN_DAYS)) == 2

    door.advance(at(date(2026, 5, 20), 10) - door.now())
    assert await door.sweep() == 1
    three = await _reminders_queued(door, Which.THREE_WORKING_DAYS)
    assert {q.row.person_id for q in three} == {tom.person_id, sam_id}
    assert all("3 working days" in q.text for q in three)

    door.advance(at(date(2026, 5, 26), 8) - door.now())
    assert await door.sweep() == 1
    morning = await _reminders_queued(door, Which.MORNING_OF)
    assert {q.row.person_id: _due(q) for q in morning} == {
        tom.person_id: at(date(2026, 5, 26), 10, 30),  # the start of his day
        sam_id: at(date(2026, 5, 26), 8, tz=NEW_YORK),  # 8am in New York
    }
    assert all("That is today" in q.text for q in morning)
    # Asha withdrew its interest: Amina got no reminder at all.
    assert [
        q
        for q in await door.outbox(person_id=amina.person_id)
        if ":reminder:" in q.row.idempotency_key
    ] == []
    async with door.services.db.session() as session:
        recorded = (
            await session.scalars(
                select(OpportunityAnnouncement).where(OpportunityAnnouncement.kind == "reminded")
            )
        ).all()
    assert len(recorded) == 6 and {a.person_id for a in recorded} == {tom.person_id, sam_id}


async def test_an_amendment_that_moves_the_deadline_moves_the_reminders(door: TestDoor) -> None:
    priya, opportunity_id = await _publish(door)
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"opportunities interest {opportunity_id}")
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "Two more weeks.", "submission_deadline": "2026-06-09"}},
    )
    assert await _due_reminders(door) == {
        f"{opportunity_id}:14_days": at(date(2026, 5, 26), 10),
        f"{opportunity_id}:3_working_days": at(date(2026, 6, 4), 10),
        f"{opportunity_id}:morning_of": at(date(2026, 6, 9), 8),
    }
    # On the old 14-day day nothing is due; on the new one Tom hears of the new deadline.
    door.advance(at(date(2026, 5, 12), 10) - door.now())
    assert await door.sweep() == 0
    door.advance(at(date(2026, 5, 26), 10) - door.now())
    assert await door.sweep() == 1
    [reminder] = await _reminders_queued(door, Which.FOURTEEN_DAYS)
    assert "Tuesday 9 June 2026, 5pm" in reminder.text

    # Brought forward to ten days away: the 14-day reminder has passed, so it is dropped.
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "Sooner, sorry.", "submission_deadline": "2026-06-05"}},
    )
    assert sorted(await _due_reminders(door)) == [
        f"{opportunity_id}:3_working_days",
        f"{opportunity_id}:morning_of",
    ]


async def test_a_withdrawn_opportunity_reminds_nobody(door: TestDoor) -> None:
    priya, opportunity_id = await _publish(door)
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"opportunities interest {opportunity_id}")
    await priya.fill(
        f"opportunities withdraw {opportunity_id}", {0: {"reason": "The money was cut."}}
    )
    assert await door.reminders(kind=REMINDER_KIND) == []
    door.advance(at(date(2026, 5, 26), 9) - door.now())
    await door.sweep()
    assert [q for q in await door.outbox() if ":reminder:" in q.row.idempotency_key] == []


async def test_a_reminder_whose_moment_passed_is_never_scheduled(door: TestDoor) -> None:
    # Published on Monday 12 January with bids closing ten days later (Thursday 22nd).
    # (The story's contract is below the Act's threshold: the law sets no minimum
    # tendering period for it.)
    _, opportunity_id = await _publish(
        door, deadline="2026-01-22", clarification_deadline="2026-01-19"
    )
    assert sorted(await _due_reminders(door)) == [
        f"{opportunity_id}:3_working_days",
        f"{opportunity_id}:morning_of",
    ]
