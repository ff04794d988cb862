"""Private one-to-one conversations: a provider asks, the commissioning team suggests times,
the provider picks one, and both get a reminder the day before.

Only the provider's members and the commissioning team ever hear about a request: it is
how providers talk "not in front of potential competitors".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.clarifications import tell_the_team
from handlers.engagements.common import (
    ONLY_THE_TEAM,
    ProviderForm,
    TeamForm,
    is_open,
    load_locked,
    number_at,
    provider_asked,
    refuse,
    submitted_engagement,
)
from handlers.forms import Subject, form_step
from storage import audit
from storage.engagement_tables import Engagement, MeetingRequest, MeetingState
from storage.engagements import members_of
from storage.models import FormResponse, Membership, Organisation, Reminder, Role
from storage.opportunities import tender_from
from storage.opportunity_tables import Opportunity
from storage.outbox import send_to_people
from storage.reminders import schedule_reminder
from storage.visibility import Refusal, can_see_meeting_notes

REMINDER_KIND = "meeting.reminder"
HOW = {"call": "a phone call", "video": "a video call", "visit": "in person"}


class RequestMeeting(ProviderForm):
    form_key = "meeting_request"
    topic = "meeting"
    attempted = "talk"
    closed = missing = "This engagement is not open, so you can't ask for a conversation now."

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        found = await super().subject(session, turn, services)
        if isinstance(found, Refusal) or found.engagement_id is None:
            return found
        return await _talks_closed(session, turn, found.engagement_id, "talk") or found

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        refusal = await super().may_answer(session, turn, services, response)
        if refusal is not None or response.engagement_id is None:
            return refusal
        return await _talks_closed(session, turn, response.engagement_id, "talk")

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id
        now = services.clock.now()
        engagement = await submitted_engagement(session, response)
        request = MeetingRequest(
            engagement_id=engagement.id,
            organisation_id=response.organisation_id,
            requested_by=turn.actor.person_id,
            topic=response.answers.get("topic"),
            how=response.answers.get("how"),
            state=MeetingState.REQUESTED,
            created_at=now,
        )
        await provider_asked(
            session,
            turn,
            engagement,
            response.organisation_id,
            request,
            "meeting.requested",
            "meeting_request",
            now,
        )
        await tell_the_team(
            session,
            engagement,
            Message(
                title=f"{await _name_of(session, request.organisation_id)} would like to talk "
                f"privately about {engagement.title}",
                text=(request.topic or "They did not say what about.")
                + (f"\nThey would like {HOW[request.how]}." if request.how in HOW else ""),
                buttons=[
                    Button(
                        label="Suggest times",
                        action="cmd.engagements",
                        value=f"times {request.id}",
                        style="primary",
                    )
                ],
                who_sees="Only your commissioning team sees this request.",
            ),
            f"meeting:{request.id}:requested",
            now,
        )
        return [
            Notice(
                text="Thank you. We asked the commissioning team to suggest times. Only your "
                "organisation and the team know about this conversation. The team keeps a "
                "short note of it, which the council's auditors may check.",
                level="success",
            )
        ]


class ProposeTimes(TeamForm):
    form_key = "meeting_times"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        request_id = number_at(turn, 1)
        request = await session.get(MeetingRequest, request_id) if request_id else None
        engagement = await self.own_engagement(
            session, turn, request.engagement_id if request else None, "propose times"
        )
        if isinstance(engagement, Refusal):
            return engagement
        assert request is not None
        closed = await _talks_closed(session, turn, engagement.id, "propose times")
        if closed is not None:
            return closed
        return Subject(
            None,
            engagement.authority_id,
            engagement_id=engagement.id,
            topic=f"meeting:{request.id}",
        )

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        """Who asked, and what about, above the times form."""
        assert subject.topic is not None
        request = await session.get(MeetingRequest, int(subject.topic.split(":")[1]))
        if request is None:
            return []
        how = f" They would like {HOW[request.how]}." if request.how in HOW else ""
        return [
            Notice(
                text=f"{await _name_of(session, request.organisation_id)} asked to talk about: "
                f"{request.topic or 'they did not say'}.{how}"
            )
        ]

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.topic is not None
        now = services.clock.now()
        request = await session.get(MeetingRequest, int(response.topic.split(":")[1]))
        assert request is not None
        engagement = await session.get(Engagement, request.engagement_id)
        assert engagement is not None
        options = [
            response.answers[key]
            for key in ("option_1", "option_2", "option_3")
            if response.answers.get(key)
        ]
        request.proposed = options
        request.state = MeetingState.PROPOSED
        await audit.record_turn(
            session,
            turn,
            "meeting.proposed",
            object_type="meeting_request",
            object_id=request.id,
            authority_id=engagement.authority_id,
            organisation_id=request.organisation_id,
        )
        message = Message(
            title=f"Times to talk about {engagement.title}",
            text="The commissioning team can talk at these times. Pick the one that suits you.",
            buttons=[
                Button(
                    label=format_when(datetime.fromisoformat(option))[:75],
                    action="cmd.engagements",
                    value=f"pick {request.id} {index}",
                )
                for index, option in enumerate(options, start=1)
            ],
            who_sees="Only your organisation and the commissioning team see this.",
        )
        await send_to_people(
            session,
            members_of(
                select(Membership.organisation_id).where(
                    Membership.organisation_id == request.organisation_id
                )
            ),
            ReplyList(replies=[message]).model_dump(mode="json"),
            f"meeting:{request.id}:proposed:{response.id}:{{person_id}}",
            not_before=now,
        )
        return [
            Notice(
                text="We sent your times to the provider. You will both get a reminder once "
                "they pick one.",
                level="success",
            )
        ]


async def _name_of(session: AsyncSession, organisation_id: int) -> str:
    organisation = await session.get(Organisation, organisation_id)
    return organisation.name if organisation else "A provider"


class MeetingNotes(TeamForm):
    """The team's notes and outcome of a private conversation, written after it. Private
    to the team (`can_see_meeting_notes`), and followed by a prompt to share anything every
    provider should know as an update, so a private talk never gives one provider an edge."""

    form_key = "meeting_notes"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        request_id = number_at(turn, 1)
        request = await session.get(MeetingRequest, request_id) if request_id else None
        engagement = await self.own_engagement(
            session, turn, request.engagement_id if request else None, "meeting notes"
        )
        if isinstance(engagement, Refusal):
            return engagement
        if not can_see_meeting_notes(turn.actor, engagement):
            return Refusal(ONLY_THE_TEAM)
        assert request is not None
        if request.state == MeetingState.CANCELLED:
            return Refusal(
                "This conversation was cancelled before it happened, so there is nothing to "
                "write notes on."
            )
        if request.agreed_at is None or request.agreed_at > services.clock.now():
            return Refusal(
                "You can write notes once the conversation has happened"
                + (
                    f", after {format_when(request.agreed_at, turn.actor.timezone)}."
                    if request.agreed_at
                    else ". No time has been agreed yet."
                )
            )
        return Subject(
            None, engagement.authority_id, engagement_id=engagement.id, topic=f"notes:{request.id}"
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        assert subject.topic is not None
        request = await session.get(MeetingRequest, int(subject.topic.split(":")[1]))
        if request is None or request.notes is None:
            return {}
        return {"notes": request.notes, "outcome": request.outcome}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.topic is not None
        now = services.clock.now()
        request = await session.get(MeetingRequest, int(response.topic.split(":")[1]))
        assert request is not None
        engagement = await submitted_engagement(session, response)
        request.notes = response.answers["notes"]
        request.outcome = response.answers["outcome"]
        request.notes_by = turn.actor.person_id
        request.notes_at = now
        await audit.record_turn(
            session,
            turn,
            "meeting.notes_recorded",
            object_type="meeting_request",
            object_id=request.id,
            authority_id=engagement.authority_id,
            organisation_id=request.organisation_id,
            engagement_id=engagement.id,
        )
        replies: list[Reply] = [
            Notice(
                text=f"Saved your notes on {format_when(now, turn.actor.timezone)}. Only your "
                f"commissioning team sees them. To change them, "
                f"{command_ref(f'engagements notes {request.id}', f'your notes on request {request.id}')}.",
                level="success",
            )
        ]
        if is_open(engagement, now):
            replies.append(
                Message(
                    text=SHARE_PROMPT,
                    buttons=[
                        Button(
                            label="Publish an update",
                            action="cmd.engagements",
                            value=f"update {engagement.id}",
                            style="primary",
                        )
                    ],
                )
            )
        return replies


#: After every private conversation: equal treatment means sharing what everyone should know.
SHARE_PROMPT = "Did you share anything every provider should know? Publish it as an update."

REQUEST = RequestMeeting()
TIMES = ProposeTimes()
NOTES = MeetingNotes()


write_notes = form_step(NOTES)


ask_to_talk = form_step(REQUEST)


propose_times = form_step(TIMES)


async def pick_time(turn: Turn, services: Services, request_id: int | None) -> list[Reply]:
    """The provider picks one of the suggested times; both sides get reminders."""
    assert turn.actor is not None
    choice = number_at(turn, 2)
    now = services.clock.now()
    async with services.db.session() as session:
        request = await load_locked(session, MeetingRequest, request_id)
        if request is None or request.organisation_id not in turn.actor.member_of():
            return await refuse(
                session,
                turn,
                None,
                "pick time",
                "That conversation is not one of your organisation's.",
            )
        if request.state == MeetingState.CANCELLED:
            closed = await private_talk_closed(session, request.engagement_id)
            return await refuse(
                session,
                turn,
                await session.get(Engagement, request.engagement_id),
                "pick time",
                closed or "This conversation was cancelled, so no time can be agreed now.",
            )
        if choice is None or not 1 <= choice <= len(request.proposed):
            return [
                Notice(text="Please pick one of the times the team suggested.", level="warning")
            ]
        request.agreed_at = datetime.fromisoformat(request.proposed[choice - 1])
        request.state = MeetingState.AGREED
        engagement = await session.get(Engagement, request.engagement_id)
        assert engagement is not None
        await audit.record_turn(
            session,
            turn,
            "meeting.agreed",
            object_type="meeting_request",
            object_id=request.id,
            authority_id=engagement.authority_id,
            organisation_id=request.organisation_id,
        )
        if request.agreed_at - timedelta(days=1) > now:
            await schedule_reminder(
                session,
                kind=REMINDER_KIND,
                due_at=request.agreed_at - timedelta(days=1),
                target_type="meeting_request",
                target_id=request.id,
            )
        when = format_when(request.agreed_at, turn.actor.timezone)
        await tell_the_team(
            session,
            engagement,
            Message(
                title=f"Private conversation agreed: {when}",
                text=f"{engagement.title}. Afterwards, write a short note of it for the record.",
                buttons=[
                    Button(
                        label="Write notes after it",
                        action="cmd.engagements",
                        value=f"notes {request.id}",
                    )
                ],
            ),
            f"meeting:{request.id}:agreed:{choice}",
            now,
        )
    return [
        Notice(
            text=f"Agreed: {when}. We will remind you and the team the day before.",
            level="success",
        )
    ]


async def remind_meeting(reminder: Reminder, services: Services) -> None:
    """The day before: remind the provider's members and the commissioning team."""
    async with services.db.session() as session:
        request = await session.get(MeetingRequest, int(reminder.target_id))
        if request is None or request.agreed_at is None or request.state == MeetingState.CANCELLED:
            return
        engagement = await session.get(Engagement, request.engagement_id)
        if engagement is None:
            return
        message = Message(
            title=f"Reminder: your private conversation is tomorrow, {format_when(request.agreed_at)}",
            text=engagement.title,
        )
        people = select(Membership.person_id).where(
            (Membership.organisation_id == request.organisation_id)
            & Membership.role.in_((Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER))
            | (Membership.authority_id == engagement.authority_id)
            & (Membership.role == Role.COMMISSIONER)
        )
        await send_to_people(
            session,
            people,
            ReplyList(replies=[message]).model_dump(mode="json"),
            f"reminder:{reminder.id}:{{person_id}}",
        )


