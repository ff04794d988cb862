"""Closing an engagement (on schedule, or early), the closing-soon reminder, the
commissioner's summary, and "you said, we did"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FieldType, FormDefinition, format_answer
from bot.core.forms.kinds import kind_of
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section
from bot.core.turn import Turn
from bot.core.words import counted
from bot.services import Services
from handlers.engagements.clarifications import publish_to_participants, tell_the_team
from handlers.engagements.common import (
    Refused,
    TeamForm,
    closes_text,
    load_for_team,
    load_locked,
    number_at,
    refusal_replies,
    submitted_engagement,
)
from handlers.engagements.feedback import feedback_summary
from handlers.forms import Subject, form_step
from storage import audit
from storage.engagement_tables import (
    BookingState,
    Clarification,
    ClarificationKind,
    Engagement,
    EngagementEvent,
    EngagementInvitation,
    EngagementParticipant,
    EngagementState,
    EventBooking,
    MeetingRequest,
)
from storage.engagements import members_of
from storage.forms import definition_at, latest_definition
from storage.models import FormResponse, Organisation, Reminder, ResponseState
from storage.outbox import send_to_people
from storage.visibility import Refusal


async def close_engagement(
    session: AsyncSession,
    engagement: Engagement,
    services: Services,
    now: datetime,
    *,
    actor_id: int | None = None,
    door: str | None = None,
) -> None:
    """Close it: no more answers or questions; thank participants and ask for feedback;
    send the commissioning team its summary."""
    engagement.state = EngagementState.CLOSED
    engagement.closed_at = now
    await audit.record(
        session,
        "engagement.closed",
        actor_id=actor_id,
        door=door,
        object_type="engagement",
        object_id=engagement.id,
        authority_id=engagement.authority_id,
        at=now,
    )
    thanks = Message(
        title=f"{engagement.title} has closed",
        text="Thank you for taking part. The council will tell everyone what changed because "
        "of what you said. Please tell us how it went: it is anonymous and takes two minutes.",
        buttons=[
            Button(
                label="Give feedback (anonymous)",
                action="cmd.engagements",
                value=f"feedback {engagement.id}",
                style="primary",
            )
        ],
    )
    await publish_to_participants(
        session, engagement, thanks, f"engagement:{engagement.id}:closed", now
    )
    summary = await build_summary(session, engagement, services)
    await tell_the_team(session, engagement, summary, f"engagement:{engagement.id}:summary", now)


async def close_on_schedule(reminder: Reminder, services: Services) -> None:
    """The scheduler's job at the closing time."""
    now = services.clock.now()
    async with services.db.session() as session:
        engagement = await load_locked(session, Engagement, int(reminder.target_id))
        if engagement is None or engagement.state != EngagementState.OPEN:
            return
        if now < engagement.closes_at:  # the closing date moved later; the reminder did too
            return
        await close_engagement(session, engagement, services, now)


