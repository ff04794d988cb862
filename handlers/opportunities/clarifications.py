"""Clarifications for an opportunity: the engagement mechanism (`handlers/clarifications.py`)
with an opportunity as its subject, plus its last day for questions.

A provider asks privately (`opportunities ask N`); the team sees who asked
(`opportunities questions N`) and answers (`opportunities answer N Q`); the answer goes to
everyone told about the opportunity or interested in it (and every organisation that asked
about it) at the same moment, never naming the asker, and is in the full details for every
provider (`opportunities show N`). After the last day for questions, asking is refused with
that day in full; the team can still answer what was asked in time, and send changes to
everyone (`opportunities amend N`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Message, Notice, Reply, Section, command_ref
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers import clarifications as shared
from handlers.clarifications import ClarificationSubject
from handlers.forms import FormPurpose, Subject
from handlers.membership import HOW_TO_JOIN
from handlers.opportunities.announce import tell_everyone
from handlers.opportunities.common import (
    COMMAND,
    NOT_FOUND,
    Refused,
    load_for_team,
    number_at,
    refuse,
    words_of,
)
from handlers.opportunities.setup import TeamForm, opportunity_of, opportunity_topic, which_one
from storage import clarifications
from storage.clarification_tables import About, Clarification
from storage.models import FormResponse
from storage.opportunity_tables import AnnouncementKind, Opportunity, OpportunityState
from storage.visibility import Refusal


class OpportunityQuestions(ClarificationSubject):
    """An opportunity as the subject of clarifications: everyone told about it or interested
    in it hears every answer; asking closes on its last day for questions."""

    command = COMMAND
    everyone = "everyone told about this opportunity or interested in it"
    people_words = "told about it or interested in it"

    def __init__(self, opportunity: Opportunity) -> None:
        self.opportunity = opportunity
        self.about = About("opportunity", opportunity.id)
        self.title = opportunity.title
        self.authority_id = opportunity.authority_id

    def answer_step(self, question_id: int) -> str:
        return f"answer {self.opportunity.id} {question_id}"

    def asking_closed(self, now: datetime, tz: ZoneInfo) -> str | None:
        o = self.opportunity
        deadline = o.submission_deadline
        if o.state != OpportunityState.OPEN or deadline is None or now >= deadline:
            return (
                f"{o.title} is not open for bids now, so it takes no questions. Nothing was sent."
            )
        last_day = o.clarification_deadline
        if last_day is not None and now >= last_day:
            return (
                f"The last day for questions about {o.title} was {format_when(last_day, tz)}, "
                "so the council can't take new questions now. Nothing was sent. Every answer "
                f"already given is in the full details: "
                f"{command_ref(f'{COMMAND} show {o.id}', f'the details of {o.title}')}."
            )
        return None

    def publishing_closed(self, now: datetime) -> str | None:
        o = self.opportunity
        if o.state == OpportunityState.OPEN:
            return None
        return (
            f"{o.title} is not open, so nothing more can be published about it. Nothing was sent."
        )

    async def refuse(self, session: AsyncSession, turn: Turn, attempted: str, reason: str) -> None:
        await refuse(session, turn, self.opportunity, attempted, reason)

    async def send_to_everyone(
        self, session: AsyncSession, message: Message, item: Clarification, now: datetime
    ) -> int:
        told = await tell_everyone(
            session, self.opportunity, message, AnnouncementKind.CLARIFICATION, str(item.id), now
        )
        return told.people


# --- asking ----------------------------------------------------------------------------------


class AskQuestion(FormPurpose):
    """A provider's question about a published opportunity, while questions are open."""

    form_key = "opportunity_question"
    command = COMMAND
    confirms_itself = True

    def resume(self, response: FormResponse) -> str:
        return f"ask {opportunity_of(response)}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        organisations = sorted(turn.actor.member_of())
        opportunity_id = number_at(turn, 1)
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
        if opportunity is None or opportunity.state == OpportunityState.DRAFT:
            return Refusal(NOT_FOUND if len(words_of(turn)) > 1 else which_one("ask"))
        if not organisations:
            await refuse(session, turn, opportunity, "ask", "not a provider")
            return Refusal(HOW_TO_JOIN)
        closed = await _asking_closed(session, turn, services, opportunity)
        if closed is not None:
            return closed
        return Subject(
            organisations[0],
            opportunity.authority_id,
            topic=f"{opportunity_topic(opportunity.id)}:question",
        )

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        """Its own organisation's members, and only while questions are open (a draft
        opened in time can't be sent after the last day)."""
        refusal = await super().may_answer(session, turn, services, response)
        if refusal is not None:
            return refusal
        opportunity = await session.get(Opportunity, opportunity_of(response))
        if opportunity is None:
            return Refusal(NOT_FOUND)
        return await _asking_closed(session, turn, services, opportunity)

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        opportunity = await session.get(Opportunity, opportunity_of(response))
        assert opportunity is not None
        try:
            asked = await shared.ask_question(
                session,
                turn,
                OpportunityQuestions(opportunity),
                response.organisation_id,
                response.answers["question"],
                services.clock.now(),
            )
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return shared.asked_replies(asked)


