"""Clarifications, equal for all: a provider asks, the council answers everyone at once.

The published question never names the asker or their organisation (the commissioning
team can see who asked; nobody else can). Updates from the council travel the same way.
Everything published is in the engagement's Q&A log, which every participant can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import (
    ProviderForm,
    TeamForm,
    is_open,
    load_locked,
    number_at,
    open_engagement,
    provider_asked,
    refuse,
    submitted_engagement,
    team_engagement,
)
from handlers.forms import Subject, open_form
from storage import audit
from storage.engagement_tables import Clarification, ClarificationKind, Engagement
from storage.engagements import participant_people, waiting_questions
from storage.models import FormResponse, Membership, Organisation, Role
from storage.outbox import send_to_people
from storage.visibility import Refusal


async def publish_to_participants(
    session: AsyncSession,
    engagement: Engagement,
    message: Message,
    key: str,
    now: datetime,
) -> int:
    """Queue the same message for every participant, all due at the same moment."""
    sent = await send_to_people(
        session,
        participant_people(engagement.id),
        ReplyList(replies=[message]).model_dump(mode="json"),
        f"{key}:{{person_id}}",
        not_before=now,
    )
    return len(sent)


async def _team(session: AsyncSession, engagement: Engagement) -> list[int]:
    return list(
        (
            await session.scalars(
                select(Membership.person_id).where(
                    Membership.authority_id == engagement.authority_id,
                    Membership.role == Role.COMMISSIONER,
                )
            )
        ).all()
    )


async def tell_the_team(
    session: AsyncSession, engagement: Engagement, message: Message, key: str, now: datetime
) -> None:
    """Let the engagement's commissioning team know something needs them."""
    await send_to_people(
        session,
        await _team(session, engagement),
        ReplyList(replies=[message]).model_dump(mode="json"),
        f"{key}:{{person_id}}",
        not_before=now,
    )


