"""Finding engagements, joining one, and answering its questions (in a form or in chat).

Answers belong to the provider's organisation and the authority running the engagement:
the visibility policy lets only the organisation's members and that commissioning team
read them. A provider can change its answers until the engagement closes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_day, format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers.clarifications import log_section
from handlers.engagements.common import (
    ProviderForm,
    closes_text,
    is_open,
    number_at,
    refuse,
    runs_it,
)
from handlers.engagements.setup import invitation_message
from handlers.forms import Subject, form_step
from handlers.membership import HOW_TO_JOIN
from storage import audit, clarifications
from storage.clarification_tables import About
from storage.engagement_tables import (
    BookingState,
    Engagement,
    EngagementEvent,
    EngagementState,
    EventBooking,
)
from storage.engagements import (
    add_participants,
    booking_counts,
    engagements_of,
    events_of,
    open_engagements,
    taking_part_in,
    waiting_questions,
)
from storage.forms import latest_submission
from storage.models import FormResponse
from storage.visibility import Refusal, can_see_original_question


async def list_engagements(turn: Turn, services: Services) -> list[Reply]:
    """Commissioners see their council's engagements; providers see every open one, with
    the ones they take part in marked."""
    assert turn.actor is not None
    actor = turn.actor
    replies: list[Reply] = []
    async with services.db.session() as session:
        if actor.is_commissioner:
            mine = await engagements_of(session, actor.commissioner_for())
            sections = [
                Section(
                    heading=e.title,
                    text=f"{_state_words(e)}. Closes {closes_text(e, actor.timezone)}.",
                    buttons=[Button(label="Open", action="cmd.engagements", value=f"show {e.id}")],
                )
                for e in mine[:20]
            ]
            replies.append(
                Message(
                    title="Your council's engagements",
                    text=None if mine else "You have not set one up yet.",
                    sections=sections,
                    buttons=[
                        Button(
                            label="Set up an engagement",
                            action="cmd.engagements",
                            value="new",
                            style="primary",
                        )
                    ],
                )
            )
        if actor.member_of() or not actor.is_commissioner:
            engagements = await open_engagements(session)
            joined = await taking_part_in(session, actor.member_of())
            sections = [
                Section(
                    heading=e.title,
                    text=("You are taking part. " if e.id in joined else "")
                    + f"Closes {closes_text(e, actor.timezone)}.",
                    buttons=[
                        Button(label="See details", action="cmd.engagements", value=f"show {e.id}")
                    ],
                )
                for e in engagements[:20]
            ]
            replies.append(
                Message(
                    title="Open engagements",
                    text="Councils want to hear from local organisations before they design "
                    "services. Any organisation can take part."
                    if engagements
                    else "There are no open engagements right now. We will tell you when "
                    "there is one that fits your work.",
                    sections=sections,
                )
            )
    return replies


def _state_words(engagement: Engagement) -> str:
    return {
        EngagementState.DRAFT: "Draft, not sent yet",
        EngagementState.OPEN: "Open",
        EngagementState.CLOSED: "Closed",
    }.get(EngagementState(engagement.state), engagement.state)


async def show_engagement(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """One engagement: the invitation, the Q&A log, events with places left, and what the
    person can do next. Drafts are for their own commissioning team only."""
    assert turn.actor is not None
    actor = turn.actor
    async with services.db.session() as session:
        engagement = await session.get(Engagement, engagement_id) if engagement_id else None
        team = engagement is not None and runs_it(actor, engagement)
        if engagement is None or (engagement.state == EngagementState.DRAFT and not team):
            return [
                Notice(
                    text="We couldn't find that engagement. See the open ones: "
                    f"{command_ref('engagements', 'the open engagements')}.",
                    level="warning",
                )
            ]
        if engagement.state == EngagementState.DRAFT:
            from handlers.engagements.setup import draft_view

            return await draft_view(session, turn, services, engagement)
        invitation = await invitation_message(session, engagement, services)
        sections = list(invitation.sections)
        events = await events_of(session, engagement.id)
        counts = await booking_counts(session, [e.id for e in events])
        for section, event in zip(sections[-len(events) :] if events else [], events, strict=True):
            booked = counts[event.id].get("booked", 0)
            if event.capacity:
                left = max(0, event.capacity - booked)
                section.text = f"{section.text} {left} of {event.capacity} places left."
            if team:
                section.buttons = [
                    Button(
                        label="Attendance", action="cmd.engagements", value=f"attendance {event.id}"
                    )
                ]
        about = About("engagement", engagement.id)
        log = await clarifications.published(session, about, private_for=actor.member_of())
        if team:
            log = sorted(
                [*log, *await clarifications.answered_privately(session, about)],
                key=lambda c: (c.published_at, c.id),
            )
        sections += log_section(log, can_see_original_question(actor, engagement))
        buttons = list(invitation.buttons)
        if team:
            waiting = await waiting_questions(session, engagement.id)
            buttons = _team_buttons(engagement, len(waiting))
        elif not is_open(engagement, services.clock.now()):
            buttons = []
            taking_part = await taking_part_in(session, actor.member_of())
            if engagement.state == EngagementState.CLOSED and engagement.id in taking_part:
                buttons.append(
                    Button(
                        label="Give feedback (anonymous)",
                        action="cmd.engagements",
                        value=f"feedback {engagement.id}",
                    )
                )
        if engagement.you_said_we_did:
            sections.append(Section(heading="You said, we did", text=engagement.you_said_we_did))
        if not team and actor.member_of():
            sections[:0] = await where_you_are(session, actor, engagement, events, services)
    status = "Open" if engagement.state == EngagementState.OPEN else "Closed"
    return [
        Message(
            title=engagement.title,
            text=f"{status}. Closes {closes_text(engagement, actor.timezone)}."
            if engagement.state == EngagementState.OPEN
            else f"{status}.",
            sections=sections,
            buttons=buttons,
            who_sees=invitation.who_sees,
        )
    ]


async def where_you_are(
    session: AsyncSession,
    actor: Actor,
    engagement: Engagement,
    events: list[EngagementEvent],
    services: Services,
) -> list[Section]:
    """What the provider has done here already, shown first where they look: answers sent
    (and until when they can change them), and their places at events, each with what
    they can do about it."""
    now = services.clock.now()
    tz = actor.timezone
    sections: list[Section] = []
    sent = None
    for organisation_id in sorted(actor.member_of()):
        sent = await latest_submission(
            session,
            form_key=f"engagement-{engagement.id}",
            organisation_id=organisation_id,
            authority_id=engagement.authority_id,
        )
        if sent is not None:
            break
    if sent is not None and sent.submitted_at is not None:
        text = f"You sent your answers on {format_day(sent.submitted_at, tz)}"
        buttons = []
        if is_open(engagement, now):
            text += f"; you can change them until {closes_text(engagement, tz)}."
            buttons = [
                Button(
                    label="Change your answers",
                    action="cmd.engagements",
                    value=f"answer {engagement.id}",
                )
            ]
        else:
            text += ". It has closed, so they can't be changed now."
        sections.append(Section(heading="Your answers", text=text, buttons=buttons))
    if events:
        booked = {
            b.event_id: b
            for b in await session.scalars(
                select(EventBooking).where(
                    EventBooking.event_id.in_([e.id for e in events]),
                    EventBooking.person_id == actor.person_id,
                    EventBooking.state.in_((BookingState.BOOKED, BookingState.WAITING)),
                )
            )
        }
        for event in events:
            booking = booked.get(event.id)
            if booking is None:
                continue
            where = f"{event.title} on {format_when(event.starts_at, tz)}"
            text = (
                f"You have a place at {where}."
                if booking.state == BookingState.BOOKED
                else f"You are on the waiting list for {where}. We will tell you if a "
                "place comes free."
            )
            label = (
                "Cancel your place"
                if booking.state == BookingState.BOOKED
                else "Leave the waiting list"
            )
            sections.append(
                Section(
                    heading="Your place",
                    text=text,
                    buttons=[
                        Button(
                            label=label,
                            action="cmd.engagements",
                            value=f"cancel {event.id}",
                            style="danger",
                        )
                    ],
                )
            )
    return sections


def _team_buttons(engagement: Engagement, waiting: int) -> list[Button]:
    e = engagement.id
    buttons = [
        Button(
            label=f"Questions to answer ({waiting})",
            action="cmd.engagements",
            value=f"questions {e}",
        ),
        Button(label="Publish an update", action="cmd.engagements", value=f"update {e}"),
        Button(label="Add an event", action="cmd.engagements", value=f"event {e}"),
        Button(label="Summary", action="cmd.engagements", value=f"summary {e}"),
        Button(label="Answers", action="cmd.engagements", value=f"answers {e}"),
        Button(label="The record", action="cmd.engagements", value=f"record {e}"),
        Button(label="Conflicts of interest", action="cmd.engagements", value=f"declarations {e}"),
    ]
    if engagement.state == EngagementState.CLOSED:
        buttons.append(
            Button(label="You said, we did", action="cmd.engagements", value=f"yousaid {e}")
        )
    return buttons


async def join(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """A provider that was not matched takes part anyway: it hears every clarification."""
    assert turn.actor is not None
    organisations = sorted(turn.actor.member_of())
    async with services.db.session() as session:
        engagement = await session.get(Engagement, engagement_id) if engagement_id else None
        if not organisations:
            return [Notice(text=HOW_TO_JOIN, level="warning")]
        if engagement is None or not is_open(engagement, services.clock.now()):
            return await refuse(
                session,
                turn,
                engagement,
                "join",
                "This engagement is not open, so you can't join it.",
            )
        now = services.clock.now()
        await add_participants(session, engagement.id, organisations[:1], joined_at=now)
        await audit.record_turn(
            session,
            turn,
            "engagement.joined",
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
            organisation_id=organisations[0],
            at=now,
        )
    return [
        Notice(
            text=f"You are taking part in {engagement.title}. You will get every answer and "
            "update the council publishes.",
            level="success",
            buttons=[
                Button(
                    label="Answer the questions",
                    action="cmd.engagements",
                    value=f"answer {engagement.id}",
                    style="primary",
                )
            ],
        )
    ]


class EngagementAnswers(ProviderForm):
    """A provider's answers to one engagement's questions (form key `engagement-<id>`)."""

    form_key = "engagement-"
    attempted = "answer"
    #: The usual "what you told us" confirmation, with how to change it until it closes.
    confirms_itself = False

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        organisations = sorted(turn.actor.member_of())
        engagement_id = number_at(turn, 1)
        engagement = await session.get(Engagement, engagement_id) if engagement_id else None
        if not organisations:
            return Refusal(HOW_TO_JOIN)
        if engagement is None or engagement.state == EngagementState.DRAFT:
            return Refusal(
                "We couldn't find that engagement. See the open ones: "
                f"{command_ref('engagements', 'the open engagements')}."
            )
        if not is_open(engagement, services.clock.now()):
            await refuse(session, turn, engagement, "answer", "closed")
            return Refusal(
                f"{engagement.title} closed on {closes_text(engagement, turn.actor.timezone)}, "
                "so answers can't be sent or changed now. Thank you for your interest."
            )
        await add_participants(
            session, engagement.id, organisations[:1], joined_at=services.clock.now()
        )
        return Subject(
            organisations[0],
            engagement.authority_id,
            label=engagement.title,
            engagement_id=engagement.id,
            form_key=engagement.form_key,
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        """Changing answers starts from the ones already sent."""
        assert subject.engagement_id is not None
        previous = await latest_submission(
            session,
            form_key=f"engagement-{subject.engagement_id}",
            organisation_id=subject.organisation_id,
            authority_id=subject.authority_id,
        )
        return dict(previous.answers) if previous else {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        await audit.record_turn(
            session,
            turn,
            "engagement.answered",
            object_type="engagement",
            object_id=response.engagement_id,
            organisation_id=response.organisation_id,
            authority_id=response.authority_id,
            response_id=response.id,
        )
        replies: list[Reply] = []
        if response.answers.get("ideas_confidential") is True:
            replies.append(
                Notice(
                    text="You marked your idea as commercially confidential. The council "
                    "will not share it with other providers.",
                    level="info",
                )
            )
        return replies


ANSWERS = EngagementAnswers()


answer = form_step(ANSWERS)
