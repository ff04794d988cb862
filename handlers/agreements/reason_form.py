"""The reason form: the agreement steps that need a reason ask for it in a form when it was
not typed, so the web (where there is nowhere to type `reason="..."`) can run them too.

`agreements variation 5 approve` (or `reject`, `disagree`) and `agreements assessment 3
decide` (or `respond`) with no reason open a one-question form on every door: a web page, a
Slack modal, a Teams card, or the question in chat. The answer runs the same service step as
the typed words (`variations.variation_in`, `assessments.assessment_in`), in the form's own
unit of work, so the checks, the record and the replies are the same either way. A reason
that was typed runs the step at once, as before.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Reply
from bot.core.turn import Turn, parse_command
from bot.services import Services
from handlers.agreements import assessments, variations
from handlers.agreements.common import COMMAND, NotYours, load_for_viewer
from handlers.forms import FormPurpose, Subject, open_form
from storage.assessment_tables import PerformanceAssessment
from storage.models import FormResponse
from storage.variation_tables import AgreementVariation
from storage.visibility import Refusal

FORM_KEY = "agreement_reason"

#: The steps that need words, by (thing, step): the typed argument the answer fills in.
NEEDS_WORDS = {
    ("variation", "disagree"): "reason",
    ("variation", "approve"): "reason",
    ("variation", "reject"): "reason",
    ("assessment", "decide"): "reason",
    ("assessment", "respond"): "text",
}

_WHAT = {
    "disagree": "Why do you disagree with variation {n}?",
    "approve": "Why approve variation {n}?",
    "reject": "Why reject variation {n}?",
    "decide": "Your decision on assessment {n}, and why",
    "respond": "What do you think of assessment {n}?",
}


def _step(words: list[str]) -> tuple[str, int, str] | None:
    """`variation 5 approve` as ("variation", 5, "approve"), when it is a step that needs words."""
    if len(words) < 3 or not words[1].isdigit():
        return None
    thing, number, step = words[0].lower(), int(words[1]), words[2].lower()
    return (thing, number, step) if (thing, step) in NEEDS_WORDS else None


def _typed(turn: Turn) -> list[str]:
    words, _ = parse_command(turn.text or "")
    return words[1:]


def topic_for(thing: str, number: int, step: str) -> str:
    return f"agreement-reason:{thing} {number} {step}"


def step_of(response: FormResponse) -> tuple[str, int, str]:
    assert response.topic is not None
    found = _step(response.topic.split(":", 1)[1].split())
    assert found is not None
    return found


class ReasonForm(FormPurpose):
    """The one question a step needs: the reason (or the response) in the person's words."""

    form_key = FORM_KEY
    command = COMMAND
    confirms_itself = True

    def resume(self, response: FormResponse) -> str:
        thing, number, step = step_of(response)
        return f"{thing} {number} {step}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        found = _step(_typed(turn))
        if found is None:
            return Refusal("That step needs no reason.")
        thing, number, step = found
        # Only the agreement's team and its parties get as far as the question: anyone else is
        # told it was not found, as the step itself would, so the form reveals nothing.
        # Which side may take the step is checked again by the step when it runs.
        row: AgreementVariation | PerformanceAssessment | None = (
            await session.get(AgreementVariation, number)
            if thing == "variation"
            else await session.get(PerformanceAssessment, number)
        )
        try:
            await load_for_viewer(
                session, turn, row.agreement_id if row is not None else None, f"{thing}.{step}"
            )
        except NotYours as refused:
            return Refusal(str(refused))
        return Subject(
            None,
            label=_WHAT[step].format(n=number),
            topic=topic_for(thing, number, step),
        )

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        thing, number, step = step_of(response)
        answer = str((response.answers or {}).get("reason") or "").strip()
        typed = replace(
            turn,
            text=f"{COMMAND} {thing} {number} {step}",
            args={NEEDS_WORDS[(thing, step)]: answer},
            action=None,
            submission=None,
        )
        if thing == "variation":
            return await variations.variation_in(session, typed, services, number)
        return await assessments.assessment_in(session, typed, services, number)


FORM = ReasonForm()


def _missing_words(turn: Turn) -> bool:
    found = _step(_typed(turn))
    return found is not None and not any(
        (turn.args.get(key) or "").strip() for key in ("reason", "text")
    )


async def variation(turn: Turn, services: Services, variation_id: int) -> list[Reply]:
    """`agreements variation V ...`: with no reason where one is needed, the form asks it."""
    if _missing_words(turn):
        return await open_form(turn, services, FORM)
    return await variations.variation(turn, services, variation_id)


async def assessment(turn: Turn, services: Services, assessment_id: int) -> list[Reply]:
    """`agreements assessment A ...`: with no reason (or response), the form asks it."""
    if _missing_words(turn):
        return await open_form(turn, services, FORM)
    return await assessments.assessment(turn, services, assessment_id)