class AskQuestion(ProviderForm):
    form_key = "clarification_question"
    topic = "question"
    attempted = "ask"
    closed = (
        "{title} has closed, so questions and updates can't be published now. Nothing was changed."
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
        if not is_open(engagement, now):
            return await refuse(session, turn, engagement, "ask", "This engagement has closed.")
        question = Clarification(
            engagement_id=engagement.id,
            kind=ClarificationKind.QUESTION,
            question=response.answers["question"],
            asked_by=turn.actor.person_id,
            asked_for=response.organisation_id,
            asked_at=now,
        )
        await provider_asked(
            session,
            turn,
            engagement,
            response.organisation_id,
            question,
            "clarification.asked",
            "clarification",
            now,
        )
        await tell_the_team(
            session,
            engagement,
            Message(
                title=f"A new question about {engagement.title}",
                text=question.question,
                buttons=[
                    Button(
                        label="Answer it for everyone",
                        action="cmd.engagements",
                        value=f"reply {engagement.id} {question.id}",
                        style="primary",
                    )
                ],
            ),
            f"clarification:{question.id}:asked",
            now,
        )
        return [
            Notice(
                text="Thank you. The council will answer your question for everyone taking "
                "part, at the same time, without your name or your organisation's name.",
                level="success",
            )
        ]


class _TeamForm(TeamForm):
    """Questions and updates: published to participants, so only while it is open."""

    needs_open = True

    async def _engagement(
        self, session: AsyncSession, turn: Turn, services: Services, attempted: str
    ) -> Engagement | Refusal:
        engagement = await open_engagement(session, turn, services, attempted, AskQuestion.closed)
        if isinstance(engagement, Refusal):
            return engagement
        return await self.own_engagement(session, turn, engagement.id, attempted)


class AnswerQuestion(_TeamForm):
    form_key = "clarification_answer"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self._engagement(session, turn, services, "answer question")
        if isinstance(engagement, Refusal):
            return engagement
        question = await _question(session, engagement, number_at(turn, 2))
        if question is None:
            return Refusal("That question has been answered already, or it isn't there.")
        return Subject(
            None,
            engagement.authority_id,
            engagement_id=engagement.id,
            topic=f"clarification:{question.id}",
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        assert subject.topic is not None
        question = await session.get(Clarification, int(subject.topic.split(":")[1]))
        return {"question": question.question} if question else {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert response.topic is not None
        engagement = await submitted_engagement(session, response)
        question_id = int(response.topic.split(":")[1])
        # Two answers at once: one wins.
        question = await load_locked(session, Clarification, question_id)
        assert question is not None
        if question.published_at is not None:
            return [Notice(text="That question was answered already.", level="info")]
        keep_original(question, response.answers["question"])
        question.answer = response.answers["answer"]
        return await publish_clarification(session, turn, services, engagement, question)


class PublishUpdate(_TeamForm):
    form_key = "engagement_update"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self._engagement(session, turn, services, "update")
        if isinstance(engagement, Refusal):
            return engagement
        return Subject(None, engagement.authority_id, engagement_id=engagement.id, topic="update")

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        engagement = await submitted_engagement(session, response)
        update = Clarification(
            engagement_id=engagement.id,
            kind=ClarificationKind.UPDATE,
            title=response.answers["title"],
            answer=response.answers["text"],
        )
        session.add(update)
        await session.flush()
        return await publish_clarification(session, turn, services, engagement, update)


#: Shown beside a published question the team changed so it could not identify who asked.
EDITED_MARK = "edited to keep the asker anonymous"


def keep_original(question: Clarification, published: str) -> None:
    """Publish the team's wording, but never lose what the provider asked: the original is
    kept (team and audit only) whenever the wording changed, however slightly."""
    if published.strip() == (question.question or "").strip():
        return
    if question.original_question is None:
        question.original_question = question.question
    question.question = published


def published_question(item: Clarification) -> str:
    """The question as everyone sees it, marked when the team edited it."""
    text = item.question or ""
    return f"{text} ({EDITED_MARK})" if item.edited_for_anonymity else text


async def publish_clarification(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    engagement: Engagement,
    item: Clarification,
) -> list[Reply]:
    """Send an answered question (never naming who asked) or an update to every participant
    at the same moment, and add it to the Q&A log."""
    assert turn.actor is not None
    now = services.clock.now()
    if not is_open(engagement, now):
        return await refuse(session, turn, engagement, "publish clarification", "closed")
    item.published_at = now
    item.answered_by = turn.actor.person_id
    if item.kind == ClarificationKind.QUESTION:
        message = Message(
            title=f"A question about {engagement.title}, answered for everyone",
            sections=[
                Section(heading="The question", text=published_question(item)),
                Section(heading="The council's answer", text=item.answer),
            ],
            text="Everyone taking part gets this answer at the same time. We never say who asked.",
        )
    else:
        message = Message(
            title=f"Update on {engagement.title}: {item.title}",
            text=item.answer,
        )
    message.buttons = [
        Button(
            label="See all questions and answers",
            action="cmd.engagements",
            value=f"show {engagement.id}",
        )
    ]
    recipients = await publish_to_participants(
        session, engagement, message, f"engagement:{engagement.id}:clarification:{item.id}", now
    )
    await audit.record_turn(
        session,
        turn,
        "clarification.published",
        object_type="clarification",
        object_id=item.id,
        authority_id=engagement.authority_id,
        engagement_id=engagement.id,
        kind=item.kind,
        edited_for_anonymity=item.edited_for_anonymity,
        recipients=recipients,
        at=now,
    )
    return [
        Notice(
            text=f"Published on {format_when(now, turn.actor.timezone)} to {recipients} "
            f"{'person' if recipients == 1 else 'people'} taking part, all at the same time. "
            "It is in the questions and answers log too.",
            level="success",
        )
    ]


async def _question(
    session: AsyncSession, engagement: Engagement, question_id: int | None
) -> Clarification | None:
    if question_id is None:
        return None
    question = await session.get(Clarification, question_id)
    if (
        question is None
        or question.engagement_id != engagement.id
        or question.kind != ClarificationKind.QUESTION
        or question.published_at is not None
    ):
        return None
    return question


async def questions_to_answer(
    turn: Turn, services: Services, engagement_id: int | None
) -> list[Reply]:
    """The team's list of questions waiting for an answer (it may see who asked)."""
    assert turn.actor is not None
    async with services.db.session() as session:
        engagement = await team_engagement(
            session,
            turn,
            engagement_id,
            "see questions",
            "Only the council running it can see these.",
        )
        if not isinstance(engagement, Engagement):
            return engagement
        waiting = await waiting_questions(session, engagement.id)
        names = dict(
            (
                await session.execute(
                    select(Organisation.id, Organisation.name).where(
                        Organisation.id.in_([q.asked_for for q in waiting if q.asked_for])
                    )
                )
            ).all()
        )
    sections = [
        Section(
            heading=f"Asked {format_when(q.asked_at, turn.actor.timezone)}" if q.asked_at else None,
            text=f"{q.question}\n(From {names.get(q.asked_for, 'a provider') if q.asked_for else 'a provider'}. "
            "Only your team sees this; the published answer never names them.)",
            buttons=[
                Button(
                    label="Answer it for everyone",
                    action="cmd.engagements",
                    value=f"reply {engagement.id} {q.id}",
                    style="primary",
                )
            ],
        )
        for q in waiting
    ]
    return [
        Message(
            title=f"Questions about {engagement.title}",
            text=None if waiting else "There are no questions waiting for an answer.",
            sections=sections,
        )
    ]


ASK = AskQuestion()
ANSWER = AnswerQuestion()
UPDATE = PublishUpdate()


async def ask(turn: Turn, services: Services) -> list[Reply]:
    return await open_form(turn, services, ASK)


async def reply_to_question(turn: Turn, services: Services) -> list[Reply]:
    return await open_form(turn, services, ANSWER)


async def post_update(turn: Turn, services: Services) -> list[Reply]:
    return await open_form(turn, services, UPDATE)