# --- s.16: private conversations close when the tender is published -------------------------


def _closed_words(engagement: Engagement, tender: Opportunity) -> str:
    return (
        f"Private conversations about {engagement.title} have closed, because the council "
        f"has published its tender: {tender.title}. From now on every provider gets the same "
        "information at the same time (Procurement Act 2023, section 16). You can ask a "
        f"question about the tender instead: "
        + command_ref(
            f"opportunities ask {tender.id}", f"the question form for opportunity {tender.id}"
        )
        + ". The answer "
        "goes to everyone, without your name."
    )


async def private_talk_closed(session: AsyncSession, engagement_id: int) -> str | None:
    """Why this engagement's private conversations are closed (a tender that came from it
    is published), or None while they are open."""
    tender = await tender_from(session, engagement_id)
    engagement = await session.get(Engagement, engagement_id)
    if tender is None or engagement is None:
        return None
    return _closed_words(engagement, tender)


async def _talks_closed(
    session: AsyncSession, turn: Turn, engagement_id: int, attempted: str
) -> Refusal | None:
    """A refusal (on the record) once the engagement's private conversations are closed."""
    closed = await private_talk_closed(session, engagement_id)
    if closed is None:
        return None
    await refuse(
        session, turn, await session.get(Engagement, engagement_id), attempted, "tender published"
    )
    return Refusal(closed)


