"""Monitoring as forms (issue 15): the check-in answer and the plan proposal, on every door.

The check-in form is made for each check-in from its plan (form key `checkin-<id>`): the
plan's chosen questions, a red/amber/green choice only when the plan has one, one optional
value per indicator of the agreement's outcomes framework, and "anything else". The plan
form (`monitoring_plan`) asks how often, how, which suggested questions, whether to rate,
the reporting timeline and any targets. Both go through `handlers.forms` like every other
form (drafts, chat one question at a time, page checks) and end in the same service step as
the typed command (`monitoring.record_answer`, `monitoring.propose_plan`): two ways in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import Choice, Field, FieldType, FormDefinition, Page
from bot.core.reply import Notice, Reply, command_ref
from bot.core.turn import Turn, parse_command
from bot.services import Services
from handlers.agreements import evidence, monitoring
from handlers.agreements.common import COMMAND, Refused, load_for_viewer
from handlers.agreements.outcomes import framework_of
from handlers.engagements.common import number_at
from handlers.forms import FormPurpose, Subject, open_form
from storage.agreement_tables import Agreement
from storage.forms import latest_definition, save_definition
from storage.models import FormResponse
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow, PlanState
from storage.visibility import Refusal

CHECKIN_FORM_PREFIX = "checkin-"
INDICATOR_FIELD = "indicator_"
RAG_HELP = (
    "Green: going as planned. Amber: some things are harder than planned, and you are "
    "working on them. Red: you need to talk about it soon. It is one view of how things are, "
    "not a mark, and it is never shown beside other providers."
)


def checkin_form_key(checkin_id: int) -> str:
    return f"{CHECKIN_FORM_PREFIX}{checkin_id}"


async def build_checkin_form(
    session: AsyncSession, checkin: CheckinRow, agreement: Agreement, plan: MonitoringPlanRow | None
) -> FormDefinition:
    """The check-in's own form, from its questions, its plan's rating and the framework."""
    asked = [
        Field(id=q, type=FieldType.LONG_TEXT, label=monitoring.QUESTIONS[q], max_length=4000)
        for q in checkin.questions
        if q in monitoring.QUESTIONS
    ]
    if plan is not None and plan.rag:
        asked.append(
            Field(
                id="rag",
                type=FieldType.SINGLE_CHOICE,
                label="How would you rate it: red, amber or green?",
                help=RAG_HELP,
                required=True,
                choices=[Choice(value=c, label=c.capitalize()) for c in monitoring.RAG],
            )
        )
    framework = await framework_of(session, agreement)
    indicators = [
        Field(
            id=f"{INDICATOR_FIELD}{indicator.id}",
            type=FieldType.SHORT_TEXT,
            label=f"{number}.{inner} {indicator.text}"[:200],
            hint="Optional: the latest figure or a few words.",
            max_length=400,
        )
        for number, (_, inner_list) in enumerate(framework.outcomes, start=1)
        for inner, indicator in enumerate(inner_list, start=1)
    ]
    notes = Field(
        id="notes",
        type=FieldType.LONG_TEXT,
        label="Anything else you would like the council's team to know?",
        max_length=4000,
    )
    pages: list[Page] = []
    if asked:
        pages.append(Page(id="questions", title="The questions", fields=asked))
    for start in range(0, len(indicators), 25):
        pages.append(
            Page(
                id=f"indicators_{start // 25 + 1}",
                title="Indicators",
                intro="One optional value for each indicator you agreed.",
                fields=indicators[start : start + 25],
            )
        )
    pages.append(Page(id="anything_else", title="Anything else", fields=[notes]))
    return FormDefinition(
        key=checkin_form_key(checkin.id),
        title=f"Check-in: {agreement.title}"[:200],
        intro="Every question is optional: answer the ones that help. Nothing is sent until "
        "you press Send on the last page.",
        who_sees=monitoring.ANSWER_SEES,
        pages=pages,
    )


def _typed(turn: Turn) -> dict[str, str]:
    _, args = parse_command(turn.text or "")
    return args


class CheckinAnswers(FormPurpose):
    """The reporting organisation's answers to one check-in (form key `checkin-<id>`)."""

    form_key = CHECKIN_FORM_PREFIX
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            checkin, agreement = await monitoring.load_to_answer(session, turn, number_at(turn, 1))
        except Refused as refusal:
            return Refusal(refusal.message)
        if checkin.answered_at is not None:
            return Refusal(
                f"This check-in was answered on {format_when(checkin.answered_at)}. "
                f"To see it, or reply to the team: "
                f"{command_ref(f'{COMMAND} checkin {checkin.id}', f'check-in {checkin.id}')}."
            )
        if await latest_definition(session, checkin_form_key(checkin.id)) is None:
            plan = await session.get(MonitoringPlanRow, checkin.plan_id)
            definition = await build_checkin_form(session, checkin, agreement, plan)
            await save_definition(session, definition, version=1, source="checkin")
        if checkin.opened_at is None:  # the burden meter times from opening to sending
            checkin.opened_at = services.clock.now()
        return Subject(
            checkin.organisation_id,
            agreement.authority_id,
            label=agreement.title,
            topic=f"checkin:{checkin.id}",
            form_key=checkin_form_key(checkin.id),
        )

    def resume(self, response: FormResponse) -> str:
        return f"answer {(response.topic or ':').split(':')[1]}"

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        given = [k for k, v in answers.items() if k != "rag" and str(v or "").strip()]
        if given:
            return {}
        return {"notes": "Answer at least one question, give one value, or write something here."}

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        checkin, agreement, args, indicators = await _answered(session, turn, response, answers)
        problem = await monitoring.answer_problem(
            session, turn, checkin, agreement, args, indicators
        )
        return {"notes": problem} if problem else {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        try:
            checkin, agreement, args, indicators = await _answered(
                session, turn, response, response.answers
            )
        except Refused as refusal:
            return [Notice(text=refusal.message, level="warning")]
        try:
            return await monitoring.record_answer(
                session, turn, services, checkin, agreement, args, indicators
            )
        except Refused as refusal:  # answered meanwhile from another door: nothing changes
            return [Notice(text=refusal.message, level="warning")]


async def _answered(
    session: AsyncSession, turn: Turn, response: FormResponse, answers: dict[str, Any]
) -> tuple[CheckinRow, Agreement, dict[str, str], dict[int, str]]:
    """The check-in a response answers, and its answers as the typed step takes them."""
    checkin_id = int(response.form_key.removeprefix(CHECKIN_FORM_PREFIX))
    checkin, agreement = await monitoring.load_to_answer(session, turn, checkin_id)
    args = {
        k: str(v).strip()
        for k, v in answers.items()
        if (k in monitoring.QUESTIONS or k in ("notes", "rag")) and str(v or "").strip()
    }
    indicators = {
        int(k.removeprefix(INDICATOR_FIELD)): str(v).strip()
        for k, v in answers.items()
        if k.startswith(INDICATOR_FIELD) and str(v or "").strip()
    }
    return checkin, agreement, args, indicators


CHECKIN = CheckinAnswers()


async def answer_step(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements answer C`: the form (every door, or chat); with typed answers, as before."""
    if turn.attachments:
        return await evidence.answer_with_files(turn, services, checkin_id)
    if _typed(turn):
        return await monitoring.answer(turn, services, checkin_id)
    return await open_form(turn, services, CHECKIN)


# --- the plan ------------------------------------------------------------------------------


def plan_args(answers: dict[str, Any]) -> dict[str, str]:
    """The plan form's answers in the words the typed step reads."""
    frequency = str(answers.get("frequency") or "")
    rag = answers.get("rag")
    args = {
        "frequency": "" if frequency == "dates" else frequency,
        "weeks": str(answers["weeks"]) if answers.get("weeks") not in (None, "") else "",
        "dates": str(answers.get("dates") or "") if frequency == "dates" else "",
        "method": str(answers.get("method") or ""),
        "questions": ",".join(answers.get("questions") or []),
        "rag": "yes" if rag is True or rag == "yes" else "no",
        "timeline": str(answers.get("timeline") or ""),
        "targets": str(answers.get("targets") or ""),
    }
    if frequency != "every_n_weeks":
        args["weeks"] = ""
    return args


def _field_of(problem: str) -> str:
    """Which question of the plan form a problem is about."""
    lowered = problem.lower()
    if "week" in lowered:
        return "weeks"
    if "date" in lowered:
        return "dates"
    if "method" in lowered or "how you will" in lowered:
        return "method"
    return "frequency"


class PlanProposal(FormPurpose):
    """A monitoring plan proposed by the team or a provider party (form `monitoring_plan`)."""

    form_key = "monitoring_plan"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            agreement = await load_for_viewer(session, turn, number_at(turn, 1), "plan")
        except Refused as refusal:
            return Refusal(refusal.message)
        existing = await monitoring.plan_of(session, agreement.id)
        if existing is not None and existing.state == PlanState.AGREED:
            agreed = await monitoring.plan_refusal(session, turn, agreement, {})
            assert agreed is not None
            return Refusal(agreed.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=f"plan:{agreement.id}"
        )

    def resume(self, response: FormResponse) -> str:
        return f"plan {(response.topic or ':').split(':')[1]}"

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        frequency = answers.get("frequency")
        if frequency == "every_n_weeks" and not answers.get("weeks"):
            return {"weeks": "Say how many weeks apart, like 6."}
        if frequency == "dates" and not str(answers.get("dates") or "").strip():
            return {"dates": "Write the dates, like 2026-06-30, 2026-12-31."}
        return {}

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        agreement = await _plan_agreement(session, turn, response)
        refusal = await monitoring.plan_refusal(session, turn, agreement, plan_args(answers))
        if refusal is None:
            return {}
        return {_field_of(refusal.message): refusal.message}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        try:
            agreement = await _plan_agreement(session, turn, response)
            return await monitoring.propose_plan(
                session, turn, services, agreement, plan_args(response.answers)
            )
        except Refused as refusal:  # agreed meanwhile by the other side: nothing changes
            return [Notice(text=refusal.message, level="warning")]


async def _plan_agreement(session: AsyncSession, turn: Turn, response: FormResponse) -> Agreement:
    agreement_id = int((response.topic or ":").split(":")[1])
    return await load_for_viewer(session, turn, agreement_id, "plan")


PLAN = PlanProposal()


async def plan_step(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements plan N`: the form; with typed words (`frequency=...`), as before."""
    if _typed(turn):
        return await monitoring.propose(turn, services, agreement_id)
    return await open_form(turn, services, PLAN)