async def close_now(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """`engagements close 4`: the team closes it early."""
    async with services.db.session() as session:
        try:
            engagement = await close_early(session, turn, services, engagement_id)
        except Refused as refusal:
            return refusal_replies(refusal)
    return [
        Notice(
            text=f"Closed {engagement.title}. We thanked everyone who took part, and sent you "
            "the summary.",
            level="success",
        )
    ]


class NotOpen(Refused):
    """Only an open engagement can be closed."""

    level = "info"


async def close_early(
    session: AsyncSession, turn: Turn, services: Services, engagement_id: int | None
) -> Engagement:
    """The team closes its open engagement before the closing date; the closed engagement
    comes back. Raises `NotTheTeam` or `NotOpen`."""
    assert turn.actor is not None
    engagement = await load_for_team(
        session,
        turn,
        engagement_id,
        "close",
        "Only the council running it can close it.",
        lock=True,
    )
    if engagement.state != EngagementState.OPEN:
        raise NotOpen(f"{engagement.title} is not open, so nothing changed.")
    await close_engagement(
        session,
        engagement,
        services,
        services.clock.now(),
        actor_id=turn.actor.person_id,
        door=turn.door,
    )
    return engagement


async def remind_closing_soon(reminder: Reminder, services: Services) -> None:
    """A few working days before closing: nudge organisations that started but did not send."""
    async with services.db.session() as session:
        engagement = await session.get(Engagement, int(reminder.target_id))
        if engagement is None or engagement.state != EngagementState.OPEN:
            return
        started = select(FormResponse.organisation_id).where(
            FormResponse.engagement_id == engagement.id,
            FormResponse.form_key == engagement.form_key,
            FormResponse.state == ResponseState.DRAFT,
        )
        sent = select(FormResponse.organisation_id).where(
            FormResponse.engagement_id == engagement.id,
            FormResponse.form_key == engagement.form_key,
            FormResponse.state == ResponseState.SUBMITTED,
        )
        not_sent = select(Organisation.id).where(
            Organisation.id.in_(started), Organisation.id.not_in(sent)
        )
        message = Message(
            title=f"{engagement.title} closes soon",
            text=f"It closes on {closes_text(engagement, services.tz)}. You started answering "
            "but have not sent your answers yet. Everything you saved is still there.",
            buttons=[
                Button(
                    label="Carry on",
                    action="cmd.engagements",
                    value=f"answer {engagement.id}",
                    style="primary",
                )
            ],
        )
        await send_to_people(
            session,
            members_of(not_sent),
            ReplyList(replies=[message]).model_dump(mode="json"),
            f"reminder:{reminder.id}:{{person_id}}",
        )


@dataclass(frozen=True)
class EventTally:
    """One event's places: booked, waiting, and who came."""

    event: EngagementEvent
    booked: int
    waiting: int
    attended: int


@dataclass(frozen=True)
class SummaryFacts:
    """Everything the closing summary and the record count about an engagement: numbers and
    rows, never wording. Views (`summary_message`, the record) decide how they read."""

    invited_organisations: int
    invited_people: int
    joined_without_invitation: int
    #: Each organisation's latest sent answers.
    answered: tuple[FormResponse, ...]
    #: Organisations that answered, by income band and by legal form ("not_given" if blank).
    by_size: Counter[str]
    by_type: Counter[str]
    questions: tuple[Clarification, ...]
    updates: tuple[Clarification, ...]
    events: tuple[EventTally, ...]
    private_conversations: int
    #: The anonymous feedback summary, suppressed when too few gave it (see feedback.py).
    feedback: dict[str, Any]


async def summary_facts(
    session: AsyncSession, engagement: Engagement, services: Services
) -> SummaryFacts:
    """Everything the closing summary and the record count, computed once."""
    invited_orgs = await session.scalar(
        select(func.count()).where(
            EngagementParticipant.engagement_id == engagement.id,
            EngagementParticipant.invited_at.is_not(None),
        )
    )
    invited_people = await session.scalar(
        select(func.count()).where(
            EngagementInvitation.engagement_id == engagement.id,
            EngagementInvitation.person_id.is_not(None),
        )
    )
    joined = await session.scalar(
        select(func.count()).where(
            EngagementParticipant.engagement_id == engagement.id,
            EngagementParticipant.invited_at.is_(None),
        )
    )
    answered = (
        await session.scalars(
            select(FormResponse)
            .where(
                FormResponse.engagement_id == engagement.id,
                FormResponse.form_key == engagement.form_key,
                FormResponse.state == ResponseState.SUBMITTED,
            )
            .order_by(FormResponse.submitted_at)
        )
    ).all()
    latest: dict[int | None, FormResponse] = {}
    for response in answered:
        latest[response.organisation_id] = response
    orgs = (
        await session.scalars(
            select(Organisation).where(Organisation.id.in_([k for k in latest if k]))
        )
    ).all()
    clarifications = (
        await session.scalars(
            select(Clarification).where(Clarification.engagement_id == engagement.id)
        )
    ).all()
    events = (
        await session.scalars(
            select(EngagementEvent)
            .where(EngagementEvent.engagement_id == engagement.id)
            .order_by(EngagementEvent.starts_at)
        )
    ).all()
    bookings: dict[int, list[EventBooking]] = {event.id: [] for event in events}
    for booking in (
        await session.scalars(select(EventBooking).where(EventBooking.event_id.in_(bookings)))
    ).all():
        bookings[booking.event_id].append(booking)
    event_rows = tuple(
        EventTally(
            event=event,
            booked=sum(b.state == BookingState.BOOKED for b in bookings[event.id]),
            waiting=sum(b.state == BookingState.WAITING for b in bookings[event.id]),
            attended=sum(b.attended is True for b in bookings[event.id]),
        )
        for event in events
    )
    meetings = await session.scalar(
        select(func.count()).where(MeetingRequest.engagement_id == engagement.id)
    )
    return SummaryFacts(
        invited_organisations=invited_orgs or 0,
        invited_people=invited_people or 0,
        joined_without_invitation=joined or 0,
        answered=tuple(latest.values()),
        by_size=Counter(o.income_band or "not_given" for o in orgs),
        by_type=Counter(o.legal_form or "not_given" for o in orgs),
        questions=tuple(c for c in clarifications if c.kind == ClarificationKind.QUESTION),
        updates=tuple(c for c in clarifications if c.kind == ClarificationKind.UPDATE),
        events=event_rows,
        private_conversations=meetings or 0,
        feedback=await feedback_summary(
            session, engagement.id, services.settings.suppression_minimum
        ),
    )


def answer_counts(
    definition: FormDefinition, responses: list[FormResponse]
) -> list[tuple[str, str]]:
    """Per question: how many answered, and for choice questions how many chose each option.
    Never a score, never a ranking of organisations."""
    lines: list[tuple[str, str]] = []
    for field in definition.all_fields():
        values = [r.answers.get(field.id) for r in responses]
        given = [v for v in values if v not in (None, "", [])]
        text = f"{len(given)} of {len(responses)} answered"
        if kind_of(field.type).has_choices and given:
            tally: Counter[str] = Counter()
            for value in given:
                for item in value if isinstance(value, list) else [value]:
                    tally[
                        format_answer(
                            field, [item] if field.type == FieldType.MULTIPLE_CHOICE else item
                        )
                    ] += 1
            text += ": " + "; ".join(f"{label} {count}" for label, count in tally.most_common())
        lines.append((field.label, text))
    return lines


async def build_summary(
    session: AsyncSession, engagement: Engagement, services: Services
) -> Message:
    """The commissioner's summary: invited, took part (by size and type), answers per
    question, events, clarifications, feedback. For the commissioning team only."""
    facts = await summary_facts(session, engagement, services)
    profile = await latest_definition(session, "organisation_profile")
    definition = (
        await definition_at(session, engagement.form_key, 1) if engagement.form_key else None
    )
    return summary_message(engagement, facts, profile, definition, services.tz)


def summary_message(
    engagement: Engagement,
    facts: SummaryFacts,
    profile: FormDefinition | None,
    definition: FormDefinition | None,
    tz: ZoneInfo,
) -> Message:
    """The summary's view: `facts` in words, with the profile's labels for sizes and kinds
    of organisation and the engagement's own questions (`definition`) for the answers."""
    answered = list(facts.answered)

    def labelled(field_id: str, counts: Counter[str]) -> str:
        if profile is None:
            return ", ".join(f"{k} {v}" for k, v in counts.items())
        field = profile.field(field_id)
        return (
            "; ".join(
                f"{'Not given' if key == 'not_given' else format_answer(field, key)} {count}"
                for key, count in counts.most_common()
            )
            or "None yet"
        )

    sections = [
        Section(
            heading="Who took part",
            facts=[
                Fact(label="Organisations invited", value=str(facts.invited_organisations)),
                Fact(label="People invited", value=str(facts.invited_people)),
                Fact(
                    label="Organisations that joined without an invitation",
                    value=str(facts.joined_without_invitation),
                ),
                Fact(label="Organisations that sent answers", value=str(len(answered))),
                Fact(label="By size (income)", value=labelled("income_band", facts.by_size)),
                Fact(label="By kind of organisation", value=labelled("legal_form", facts.by_type)),
                Fact(
                    label="Private conversations asked for",
                    value=str(facts.private_conversations),
                ),
            ],
        )
    ]
    if definition is not None:
        confidential = sum(r.answers.get("ideas_confidential") is True for r in answered)
        sections.append(
            Section(
                heading="Answers per question",
                text=f"{confidential} marked their ideas commercially confidential: do not "
                "share those ideas outside your team."
                if confidential
                else None,
                facts=[Fact(label=q, value=v) for q, v in answer_counts(definition, answered)],
            )
        )
    sections.append(
        Section(
            heading="Events",
            facts=[
                Fact(
                    label=row.event.title,
                    value=f"{row.booked} booked, {row.waiting} waiting, {row.attended} came",
                )
                for row in facts.events
            ]
            or [Fact(label="Events", value="None")],
        )
    )
    privately = sum(q.answered_privately for q in facts.questions)
    sections.append(
        Section(
            heading="Questions and updates",
            facts=[
                Fact(
                    label="Questions asked",
                    value=f"{len(facts.questions)} "
                    f"({sum(q.published_at is not None and not q.answered_privately for q in facts.questions)} "
                    "answered for everyone"
                    + (f", {privately} for the asker alone)" if privately else ")"),
                ),
                Fact(label="Updates published", value=str(len(facts.updates))),
            ],
        )
    )
    feedback = facts.feedback
    if feedback["suppressed"]:
        feedback_text = (
            f"Fewer than {feedback['minimum']} people gave feedback, so we don't show it: "
            "with so few, it could show who said what."
        )
        feedback_facts: list[Fact] = []
    else:
        feedback_text = None
        feedback_facts = [
            Fact(label="People who gave feedback", value=str(feedback["responses"])),
            Fact(label="How useful (out of 5)", value=str(feedback["engagement_rating"] or "-")),
            Fact(
                label="How easy to take part (out of 5)",
                value=str(feedback["process_rating"] or "-"),
            ),
            *[Fact(label="Comment", value=c) for c in feedback["engagement_comments"][:10]],
            *[Fact(label="About taking part", value=c) for c in feedback["process_comments"][:10]],
        ]
    sections.append(Section(heading="Anonymous feedback", text=feedback_text, facts=feedback_facts))
    return Message(
        title=f"Summary: {engagement.title}",
        text=f"Closed {format_when(engagement.closed_at, tz)}."
        if engagement.closed_at
        else f"Still open. Closes {closes_text(engagement, tz)}.",
        sections=sections,
        buttons=[
            Button(
                label="You said, we did", action="cmd.engagements", value=f"yousaid {engagement.id}"
            ),
            Button(label="The record", action="cmd.engagements", value=f"record {engagement.id}"),
            *(
                Button(
                    label=f"Download ({name})",
                    action="cmd.engagements",
                    value=f"export {engagement.id} summary {fmt}",
                )
                for fmt, name in (("xlsx", "Excel"), ("csv", "CSV"))
            ),
        ],
        who_sees="Only your commissioning team sees this summary. It is never a score.",
    )


async def show_summary(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    async with services.db.session() as session:
        try:
            engagement = await load_for_team(
                session,
                turn,
                engagement_id,
                "summary",
                "Only the council running it can see its summary.",
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        return [await build_summary(session, engagement, services)]


class YouSaidWeDid(TeamForm):
    form_key = "you_said_we_did"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self.own_engagement(session, turn, number_at(turn, 1), "you said we did")
        if isinstance(engagement, Refusal):
            return engagement
        if engagement.published_at is None:
            return Refusal("Publish the engagement first.")
        return Subject(None, engagement.authority_id, engagement_id=engagement.id, topic="yousaid")

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        engagement = await session.get(Engagement, subject.engagement_id)
        return (
            {"text": engagement.you_said_we_did}
            if engagement and engagement.you_said_we_did
            else {}
        )

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        now = services.clock.now()
        engagement = await submitted_engagement(session, response)
        engagement.you_said_we_did = response.answers["text"]
        engagement.you_said_at = now
        message = Message(
            title=f"You said, we did: {engagement.title}",
            text=engagement.you_said_we_did,
            who_sees="Everyone who took part gets this.",
        )
        count = await publish_to_participants(
            session, engagement, message, f"engagement:{engagement.id}:yousaid:{response.id}", now
        )
        await audit.record_turn(
            session,
            turn,
            "engagement.you_said_we_did",
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
            recipients=count,
            at=now,
        )
        return [
            Notice(
                text=f"Sent to {counted(count, 'person', 'people')} invited or taking part, "
                "and added to the record.",
                level="success",
            )
        ]


YOU_SAID = YouSaidWeDid()


you_said_we_did = form_step(YOU_SAID)