async def close_private_conversations(
    session: AsyncSession, turn: Turn, tender: Opportunity, now: datetime
) -> int:
    """The tender that came from an engagement is published: every private conversation of
    that engagement not yet held is cancelled, with a message to the provider and to the
    team saying why, and each is on the record. How many were cancelled."""
    if tender.engagement_id is None:
        return 0
    engagement = await session.get(Engagement, tender.engagement_id)
    if engagement is None or engagement.authority_id != tender.authority_id:
        return 0
    pending = (
        await session.scalars(
            select(MeetingRequest)
            .where(
                MeetingRequest.engagement_id == engagement.id,
                MeetingRequest.state.in_((MeetingState.REQUESTED, MeetingState.PROPOSED))
                | (MeetingRequest.state == MeetingState.AGREED) & (MeetingRequest.agreed_at > now),
            )
            .order_by(MeetingRequest.id)
            .with_for_update()
        )
    ).all()
    why = _closed_words(engagement, tender)
    for request in pending:
        request.state = MeetingState.CANCELLED
        await audit.record_turn(
            session,
            turn,
            "meeting.cancelled",
            object_type="meeting_request",
            object_id=request.id,
            authority_id=engagement.authority_id,
            organisation_id=request.organisation_id,
            engagement_id=engagement.id,
            opportunity_id=tender.id,
            reason="tender published (Procurement Act 2023 s.16)",
        )
        when = f" on {format_when(request.agreed_at)}" if request.agreed_at else ""
        await send_to_people(
            session,
            members_of(
                select(Membership.organisation_id).where(
                    Membership.organisation_id == request.organisation_id
                )
            ),
            ReplyList(
                replies=[
                    Message(
                        title=f"Your private conversation about {engagement.title} is cancelled",
                        text=f"The conversation you asked for{when} will not happen. {why}",
                        who_sees="Only your organisation and the commissioning team see this.",
                    )
                ]
            ).model_dump(mode="json"),
            f"meeting:{request.id}:cancelled:{{person_id}}",
            not_before=now,
        )
        await tell_the_team(
            session,
            engagement,
            Message(
                title=f"Private conversation with {await _name_of(session, request.organisation_id)} "
                "cancelled",
                text=f"It was about {engagement.title}{when}. We cancelled it because you "
                f"published {tender.title}: once the tender is out, every provider must get "
                "the same information at the same time (Procurement Act 2023, section 16). "
                "We told them why. Answer their questions through the tender's questions "
                "and answers instead.",
            ),
            f"meeting:{request.id}:cancelled",
            now,
        )
    return len(pending)
