"""The framework proposal form: `agreements framework N` with nothing after it opens a form
on every door (web, Slack modal, Teams card, chat one question at a time) that asks what
`agreements framework N add outcome ...` takes.

One service step, two ways in: the answers become the same words the typed step reads
(`outcomes.read_request`) and go to the same `outcomes.propose`, so the other side is sent
the proposal at once, with Accept and Decline buttons, whichever way it was made. A proposal
that doesn't read (no number where one is needed, no words to add) sends the form back with
the reason and keeps nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements import outcomes
from handlers.agreements.common import COMMAND, Refused, load_for_viewer, refuse
from handlers.engagements.common import number_at
from handlers.forms import FormPurpose, Subject, open_form
from storage.models import FormResponse
from storage.visibility import Refusal

FORM_KEY = "outcomes_proposal"


def topic_for(agreement_id: int) -> str:
    return f"agreement:{agreement_id}:framework"


def agreement_of(response: FormResponse) -> int:
    assert response.topic is not None
    return int(response.topic.split(":")[1])


def words_of_answers(answers: dict[str, Any]) -> list[str]:
    """The answers as the typed words after `framework N` (`add indicator 1 Words`)."""
    words = [str(answers.get("action") or ""), str(answers.get("kind") or "")]
    number = str(answers.get("number") or "").strip()
    if number:
        words.append(number)
    words.extend(str(answers.get("words") or "").split())
    return words


class FrameworkForm(FormPurpose):
    """`agreements framework N`: either side proposes one change."""

    form_key = FORM_KEY
    command = COMMAND
    confirms_itself = True

    def resume(self, response: FormResponse) -> str:
        return f"{outcomes.CHANGE_STEP} {agreement_of(response)}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            agreement = await load_for_viewer(
                session, turn, number_at(turn, 1), outcomes.CHANGE_STEP
            )
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=topic_for(agreement.id)
        )

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        request = outcomes.read_request(words_of_answers(answers))
        if isinstance(request, str):
            agreement = await load_for_viewer(
                session, turn, agreement_of(response), outcomes.CHANGE_STEP
            )
            await refuse(session, turn, agreement, outcomes.CHANGE_STEP, "request does not parse")
            field = "number" if "number" in request else "words"
            return {field: f"{request} Nothing was proposed."}
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        request = outcomes.read_request(words_of_answers(response.answers))
        try:
            agreement = await load_for_viewer(
                session, turn, agreement_of(response), outcomes.CHANGE_STEP
            )
            if not isinstance(request, outcomes.Ask):
                raise outcomes.BadRequest("That proposal does not read. Nothing was proposed.")
            side = outcomes.side_of(turn, agreement)
            proposed = await outcomes.propose(
                session, turn, agreement, request, services.clock.now()
            )
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return outcomes.proposed_replies(proposed, side)


FORM = FrameworkForm()


async def change_framework(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements framework N` opens the form; with words after it, they are read at once."""
    if outcomes.raw_words(turn):
        return await outcomes.change_framework(turn, services, agreement_id)
    return await open_form(turn, services, FORM)
