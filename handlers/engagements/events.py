"""Events: workshops, drop-ins and webinars, with places, a waiting list, reminders the day
before and an hour before, and attendance recorded by the commissioning team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, Section
from bot.core.turn import Turn
from bot.core.words import counted
from bot.services import Services
from handlers.engagements.clarifications import publish_to_participants
from handlers.engagements.common import (
    Refused,
    TeamForm,
    as_id,
    is_open,
    load_for_team,
    load_locked,
    number_at,
    refusal_replies,
    refuse,
    submitted_engagement,
)
from handlers.forms import Subject, form_step
from handlers.membership import HOW_TO_JOIN
from storage import audit
from storage.engagement_tables import (
    BookingState,
    Engagement,
    EngagementEvent,
    EngagementState,
    EventBooking,
)
from storage.engagements import add_participants, places_taken
from storage.models import FormResponse, Person, Reminder
from storage.outbox import send_to_people
from storage.reminders import schedule_reminder
from storage.visibility import Refusal

DAY_BEFORE_KIND = "event.day_before"
HOUR_BEFORE_KIND = "event.hour_before"


class AddEvent(TeamForm):
    form_key = "engagement_event"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self.own_engagement(
            session,
            turn,
            number_at(turn, 1),
            "add event",
            "Only the commissioning team of the council running it can add events.",
        )
        if isinstance(engagement, Refusal):
            return engagement
        if engagement.state == EngagementState.CLOSED:
            return Refusal("This engagement has closed, so no more events can be added.")
        return Subject(None, engagement.authority_id, engagement_id=engagement.id, topic="event")

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        engagement = await submitted_engagement(session, response)
        answers = response.answers
        now = services.clock.now()
        event = EngagementEvent(
            engagement_id=engagement.id,
            kind=answers["kind"],
            title=answers["title"],
            starts_at=datetime.fromisoformat(answers["starts_at"]),
            place=answers.get("place"),
            link=answers.get("link"),
            capacity=answers.get("capacity"),
            created_at=now,
        )
        session.add(event)
        await session.flush()
        await schedule_event_reminders(session, event, now)
        await audit.record_turn(
            session,
            turn,
            "event.added",
            object_type="event",
            object_id=event.id,
            authority_id=engagement.authority_id,
            engagement_id=engagement.id,
        )
        told = ""
        if is_open(engagement, now):
            message = Message(
                title=f"New event for {engagement.title}: {event.title}",
                text=_event_text(event, turn),
                buttons=[
                    Button(label="Book a place", action="cmd.engagements", value=f"rsvp {event.id}")
                ],
            )
            count = await publish_to_participants(
                session, engagement, message, f"engagement:{engagement.id}:event:{event.id}", now
            )
            told = f" We sent it to {counted(count, 'person', 'people')} invited or taking part."
        return [
            Notice(
                text=f"Added {event.title} on {format_when(event.starts_at, turn.actor.timezone)}."
                f"{told} Providers can book from the invitation.",
                level="success",
                buttons=[
                    Button(label="See it", action="cmd.engagements", value=f"show {engagement.id}")
                ],
            )
        ]


def _event_text(event: EngagementEvent, turn: Turn) -> str:
    assert turn.actor is not None
    where = event.place or event.link or "Details to follow"
    places = f" {event.capacity} places." if event.capacity else ""
    return f"{format_when(event.starts_at, turn.actor.timezone)}. {where}.{places}"


async def schedule_event_reminders(
    session: AsyncSession, event: EngagementEvent, now: datetime
) -> None:
    for kind, before in (
        (DAY_BEFORE_KIND, timedelta(days=1)),
        (HOUR_BEFORE_KIND, timedelta(hours=1)),
    ):
        if event.starts_at - before > now:
            await schedule_reminder(
                session,
                kind=kind,
                due_at=event.starts_at - before,
                target_type="event",
                target_id=event.id,
            )


EVENT = AddEvent()


add_event = form_step(EVENT)


async def rsvp(turn: Turn, services: Services, event_id: int | None) -> list[Reply]:
    """Book a place, or a place on the waiting list when the event is full."""
    async with services.db.session() as session:
        try:
            booking = await book_place(session, turn, event_id, services.clock.now())
        except Refused as refusal:
            return refusal_replies(refusal)
    return booking_replies(booking, turn)


@dataclass(frozen=True)
class Booking:
    """A person's place at an event, as `book_place` left it."""

    event: EngagementEvent
    #: BOOKED (a place) or WAITING (on the waiting list).
    state: BookingState
    #: For a new place on the waiting list: its number in the queue.
    position: int | None = None
    #: The person already had this, so nothing changed.
    already: bool = False


