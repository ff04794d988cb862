"""Key-date reminders for agreements, in-process: Priya records a contract with Riverside
Youth Trust that ends on Boxing Day 2026 (a Saturday, after Christmas Day). Each key date is
one reminder, on the working day on or before it, so the end of term is reminded of on
Thursday 24 December. The team's dates go to the council's commissioning team only; the
dates for both go to the team and Riverside's people too, each at the start of their own
working day; nobody else hears. Changing the agreement moves its reminders and drops those
it no longer has; a date already past is not scheduled. The agreement's page lists the key
dates still to come: the team sees all, the provider its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core.quiet_hours import Preferences
from handlers.agreements.key_dates import REMINDER_KIND
from storage.models import AuditEvent, Person, Reminder
from storage.notification_preferences import save_preferences
from tests.features.engagement_story import add_hilltop
from tests.features.test_agreements import NOW, answers, record
from tests.support.inprocess import Queued, TestDoor, text_of

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
BOXING_DAY = "2026-12-26"


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _pending(door: TestDoor) -> dict[str, Reminder]:
    """The pending key-date reminders, by what they are for ("end_of_term:0")."""
    return {
        r.target_id.split(":", 1)[1]: r
        for r in await door.reminders(kind=REMINDER_KIND)
        if r.state == "pending"
    }


async def _reminded(door: TestDoor, what: str) -> list[Queued]:
    return [
        q
        for q in await door.outbox()
        if ":key_date:" in q.row.idempotency_key and f":{what}:" in q.row.idempotency_key
    ]


async def _go_to(door: TestDoor, moment: datetime) -> None:
    door.advance(moment - door.now())
    await door.sweep()


async def test_reminders_go_on_the_working_day_before_boxing_day_to_the_right_people(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    tom_id = await door.person_id("Tom Okafor")
    async with door.services.db.session() as session:
        # Tom works from New York and starts his day at 9am.
        await session.execute(
            update(Person).where(Person.id == tom_id).values(timezone="America/New_York")
        )
        await save_preferences(session, tom_id, Preferences(day_starts=time(9, 0)), NOW)
    agreement_id = await record(priya, answers(ends_on=BOXING_DAY, break_1_on="2026-10-01"))

    pending = await _pending(door)
    # Saturday 26 December: not Friday (Christmas Day), so Thursday 24 December.
    assert _aware(pending["end_of_term:0"].due_at) == at(date(2026, 12, 24), 0)
    # Six months before (Friday 26 June) and three months before (Saturday 26 September:
    # the Friday before).
    assert _aware(pending["end_of_term_first:0"].due_at) == at(date(2026, 6, 26), 0)
    assert _aware(pending["end_of_term_second:0"].due_at) == at(date(2026, 9, 25), 0)
    # The contract details notice: within 30 days of signing (the start), the team's.
    assert "contract_details_notice:0" in pending

    # The team's own date: Priya only. Not Tom, not another council's commissioner.
    details_on = working_day_on_or_before_due(pending["contract_details_notice:0"])
    await _go_to(door, at(details_on, 0) - timedelta(minutes=1))
    assert await _reminded(door, "contract_details_notice") == []
    await _go_to(door, at(details_on, 0, 1))
    (sent,) = await _reminded(door, "contract_details_notice")
    assert sent.row.person_id == await door.person_id("Priya Shah")
    assert "Publish the contract details notice" in sent.text
    assert f"show {agreement_id}" in sent.text
    assert "Only the people named on this agreement for this kind of date" in sent.text

    # Six months before the end, on its day: for both, so Priya and Tom.
    await _go_to(door, at(date(2026, 6, 26), 0, 1))
    warned = {q.row.person_id for q in await _reminded(door, "end_of_term_first")}
    assert warned == {await door.person_id("Priya Shah"), tom_id}

    # The end of term, for both: nothing on Wednesday 23 December...
    await _go_to(door, at(date(2026, 12, 23), 23, 59))
    assert await _reminded(door, "end_of_term") == []
    # ...and on Thursday 24 December, to Priya at 8am London and Tom at 9am New York.
    await _go_to(door, at(date(2026, 12, 24), 0, 1))
    told = {q.row.person_id: q for q in await _reminded(door, "end_of_term")}
    assert set(told) == {await door.person_id("Priya Shah"), tom_id}
    priya_message = told[await door.person_id("Priya Shah")]
    assert _aware(priya_message.row.next_attempt_at) == at(date(2026, 12, 24), 8)
    assert _aware(told[tom_id].row.next_attempt_at) == at(date(2026, 12, 24), 9, tz=NEW_YORK)
    assert "The agreement ends. This is due on Saturday 26 December 2026." in priya_message.text
    assert "Show the agreement" in priya_message.text
    # The clock jumped past the three-month warning: a sweep that runs after a date has
    # passed sends nothing for it. And nothing goes twice.
    assert len(await _reminded(door, "end_of_term_first")) == 2
    assert await _reminded(door, "end_of_term_second") == []
    await door.sweep()
    assert len(await _reminded(door, "end_of_term")) == 2
    async with door.services.db.session() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "agreement.key_date_reminded")
            )
        ).all()
    assert {e.details["key_date"] for e in events} >= {"end_of_term", "contract_details_notice"}


def working_day_on_or_before_due(reminder: Reminder) -> date:
    """The London day a reminder wakes on."""
    return _aware(reminder.due_at).astimezone(LONDON).date()


async def test_an_edit_moves_the_reminders_and_drops_the_ones_no_longer_due(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(ends_on=BOXING_DAY, break_1_on="2026-10-01"))
    before = await _pending(door)
    # 90 days' notice before Thursday 1 October 2026: Friday 3 July.
    assert _aware(before["break_notice:0"].due_at) == at(date(2026, 7, 3), 0)
    assert "end_of_term_first:0" in before

    # The end comes earlier (Monday 31 August 2026, a bank holiday), the break moves.
    await record(
        priya,
        answers(ends_on="2026-08-31", break_1_on="2026-08-01", break_1_notice_days="30"),
        f"agreements edit {agreement_id}",
    )
    after = await _pending(door)
    # The same rows, moved: the end to Friday 28 August (the working day before the bank
    # holiday), the break notice to Thursday 2 July.
    assert after["end_of_term:0"].id == before["end_of_term:0"].id
    assert _aware(after["end_of_term:0"].due_at) == at(date(2026, 8, 28), 0)
    assert _aware(after["break_notice:0"].due_at) == at(date(2026, 7, 2), 0)
    # Six months before 31 August is before the start: that warning is dropped.
    assert "end_of_term_first:0" not in after
    async with door.services.db.session() as session:
        gone = await session.get(Reminder, before["end_of_term_first:0"].id)
    assert gone is None

    # The old day passes quietly; the new one reminds.
    await _go_to(door, at(date(2026, 8, 28), 0, 1))
    assert len(await _reminded(door, "end_of_term")) == 2


async def test_a_date_already_past_is_not_scheduled(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    # Started on Monday 1 December 2025: its contract details notice was due in December.
    await record(priya, answers(starts_on="2025-12-01", break_1_on="2026-10-01"))
    pending = await _pending(door)
    assert "contract_details_notice:0" not in pending
    assert "end_of_term:0" in pending
    assert all(_aware(r.due_at) >= NOW for r in pending.values())


async def test_the_page_shows_key_dates_to_come_the_team_all_the_provider_its_own(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(ends_on=BOXING_DAY, break_1_on="2026-10-01"))
    team_page = text_of(await priya.say(f"agreements show {agreement_id}"))
    assert "Key dates coming up" in team_page
    assert "Saturday 26 December 2026" in team_page
    assert "Publish the contract details notice" in team_page

    tom = await door.sign_in("Tom Okafor")
    provider_page = text_of(await tom.say(f"agreements show {agreement_id}"))
    assert "Key dates coming up" in provider_page
    assert "Saturday 26 December 2026" in provider_page
    assert "contract details notice" not in provider_page
    assert "Assess the provider's performance" not in provider_page

    grace = await door.sign_in("Grace Lee")
    refused = text_of(await grace.say(f"agreements show {agreement_id}"))
    assert "Key dates" not in refused and "couldn't find that agreement" in refused
