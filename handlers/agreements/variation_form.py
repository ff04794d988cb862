"""The variation form: `agreements vary N` with nothing after it opens a form on every
door (a web page, a Slack modal, a Teams card, or one question at a time in chat) that asks
what `agreements vary N what="..." why="..." ...` takes, with help in plain words.

One service step, two ways in: the form's answers are read by the same
`variations.checked_request` and saved by the same `variations.request_variation` as the
typed words. A bad answer (money that doesn't read, an end before the start, a link to a
variation of another agreement) sends the form back with the reason, saves nothing, and is
on the record. Anyone who is neither the council's team nor a party is told the agreement
was not found, as for every agreements step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements import variations
from handlers.agreements.common import COMMAND, Refused, load_for_viewer
from handlers.agreements.variations import (
    BadVariation,
    checked_request,
    pounds_change,
    request_variation,
    requested_replies,
    still_running,
    term_words,
)
from handlers.engagements.common import number_at
from handlers.forms import FormPurpose, Subject, open_form
from storage.agreement_tables import Agreement
from storage.models import FormResponse
from storage.variations import variations_of
from storage.visibility import Refusal

FORM_KEY = "agreement_variation"

#: Which field a problem with the request belongs to, by a word in its message.
_FIELD_OF = (
    ("money", "value"),
    ("number of days", "term"),
    ("days off", "term"),
    ("as a date", "ends"),
    ("end (", "ends"),
    ("not both", "term"),
    ("variation numbers", "linked"),
    ("earlier variation", "linked"),
)


def topic_for(agreement_id: int) -> str:
    return f"agreement:{agreement_id}:variation"


def agreement_of(response: FormResponse) -> int:
    assert response.topic is not None
    return int(response.topic.split(":")[1])


#: The form's questions, named as the typed step's words.
_ANSWERS = ("what", "why", "value", "term", "ends", "evidence", "linked")


def args_of(answers: dict[str, Any]) -> dict[str, str]:
    """The form's answers as the typed step's words."""
    return {key: str(answers.get(key) or "") for key in _ANSWERS}


def field_of(problem: str) -> str:
    """The field to show a problem against (the first page's `what` when none fits)."""
    return next((field for word, field in _FIELD_OF if word in problem), "what")


class VariationForm(FormPurpose):
    """`agreements vary N`: either side asks for a change."""

    form_key = FORM_KEY
    command = COMMAND
    confirms_itself = True

    def resume(self, response: FormResponse) -> str:
        return f"vary {agreement_of(response)}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            agreement = await load_for_viewer(session, turn, number_at(turn, 1), "vary")
            await still_running(session, turn, services, agreement)
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=topic_for(agreement.id)
        )

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        """The agreement's earlier variations, by number, to pick a series from."""
        assert subject.topic is not None
        agreement_id = int(subject.topic.split(":")[1])
        earlier = await variations_of(session, agreement_id)
        if not earlier:
            return [Notice(level="info", text=f"{subject.label} has no earlier variations.")]
        lines = [
            f"Variation {v.id}: {v.what_changes} (value {pounds_change(v.value_change_pence)}, "
            f"term {term_words(v)}; {v.state})"
            for v in earlier
        ]
        return [
            Notice(
                level="info",
                text=f"Earlier variations of {subject.label}, to pick a series from:\n"
                + "\n".join(lines),
            )
        ]

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        """The same reading as the typed step; a problem goes on the record there."""
        try:
            agreement = await load_for_viewer(session, turn, agreement_of(response), "vary")
            await still_running(session, turn, services, agreement)
            await checked_request(session, turn, agreement, args_of(answers))
        except BadVariation as bad:
            return {field_of(bad.message): bad.message}
        except Refused as refused:
            return {"what": refused.message}
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        try:
            variation = await request_variation(
                session, turn, services, agreement_of(response), args_of(response.answers)
            )
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        agreement = await session.get(Agreement, variation.agreement_id)
        assert agreement is not None
        return requested_replies(agreement, variation)


FORM = VariationForm()


async def vary(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements vary N` opens the form; with any of its answers typed (`what=...
    why=...`) it asks at once, and says what is missing."""
    if set(turn.args) & set(_ANSWERS):
        return await variations.vary(turn, services, agreement_id)
    return await open_form(turn, services, FORM)
