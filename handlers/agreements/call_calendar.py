"""A calendar file (.ics) for a call agreed after a check-in, offered through the file desk.

The ticket names one person and one call and is signed, so a link passed on works only for
the person it was made for, and only while they are on the team or in the reporting
organisation. The file is made when it is fetched, from the call as it is then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, command_ref
from bot.core.turn import Door
from bot.settings import Settings
from handlers.calendar_files import CONTENT_TYPE, CalendarTicket, OfferWords, PersonalCalendars
from storage.agreement_tables import Agreement
from storage.conversation_tables import CallState, CheckinCall
from storage.models import Membership, Role
from storage.monitoring_tables import CheckinRow


def call_calendar(call: CheckinCall, agreement: Agreement, now: datetime) -> bytes:
    """One 30-minute event at the agreed time, with a reminder an hour before."""
    assert call.agreed_for is not None
    calendar = Calendar()
    calendar.add("prodid", "-//Convene//Check-in calls//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"checkin-call-{call.id}@convene")
    event.add("dtstamp", now)
    event.add("dtstart", call.agreed_for)
    event.add("dtend", call.agreed_for + timedelta(minutes=30))
    event.add("summary", f"Call about the check-in: {agreement.title}")
    event.add("description", "A call between the council's team and the provider.")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Call about {agreement.title} in an hour")
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def call_offer(settings: Settings, door: Door, person_id: int, call: CheckinCall) -> FileOffer:
    return CallCalendars.offer(
        settings,
        door,
        CalendarTicket(person_id, call.id),
        OfferWords(
            name=f"Check-in call {call.id}.ics",
            title="The call, for your calendar",
            text="Open this file to add the call to your calendar, with a reminder an hour before.",
        ),
    )


async def may_join(session: Any, person_id: int, call: CheckinCall) -> Agreement | None:
    """The call's agreement, when this person is on its team or in the reporting
    organisation; None otherwise."""
    checkin = await session.get(CheckinRow, call.checkin_id)
    agreement = await session.get(Agreement, checkin.agreement_id) if checkin else None
    if checkin is None or agreement is None:
        return None
    found = await session.scalar(
        select(Membership.id)
        .where(
            Membership.person_id == person_id,
            (
                (Membership.organisation_id == checkin.organisation_id)
                & Membership.role.in_((Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER))
            )
            | (
                (Membership.authority_id == agreement.authority_id)
                & (Membership.role == Role.COMMISSIONER)
            ),
        )
        .limit(1)
    )
    return agreement if found is not None else None


class CallCalendars(PersonalCalendars):
    """Check-in call calendar files, for the team and the reporting organisation."""

    salt = "convene.checkin-call-calendar"
    subject_key = "c"
    expired = (
        "Calendar links work for one day.",
        f"Ask for the file again: {command_ref('agreements', 'your agreements')}, then open the call.",
    )
    too_late = "That calendar file took too long to send. Ask for it again."

    async def make(
        self, session: AsyncSession, services: Any, ticket: CalendarTicket
    ) -> TakenFile | FileRefused:
        call = await session.get(CheckinCall, ticket.subject_id)
        agreement = await may_join(session, ticket.person_id, call) if call else None
        if call is None or agreement is None or call.state != CallState.AGREED:
            return FileRefused("There is no agreed call for you here.")
        data = call_calendar(call, agreement, services.clock.now())
        return TakenFile(f"checkin-call-{call.id}.ics", CONTENT_TYPE, data, 1)