class NotAMember(Refused):
    """Places are booked for an organisation, so only its members can book."""


class BookingsClosed(Refused):
    """The engagement has closed, or the event has started (the attempt is on the record)."""


async def book_place(
    session: AsyncSession, turn: Turn, event_id: int | None, now: datetime
) -> Booking:
    """Book the person a place for their organisation, or a place on the waiting list when
    the event is full; the organisation is taking part from now on. The event is locked, so
    two people can't both get its last place. Raises `NotAMember` or `BookingsClosed`."""
    assert turn.actor is not None
    organisations = sorted(turn.actor.member_of())
    event = await load_locked(session, EngagementEvent, event_id)
    engagement = await session.get(Engagement, event.engagement_id) if event else None
    if not organisations:
        raise NotAMember(HOW_TO_JOIN)
    if event is None or engagement is None or not is_open(engagement, now):
        message = "Bookings for this event are closed."
        await refuse(session, turn, engagement, "rsvp", message)
        raise BookingsClosed(message)
    if event.starts_at <= now:
        message = "This event has already started."
        await refuse(session, turn, engagement, "rsvp", message)
        raise BookingsClosed(message)
    existing = await session.scalar(
        select(EventBooking).where(
            EventBooking.event_id == event.id, EventBooking.person_id == turn.actor.person_id
        )
    )
    if existing is not None and existing.state != BookingState.CANCELLED:
        return Booking(event, BookingState(existing.state), already=True)
    full = event.capacity is not None and await places_taken(session, event.id) >= event.capacity
    state = BookingState.WAITING if full else BookingState.BOOKED
    if existing is None:
        existing = EventBooking(
            event_id=event.id,
            person_id=turn.actor.person_id,
            organisation_id=organisations[0],
            created_at=now,
            state=state,
        )
        session.add(existing)
    else:
        existing.state = state
        existing.created_at = now
    await add_participants(session, engagement.id, organisations[:1], joined_at=now)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "event.waitlisted" if full else "event.booked",
        object_type="event",
        object_id=event.id,
        authority_id=engagement.authority_id,
        organisation_id=organisations[0],
    )
    if not full:
        return Booking(event, state)
    position = await session.scalar(
        select(func.count()).where(
            EventBooking.event_id == event.id,
            EventBooking.state == BookingState.WAITING,
            EventBooking.created_at <= now,
        )
    )
    return Booking(event, state, position=position)


def booking_replies(booking: Booking, turn: Turn) -> list[Reply]:
    """The booking's view: the place (with when and where), or the waiting-list number, or
    that they had it already; always with the way to give it up."""
    event = booking.event
    if booking.already:
        where = "a place" if booking.state == BookingState.BOOKED else "a place on the waiting list"
        return [
            Notice(
                text=f"You already have {where} at {event.title}.",
                buttons=[_cancel_button(event)],
            )
        ]
    if booking.state == BookingState.WAITING:
        return [
            Notice(
                text=f"{event.title} is full, so we put you on the waiting list "
                f"(number {booking.position}). If a place comes up, it is yours and we will "
                "tell you.",
                level="warning",
                buttons=[_cancel_button(event, "Leave the waiting list")],
            )
        ]
    return [
        Notice(
            text=f"You have a place at {event.title}, {_event_text(event, turn)} We will remind "
            "you the day before and an hour before.",
            level="success",
            buttons=[_cancel_button(event)],
        )
    ]


def _cancel_button(event: EngagementEvent, label: str = "Cancel my place") -> Button:
    return Button(label=label, action="cmd.engagements", value=f"cancel {event.id}")


async def cancel(turn: Turn, services: Services, event_id: int | None) -> list[Reply]:
    """Give up a place (the first person waiting gets it) or leave the waiting list."""
    assert turn.actor is not None
    now = services.clock.now()
    async with services.db.session() as session:
        event = await load_locked(session, EngagementEvent, event_id)
        booking = (
            await session.scalar(
                select(EventBooking).where(
                    EventBooking.event_id == event.id,
                    EventBooking.person_id == turn.actor.person_id,
                    EventBooking.state != BookingState.CANCELLED,
                )
            )
            if event
            else None
        )
        if event is None or booking is None:
            return [Notice(text="You don't have a place at that event, so nothing changed.")]
        had_place = booking.state == BookingState.BOOKED
        booking.state = BookingState.CANCELLED
        await audit.record_turn(
            session, turn, "event.cancelled", object_type="event", object_id=event.id
        )
        if had_place:
            await _promote(session, event, now)
    return [Notice(text=f"Done. You no longer have a place at {event.title}.", level="success")]


