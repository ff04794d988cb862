"""A calendar file (.ics) for an opportunity's deadline, offered through the file desk.

The ticket names one person and one opportunity and is signed, so a link passed on works
only for what it was made for; the file is made when it is fetched, from the opportunity
as it is then, so a changed deadline is never stale in a new download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.core.files import FileRefused, TakenFile, TicketExpired, TicketInvalid
from bot.core.reply import FileOffer
from bot.core.turn import Door
from bot.settings import Settings
from storage.models import Authority
from storage.opportunity_tables import Opportunity, OpportunityState

SALT = "convene.opportunity-calendar"
LINK_SECONDS = 24 * 60 * 60
CONTENT_TYPE = "text/calendar; charset=utf-8"
EXPIRED = [
    "Calendar links work for one day.",
    "Ask for the file again: type opportunities, then open the opportunity.",
]
TOO_LATE = "That calendar file took too long to send. Ask for it again from the opportunity."


@dataclass(frozen=True)
class CalendarTicket:
    person_id: int
    opportunity_id: int


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=SALT)


def sign(settings: Settings, ticket: CalendarTicket) -> str:
    return str(_serializer(settings).dumps({"p": ticket.person_id, "o": ticket.opportunity_id}))


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
    token = sign(settings, CalendarTicket(person_id, opportunity.id))
    path = f"/downloads/{token}"
    return FileOffer(
        name=f"Deadline for {opportunity.title}.ics",
        content_type=CONTENT_TYPE,
        ticket=token,
        url=path if door == Door.WEB else f"{settings.base_url}{path}",
        title="The deadline, for your calendar",
        text="Open this file to add the deadline for bids to your calendar, with a reminder "
        "a week before. If the deadline changes we will tell you; download it again then.",
        label="Add to calendar (.ics)",
        who_sees="Only you get this file.",
    )


class DeadlineCalendars:
    """Deadline calendar files as a file source at the app's `FileDesk`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def read(self, token: str) -> object:
        if not token or len(token) > 500:
            raise TicketInvalid("no ticket")
        try:
            data = _serializer(self._settings).loads(token, max_age=LINK_SECONDS)
        except SignatureExpired as exc:
            raise TicketExpired(EXPIRED, TOO_LATE) from exc
        except BadSignature as exc:
            raise TicketInvalid("bad signature") from exc
        try:
            return CalendarTicket(person_id=int(data["p"]), opportunity_id=int(data["o"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TicketInvalid("not a calendar ticket") from exc

    async def take(
        self,
        services: Any,
        ticket: object,
        *,
        person_id: int,
        door: str,
        via: str,
        record: bool = True,
    ) -> TakenFile | FileRefused:
        assert isinstance(ticket, CalendarTicket)
        if ticket.person_id != person_id:
            return FileRefused("This calendar link was made for someone else.")
        async with services.db.session() as session:
            opportunity = await session.get(Opportunity, ticket.opportunity_id)
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

    async def handed_over(
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        """Nothing to note: a calendar file holds only what every told provider already has."""
