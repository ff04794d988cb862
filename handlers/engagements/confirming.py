"""What each engagement step that changes things asks first, in words that say what will
happen and who is told. Declared on the steps (`SubCommand.confirm`); every door asks the
same. A row the person may not see is not named: the plain words are asked instead, and
the step itself refuses when it runs."""

from __future__ import annotations

from bot.clock import format_when
from bot.core.feature import Confirmation
from bot.core.turn import Turn
from bot.services import Services
from handlers.steps import nameable, organisations_told
from storage.engagement_tables import Engagement, EngagementEvent, EngagementState
from storage.engagements import matching_organisations


async def _visible(services: Services, turn: Turn, engagement_id: int) -> Engagement | None:
    async with services.db.session() as session:
        found: Engagement | None = await nameable(session, Engagement, engagement_id, turn.actor)
        return found


async def publish(turn: Turn, services: Services, engagement_id: int) -> Confirmation | None:
    engagement = await _visible(services, turn, engagement_id)
    if engagement is None:
        return None
    async with services.db.session() as session:
        whom = await organisations_told(session, matching_organisations(engagement))
    return Confirmation(
        title="Publish this engagement?",
        question=f"Publish '{engagement.title}' to {whom} now?",
        consequence="They will all be told at the same moment. After that the questions "
        "stay the same for everyone.",
        yes_label="Yes, publish it",
    )


async def close(turn: Turn, services: Services, engagement_id: int) -> Confirmation | None:
    engagement = await _visible(services, turn, engagement_id)
    if engagement is None:
        return None
    return Confirmation(
        title="Close this engagement early?",
        question=f"Close '{engagement.title}' now, before its closing date?",
        consequence="Nobody can send or change answers after this. Everyone who took part "
        "is thanked, and you get the summary.",
        yes_label="Yes, close it now",
    )


async def join(turn: Turn, services: Services, engagement_id: int) -> Confirmation | None:
    engagement = await _visible(services, turn, engagement_id)
    if engagement is None:
        return None
    return Confirmation(
        title="Take part in this engagement?",
        question=f"Take part in '{engagement.title}' for your organisation?",
        consequence="The council's team will see that you joined, and you will hear every "
        "answer they give to questions.",
        yes_label="Yes, take part",
    )


async def _event(services: Services, event_id: int) -> EngagementEvent | None:
    async with services.db.session() as session:
        event = await session.get(EngagementEvent, event_id)
        if event is None:
            return None
        engagement = await session.get(Engagement, event.engagement_id)
        if engagement is None or engagement.state == EngagementState.DRAFT:
            return None
        return event


async def rsvp(turn: Turn, services: Services, event_id: int) -> Confirmation | None:
    event = await _event(services, event_id)
    if event is None or turn.actor is None:
        return None
    return Confirmation(
        title="Book a place?",
        question=f"Book a place at {event.title} on "
        f"{format_when(event.starts_at, turn.actor.timezone)}?",
        consequence="The council's team will see your name on the list. If it is full, "
        "you go on the waiting list and we tell you if a place comes free.",
        yes_label="Yes, book a place",
    )


async def cancel(turn: Turn, services: Services, event_id: int) -> Confirmation | None:
    event = await _event(services, event_id)
    if event is None or turn.actor is None:
        return None
    return Confirmation(
        title="Cancel your place?",
        question=f"Cancel your place at {event.title} on "
        f"{format_when(event.starts_at, turn.actor.timezone)}?",
        consequence="The first person on the waiting list gets your place, and the "
        "council's team will see you are not coming.",
        yes_label="Yes, cancel my place",
    )


PICK = Confirmation(
    title="Choose this time?",
    question="Choose this time to meet the council's team?",
    consequence="Both of you are told the time, and the other times offered are freed.",
    yes_label="Yes, choose it",
)
