"""A briefing event for providers: shown in the full details in full, in the calendar file
beside the deadline, and never after the deadline or in the past."""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import func, select

from bot.core.files import TakenFile
from storage.opportunity_tables import Opportunity
from tests.features.opportunity_story import NOW, pages, post, refusals, state_of
from tests.support.inprocess import TestDoor, text_of

#: The story is published on Monday 12 January 2026; bids close on Friday 6 March.
BRIEFING = {"briefing_at": "4/2/2026 2pm", "briefing_where": "Riverside Library, Hall 2"}
BRIEFING_WORDS = "Wednesday 4 February 2026, 2pm, Riverside Library, Hall 2"


async def test_the_briefing_is_in_the_details_and_the_calendar_file(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, **BRIEFING)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    tom = await door.sign_in("Tom Okafor")
    details = text_of(await tom.say(f"opportunities show {opportunity_id}"))
    assert "Briefing for providers" in details and BRIEFING_WORDS in details
    await tom.say(f"opportunities calendar {opportunity_id}")
    taken = await tom.take_file()
    assert isinstance(taken, TakenFile)
    events = {
        str(e.get("summary")).split(":")[0]: e
        for e in Calendar.from_ical(taken.data).walk("VEVENT")
    }
    assert set(events) == {"Deadline for bids", "Briefing for providers"}
    briefing = events["Briefing for providers"]
    assert briefing.decoded("dtstart") == door.now().replace(
        year=2026, month=2, day=4, hour=14, minute=0
    )
    assert str(briefing.get("location")) == "Riverside Library, Hall 2"


async def test_a_briefing_after_the_deadline_is_refused_on_the_form(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await priya.fill("opportunities new", pages(briefing_at="9/3/2026 2pm"))
    assert "The briefing must be before the deadline for bids" in priya.text()
    assert "Preview" not in priya.text()
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Opportunity)) == 0


async def test_a_briefing_that_has_passed_stops_publishing(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, **BRIEFING)
    door.advance(NOW.replace(month=2, day=5) - NOW)  # the day after the briefing
    before = await state_of(door.services)
    answer = text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    assert "The briefing for providers has passed" in answer and "Nothing was sent" in answer
    assert await state_of(door.services) == before
    assert len(await refusals(door.services, priya.person_id)) == 1
