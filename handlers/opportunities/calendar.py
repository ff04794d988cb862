"""A calendar file (.ics) for an opportunity's deadline, offered through the file desk.

The ticket names one person and one opportunity and is signed, so a link passed on works
only for what it was made for; the file is made when it is fetched, from the opportunity
as it is then, so a changed deadline is never stale in a new download.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, command_ref
from bot.core.turn import Door
from bot.settings import Settings
from handlers.calendar_files import CONTENT_TYPE, CalendarTicket, OfferWords, PersonalCalendars
from storage.models import Authority
from storage.opportunity_tables import Opportunity, OpportunityState


def deadline_calendar(opportunity: Opportunity, council: str, now: datetime) -> bytes:
    """One event at the deadline for bids, with a reminder a week before; and the
    briefing for providers, when there is one, with a reminder the day before."""
    assert opportunity.submission_deadline is not None
    calendar = Calendar()
    calendar.add("prodid", "-//Convene//Opportunities//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"opportunity-{opportunity.id}-deadline@convene")
    event.add("dtstamp", now)
    event.add("dtstart", opportunity.submission_deadline)
    event.add("dtend", opportunity.submission_deadline + timedelta(minutes=30))
    event.add("summary", f"Deadline for bids: {opportunity.title} ({council})")
    event.add("description", f"Bids for {opportunity.title} close now. Send yours before this.")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"One week until the deadline for {opportunity.title}")
    alarm.add("trigger", timedelta(days=-7))
    event.add_component(alarm)
    calendar.add_component(event)
    if opportunity.briefing_at is not None:
        calendar.add_component(_briefing(opportunity, council, now, opportunity.briefing_at))
    return bytes(calendar.to_ical())


def _briefing(opportunity: Opportunity, council: str, now: datetime, at: datetime) -> Event:
    event = Event()
    event.add("uid", f"opportunity-{opportunity.id}-briefing@convene")
    event.add("dtstamp", now)
    event.add("dtstart", at)
    event.add("dtend", at + timedelta(hours=1))
    event.add("summary", f"Briefing for providers: {opportunity.title} ({council})")
    if opportunity.briefing_where:
        event.add("location", opportunity.briefing_where)
    event.add("description", f"{council} explains {opportunity.title} and answers questions.")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"The briefing for {opportunity.title} is tomorrow")
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    return event


def calendar_offer(
    settings: Settings, door: Door, person_id: int, opportunity: Opportunity
) -> FileOffer:
    return DeadlineCalendars.offer(
        settings,
        door,
        CalendarTicket(person_id, opportunity.id),
        OfferWords(
            name=f"Deadline for {opportunity.title}.ics",
            title="The deadline, for your calendar",
            text="Open this file to add the deadline for bids to your calendar, with a reminder "
            "a week before. If the deadline changes we will tell you; download it again then.",
        ),
    )


class DeadlineCalendars(PersonalCalendars):
    """Deadline calendar files: what every provider told of the opportunity already has."""

    salt = "convene.opportunity-calendar"
    subject_key = "o"
    expired = (
        "Calendar links work for one day.",
        f"Ask for the file again: {command_ref('opportunities', 'the opportunities')}, then open the opportunity.",
    )
    too_late = "That calendar file took too long to send. Ask for it again from the opportunity."

    async def make(
        self, session: AsyncSession, services: Any, ticket: CalendarTicket
    ) -> TakenFile | FileRefused:
        opportunity = await session.get(Opportunity, ticket.subject_id)
        if (
            opportunity is None
            or opportunity.state != OpportunityState.OPEN
            or opportunity.submission_deadline is None
        ):
            return FileRefused("This opportunity is not open now, so there is no deadline.")
        authority = await session.get(Authority, opportunity.authority_id)
        data = deadline_calendar(
            opportunity, authority.name if authority else "the council", services.clock.now()
        )
        return TakenFile(f"opportunity-{opportunity.id}-deadline.ics", CONTENT_TYPE, data, 1)
