"""A calendar file (.ics) for a call agreed after a check-in, offered through the file desk.

The ticket names one person and one call and is signed, so a link passed on works only for
the person it was made for, and only while they are on the team or in the reporting
organisation. The file is made when it is fetched, from the call as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from bot.core.files import FileRefused, TakenFile, TicketExpired, TicketInvalid
from bot.core.reply import FileOffer
from bot.core.turn import Door
from bot.settings import Settings
from storage.agreement_tables import Agreement
from storage.conversation_tables import CallState, CheckinCall
from storage.models import Membership, Role
from storage.monitoring_tables import CheckinRow

SALT = "convene.checkin-call-calendar"
LINK_SECONDS = 24 * 60 * 60
CONTENT_TYPE = "text/calendar; charset=utf-8"
EXPIRED = [
    "Calendar links work for one day.",
    "Ask for the file again: type agreements calendar and the call's number.",
]
TOO_LATE = "That calendar file took too long to send. Ask for it again."


@dataclass(frozen=True)
class CallTicket:
    person_id: int
    call_id: int


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=SALT)


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
    token = str(_serializer(settings).dumps({"p": person_id, "c": call.id}))
    path = f"/downloads/{token}"
    return FileOffer(
        name=f"Check-in call {call.id}.ics",
        content_type=CONTENT_TYPE,
        ticket=token,
        url=path if door == Door.WEB else f"{settings.base_url}{path}",
        title="The call, for your calendar",
        text="Open this file to add the call to your calendar, with a reminder an hour before.",
        label="Add to calendar (.ics)",
        who_sees="Only you get this file.",
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


class CallCalendars:
    """Check-in call calendar files as a file source at the app's `FileDesk`."""

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
            return CallTicket(person_id=int(data["p"]), call_id=int(data["c"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TicketInvalid("not a call calendar ticket") from exc

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
        assert isinstance(ticket, CallTicket)
        if ticket.person_id != person_id:
            return FileRefused("This calendar link was made for someone else.")
        async with services.db.session() as session:
            call = await session.get(CheckinCall, ticket.call_id)
            agreement = await may_join(session, person_id, call) if call else None
            if call is None or agreement is None or call.state != CallState.AGREED:
                return FileRefused("There is no agreed call for you here.")
            data = call_calendar(call, agreement, services.clock.now())
        return TakenFile(f"checkin-call-{call.id}.ics", CONTENT_TYPE, data, 1)

    async def handed_over(
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        """Nothing to note: the file holds only the time both sides were already told."""