async def _promote(session: AsyncSession, event: EngagementEvent, now: datetime) -> None:
    """Give a freed place to whoever has waited longest, and tell them."""
    await session.flush()
    if event.capacity is not None and await places_taken(session, event.id) >= event.capacity:
        return
    waiting = await session.scalar(
        select(EventBooking)
        .where(EventBooking.event_id == event.id, EventBooking.state == BookingState.WAITING)
        .order_by(EventBooking.created_at, EventBooking.id)
        .limit(1)
    )
    if waiting is None:
        return
    waiting.state = BookingState.BOOKED
    await audit.record(
        session,
        "event.promoted",
        actor_id=None,
        object_type="event",
        object_id=event.id,
        organisation_id=waiting.organisation_id,
        at=now,
    )
    message = Message(
        title=f"A place came up: you are going to {event.title}",
        text=f"It starts {format_when(event.starts_at)}. {event.place or event.link or ''}".strip(),
        buttons=[_cancel_button(event)],
    )
    await send_to_people(
        session,
        [waiting.person_id],
        ReplyList(replies=[message]).model_dump(mode="json"),
        f"event:{event.id}:promoted:{waiting.id}:{{person_id}}",
        not_before=now,
    )


async def attendance(turn: Turn, services: Services, event_id: int | None) -> list[Reply]:
    """The team's list of bookings, with buttons to record who came."""
    assert turn.actor is not None
    async with services.db.session() as session:
        event = await session.get(EngagementEvent, event_id) if event_id else None
        try:
            await load_for_team(
                session,
                turn,
                event.engagement_id if event else None,
                "attendance",
                "Only the council running it can see this.",
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        assert event is not None
        rows = (
            await session.execute(
                select(EventBooking, Person.name)
                .join(Person, Person.id == EventBooking.person_id)
                .where(
                    EventBooking.event_id == event.id, EventBooking.state != BookingState.CANCELLED
                )
                .order_by(EventBooking.state, EventBooking.created_at)
            )
        ).all()
    sections = [
        Section(
            heading=name,
            text=("On the waiting list" if booking.state == BookingState.WAITING else "Booked")
            + {True: ". Came.", False: ". Did not come.", None: "."}[booking.attended],
            buttons=[
                Button(label="Came", action="engagement.attended", value=f"{booking.id}:yes"),
                Button(
                    label="Did not come", action="engagement.attended", value=f"{booking.id}:no"
                ),
            ]
            if booking.state == BookingState.BOOKED
            else [],
        )
        for booking, name in rows
    ]
    return [
        Message(
            title=f"Who is coming to {event.title}",
            text=None if rows else "Nobody has booked yet.",
            sections=sections[:40],
        )
    ]


async def record_attendance(turn: Turn, services: Services) -> list[Reply]:
    """Button `engagement.attended` with value `<booking id>:yes|no`."""
    assert turn.actor is not None and turn.action is not None
    booking_id, _, came = turn.action.value.partition(":")
    async with services.db.session() as session:
        number = as_id(booking_id)
        booking = await session.get(EventBooking, number) if number else None
        event = await session.get(EngagementEvent, booking.event_id) if booking else None
        try:
            engagement = await load_for_team(
                session,
                turn,
                event.engagement_id if event else None,
                "attendance",
                "Only the council running it can record this.",
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        assert booking is not None
        booking.attended = came == "yes"
        await audit.record_turn(
            session,
            turn,
            "event.attendance",
            object_type="event",
            object_id=booking.event_id,
            authority_id=engagement.authority_id,
            organisation_id=booking.organisation_id,
            attended=booking.attended,
        )
    return [Notice(text="Saved.", level="success")]


async def remind_attendees(reminder: Reminder, services: Services) -> None:
    """The day before and an hour before: remind everyone with a place."""
    async with services.db.session() as session:
        event = await session.get(EngagementEvent, int(reminder.target_id))
        if event is None:
            return
        when = "tomorrow" if reminder.kind == DAY_BEFORE_KIND else "in an hour"
        message = Message(
            title=f"Reminder: {event.title} starts {when}",
            text=f"{format_when(event.starts_at)}. {event.place or event.link or ''}".strip(),
            buttons=[_cancel_button(event, "I can't come now")],
        )
        people = select(EventBooking.person_id).where(
            EventBooking.event_id == event.id, EventBooking.state == BookingState.BOOKED
        )
        await send_to_people(
            session,
            people,
            ReplyList(replies=[message]).model_dump(mode="json"),
            f"reminder:{reminder.id}:{{person_id}}",
        )