async def _asking_closed(
    session: AsyncSession, turn: Turn, services: Services, opportunity: Opportunity
) -> Refusal | None:
    """Refused (and on the record) once the opportunity takes no more questions."""
    assert turn.actor is not None
    subject = OpportunityQuestions(opportunity)
    closed = subject.asking_closed(services.clock.now(), turn.actor.timezone)
    if closed is None:
        return None
    await subject.refuse(session, turn, "ask", closed)
    return Refusal(closed)


# --- answering -------------------------------------------------------------------------------


class AnswerQuestion(TeamForm):
    """The team answers one question: for everyone (the rule), or for the asker alone."""

    form_key = "opportunity_answer"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id, question_id = number_at(turn, 1), number_at(turn, 2)
        if opportunity_id is None or question_id is None:
            return Refusal(
                "Which question? Open the opportunity from the list to see the questions "
                "waiting, each with a button to answer it: "
                f"{command_ref(COMMAND, 'the opportunities')}."
            )
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, "answer question")
        except Refused as refused:
            return Refusal(refused.message)
        subject = OpportunityQuestions(opportunity)
        closed = subject.publishing_closed(services.clock.now())
        if closed is not None:
            await subject.refuse(session, turn, "answer question", closed)
            return Refusal(closed)
        question = await shared.waiting_question(session, subject, question_id, lock=False)
        if question is None:
            return Refusal("That question has been answered already, or it isn't there.")
        return Subject(
            None,
            opportunity.authority_id,
            topic=f"{opportunity_topic(opportunity.id)}:answer:{question.id}",
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        question = await session.get(Clarification, _question_of(subject.topic))
        return {"question": question.question, "who_for": shared.EVERYONE} if question else {}

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        return shared.answer_form_problems(answers)

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        try:
            opportunity = await load_for_team(
                session, turn, opportunity_of(response), "answer question"
            )
            published = await shared.answer_question(
                session,
                turn,
                OpportunityQuestions(opportunity),
                _question_of(response.topic),
                response.answers["question"],
                response.answers["answer"],
                services.clock.now(),
                privately_because=shared.private_reason(response.answers),
            )
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return shared.published_replies(published, turn.actor.timezone)


def _question_of(topic: str | None) -> int:
    """`opportunity:4:answer:9` gives 9."""
    return int((topic or "").rsplit(":", 1)[-1])


async def questions_to_answer(
    turn: Turn, services: Services, opportunity_id: int | None
) -> list[Reply]:
    """`opportunities questions 4`: the team's list of questions waiting (with who asked)."""
    assert turn.actor is not None
    async with services.db.session() as session:
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, "see questions")
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        subject = OpportunityQuestions(opportunity)
        waiting = await clarifications.waiting(session, subject.about)
        return await shared.waiting_view(session, subject, waiting, turn.actor.timezone)


# --- the log, in the full details ------------------------------------------------------------


async def questions_and_answers(
    session: AsyncSession, actor: Actor, opportunity: Opportunity, *, team: bool
) -> list[Section]:
    """The Q&A log for `show`: everything answered for everyone (every provider sees it),
    plus answers given to this provider's own organisation alone; the team sees every
    answer, with its reasons and how edited questions were first asked."""
    about = About("opportunity", opportunity.id)
    log = await clarifications.published(session, about, private_for=actor.member_of())
    if team:
        log = sorted(
            [*log, *await clarifications.answered_privately(session, about)],
            key=lambda c: (c.published_at, c.id),
        )
    return shared.log_section(log, team)


async def waiting_count(session: AsyncSession, opportunity: Opportunity) -> int:
    return len(await clarifications.waiting(session, About("opportunity", opportunity.id)))


def asking_open(opportunity: Opportunity, now: datetime, tz: ZoneInfo) -> bool:
    return OpportunityQuestions(opportunity).asking_closed(now, tz) is None


ASK = AskQuestion()
ANSWER = AnswerQuestion()
