"""Clarifications for an engagement, equal for all: a provider asks, the council answers
everyone taking part at once.

The mechanism is shared with opportunities (`handlers/clarifications.py`); this module says
what "everyone" means for an engagement (its participants), when it is open, and holds the
engagement's forms. The published question never names the asker or their organisation
(the commissioning team can see who asked; nobody else can). Everything published is in
the engagement's Q&A log, which every participant can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Message, Reply, ReplyList
from bot.core.turn import Turn
from bot.services import Services
from handlers import clarifications as shared
from handlers.clarifications import (
    EDITED_MARK,
    ClarificationSubject,
    keep_original,
    published_question,
)
from handlers.engagements.common import (
    ProviderForm,
    Refused,
    TeamForm,
    is_open,
    number_at,
    open_engagement,
    refusal_replies,
    refuse,
    submitted_engagement,
    team_engagement,
)
from handlers.forms import Subject, form_step
from storage.clarification_tables import About
from storage.engagement_tables import Clarification, Engagement
from storage.engagements import add_participants, participant_people, waiting_questions
from storage.models import FormResponse
from storage.outbox import send_to_people
from storage.visibility import Refusal

__all__ = ["EDITED_MARK", "keep_original", "published_question"]


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


async def tell_the_team(
    session: AsyncSession, engagement: Engagement, message: Message, key: str, now: datetime
) -> None:
    """Let the engagement's commissioning team know something needs them."""
    await shared.tell_the_team(session, engagement.authority_id, message, key, now)


class EngagementQuestions(ClarificationSubject):
    """An engagement as the subject of clarifications: everyone taking part hears every
    answer, and questions and answers close when it closes."""

    command = "engagements"
    everyone = "everyone taking part"
    people_words = "taking part"

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement
        self.about = About("engagement", engagement.id)
        self.title = engagement.title
        self.authority_id = engagement.authority_id

    def answer_step(self, question_id: int) -> str:
        return f"reply {self.engagement.id} {question_id}"

    def asking_closed(self, now: datetime, tz: ZoneInfo) -> str | None:
        return None if is_open(self.engagement, now) else "This engagement has closed."

    def publishing_closed(self, now: datetime) -> str | None:
        if is_open(self.engagement, now):
            return None
        return AskQuestion.closed.format(title=self.engagement.title)

    async def refuse(self, session: AsyncSession, turn: Turn, attempted: str, reason: str) -> None:
        await refuse(session, turn, self.engagement, attempted, reason)

    async def send_to_everyone(
        self, session: AsyncSession, message: Message, item: Clarification, now: datetime
    ) -> int:
        key = f"engagement:{self.engagement.id}:clarification:{item.id}"
        return await publish_to_participants(session, self.engagement, message, key, now)

    async def asked(
        self, session: AsyncSession, organisation_id: int | None, now: datetime
    ) -> None:
        """Asking a question makes the organisation a participant from now on."""
        if organisation_id is not None:
            await add_participants(session, self.engagement.id, [organisation_id], joined_at=now)


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
        engagement = await submitted_engagement(session, response)
        try:
            asked = await shared.ask_question(
                session,
                turn,
                EngagementQuestions(engagement),
                response.organisation_id,
                response.answers["question"],
                services.clock.now(),
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        return shared.asked_replies(asked)


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
        question = await shared.waiting_question(
            session, EngagementQuestions(engagement), number_at(turn, 2), lock=False
        )
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
        return {"question": question.question, "who_for": shared.EVERYONE} if question else {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert response.topic is not None and turn.actor is not None
        engagement = await submitted_engagement(session, response)
        try:
            published = await shared.answer_question(
                session,
                turn,
                EngagementQuestions(engagement),
                int(response.topic.split(":")[1]),
                response.answers["question"],
                response.answers["answer"],
                services.clock.now(),
                privately_because=shared.private_reason(response.answers),
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        return shared.published_replies(published, turn.actor.timezone)

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        return shared.answer_form_problems(answers)


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
        assert turn.actor is not None
        engagement = await submitted_engagement(session, response)
        try:
            published = await shared.publish_update(
                session,
                turn,
                EngagementQuestions(engagement),
                response.answers["title"],
                response.answers["text"],
                services.clock.now(),
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        return shared.published_replies(published, turn.actor.timezone)


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
        return await shared.waiting_view(
            session, EngagementQuestions(engagement), waiting, turn.actor.timezone
        )


ASK = AskQuestion()
ANSWER = AnswerQuestion()
UPDATE = PublishUpdate()


ask = form_step(ASK)


reply_to_question = form_step(ANSWER)


post_update = form_step(UPDATE)
