"""The route and its checklist, for the council's team only.

- `opportunities route 4`: six guided questions (the form `opportunity_route`), answered
  again with the last answers filled in. The answers and the procurement's start date go to
  `bot.core.law.choose_route`; the route, its reasons and the law behind each are shown.
  Health care under the Provider Selection Regime is flagged and handed off.
- `opportunities checklist 4`: the route's notices and steps in order, with due dates in
  full, and what is done.
- `opportunities done 4 [step]`: record a step done, with the notice's identifier (a form);
  `opportunities undo 4 step` marks it not done again. Both are on the record.

Providers never see any of it: every step starts with `load_for_team`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.law import (
    ROUTE_FORM_KEY,
    ChecklistDateError,
    Route,
    RouteDecision,
    StepKey,
    choose_route,
)
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import Subject, form_view, topic_number
from handlers.opportunities.common import (
    COMMAND,
    Refused,
    load_for_team,
    number_at,
    refuse,
    words_of,
)
from handlers.opportunities.routing import (
    CONTRACT_SIGNED,
    Step,
    checklist_steps,
    decision_for,
    full_day,
    how_to_choose,
    recorded,
    today,
)
from handlers.opportunities.setup import TeamForm, opportunity_of, opportunity_topic, which_one
from storage import audit
from storage.models import FormResponse, ResponseState
from storage.opportunity_route_tables import OpportunityChecklistStep, OpportunityRoute
from storage.opportunity_routes import organisations_named, route_of, step_done
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.visibility import Refusal

TEAM_ONLY = (
    "Only your council's commissioning team sees the route questions, your answers and the "
    "checklist. Providers never see them."
)


def _back_to_draft(response: FormResponse) -> None:
    """A form refused on sending stays a draft, so the person can fix it and send again."""
    response.state = ResponseState.DRAFT
    response.submitted_at = None


# --- choosing the route ----------------------------------------------------------------------


class RouteForm(TeamForm):
    """The six route questions for one draft opportunity."""

    form_key = ROUTE_FORM_KEY

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(which_one("route"))
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, "route")
        except Refused as refused:
            return Refusal(refused.message)
        if opportunity.state != OpportunityState.DRAFT:
            return Refusal(
                f"{opportunity.title} is published, so its route can't change now. See its route and "
                f"checklist: "
                + command_ref(
                    f"{COMMAND} checklist {opportunity.id}",
                    f"the checklist for opportunity {opportunity.id}",
                )
                + "."
            )
        return Subject(
            None, opportunity.authority_id, topic=f"{opportunity_topic(opportunity.id)}:route"
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        """The last answers; the first time, the value the opportunity gives."""
        opportunity_id = opportunity_of_topic(subject.topic)
        if opportunity_id is None:
            return {}
        choice = await route_of(session, opportunity_id)
        if choice is not None:
            return dict(choice.answers)
        opportunity = await session.get(Opportunity, opportunity_id)
        value = opportunity and (opportunity.value_max_pence or opportunity.value_min_pence)
        return {"value": value} if value else {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        chosen = await choose_for(session, turn, services, opportunity_of(response), response)
        if isinstance(chosen, list):
            return chosen
        return decision_replies(chosen)


def opportunity_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


@dataclass(frozen=True)
class Chosen:
    opportunity: Opportunity
    decision: RouteDecision
    #: True when no procurement start date was given, so today's rules were used.
    started_today: bool


async def choose_for(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    opportunity_id: int | None,
    response: FormResponse,
) -> Chosen | list[Reply]:
    """Store the route these answers give, for a draft of the team's own (else a refusal,
    on the record, with nothing changed)."""
    assert turn.actor is not None
    opportunity = await load_for_team(session, turn, opportunity_id, "route", lock=True)
    if opportunity.state != OpportunityState.DRAFT:
        await refuse(session, turn, opportunity, "route", "published")
        return [
            Notice(
                text=f"{opportunity.title} was published while you were answering, so its "
                "route can't change now. Nothing was changed.",
                level="warning",
            )
        ]
    now = services.clock.now()
    started_on = opportunity.procurement_starts_on or today(now)
    answers = dict(response.answers)
    try:
        decision = choose_route(answers, started_on)
    except ValueError as problem:  # RouteAnswerError: plain words
        await refuse(session, turn, opportunity, "route", str(problem))
        _back_to_draft(response)
        return [Notice(text=f"{problem} Nothing was changed.", level="error")]
    choice = await route_of(session, opportunity.id)
    if choice is None:
        choice = OpportunityRoute(opportunity_id=opportunity.id)
        session.add(choice)
    choice.route = decision.route.value
    choice.answers = answers
    choice.started_on = started_on
    choice.chosen_by = turn.actor.person_id
    choice.chosen_at = now
    opportunity.route = decision.route.value
    opportunity.updated_at = now
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "opportunity.route_chosen",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        route=decision.route.value,
        started_on=started_on.isoformat(),
    )
    return Chosen(opportunity, decision, opportunity.procurement_starts_on is None)


def reason_sections(decision: RouteDecision) -> list[Section]:
    return [
        Section(text=reason.words, facts=[Fact(label="The law", value=reason.citation)])
        for reason in decision.reasons
    ]


def decision_replies(chosen: Chosen) -> list[Reply]:
    """The route, why, and what to check; health care is handed off, plainly."""
    decision, o = chosen.decision, chosen.opportunity
    when = full_day(decision.started_on)
    text = f"Worked out with the rules for a procurement starting on {when}."
    if chosen.started_today:
        text += (
            " You have not said when the procurement starts, so we used today's rules. Add "
            "the start date to the opportunity if it is different."
        )
    replies: list[Reply] = []
    if decision.route is Route.PROVIDER_SELECTION_REGIME:
        replies.append(
            Notice(
                text="This is a health care service, so it may be arranged under the Provider "
                "Selection Regime instead of the Procurement Act. Convene does not run that "
                "regime, so this opportunity can't be published here. Please hand it to your "
                "health commissioning or procurement team: they decide what the regime needs.",
                level="warning",
            )
        )
    replies += [Notice(text=check, level="warning") for check in decision.checks]
    buttons = [
        Button(
            label="See the checklist",
            action=f"cmd.{COMMAND}",
            value=f"checklist {o.id}",
            style="primary",
        ),
        Button(label="Answer again", action=f"cmd.{COMMAND}", value=f"route {o.id}"),
    ]
    if decision.route is not Route.PROVIDER_SELECTION_REGIME:
        buttons.append(Button(label="Preview", action=f"cmd.{COMMAND}", value=f"preview {o.id}"))
    replies.append(
        Message(
            title=f"The route for {o.title}: {decision.name}",
            text=text,
            sections=reason_sections(decision),
            buttons=buttons,
            who_sees=TEAM_ONLY,
        )
    )
    return replies


ROUTE = RouteForm()


# --- the checklist ---------------------------------------------------------------------------


class NoRoute(Refused):
    """The checklist needs the route first."""


@dataclass(frozen=True)
class Checklist:
    opportunity: Opportunity
    decision: RouteDecision
    steps: list[Step]
    #: Days recorded in an impossible order (plain words), if any.
    problem: str | None = None


async def _route_decision(
    session: AsyncSession, turn: Turn, opportunity: Opportunity, attempted: str
) -> RouteDecision:
    choice = await route_of(session, opportunity.id)
    decision = decision_for(opportunity, choice) if choice is not None else None
    if decision is None:
        await refuse(session, turn, opportunity, attempted, "no route")
        raise NoRoute(
            f"{opportunity.title} has no route yet, so there is no checklist. "
            + how_to_choose(opportunity.id)
        )
    return decision


async def checklist_of(session: AsyncSession, turn: Turn, opportunity_id: int | None) -> Checklist:
    """The team's checklist. Raises `NotTheTeam` or `NoRoute` (audited)."""
    opportunity = await load_for_team(session, turn, opportunity_id, "checklist")
    decision = await _route_decision(session, turn, opportunity, "checklist")
    return built(opportunity, decision, await recorded(session, opportunity.id))


def built(
    opportunity: Opportunity, decision: RouteDecision, done: dict[str, OpportunityChecklistStep]
) -> Checklist:
    """The checklist with what was recorded. Days recorded in an impossible order are said
    plainly, and the steps shown without due dates, so the team can undo the wrong one."""
    try:
        return Checklist(opportunity, decision, checklist_steps(decision, opportunity, done))
    except ChecklistDateError as problem:
        steps = [
            replace(s, done=done.get(s.key)) for s in checklist_steps(decision, opportunity, {})
        ]
        return Checklist(opportunity, decision, steps, str(problem))


def _done_text(row: OpportunityChecklistStep) -> str:
    text = f"Done on {full_day(row.done_on)}"
    if row.notice_id:
        text += f". Notice {row.notice_id}"
    return text + "."


def checklist_replies(checklist: Checklist) -> list[Reply]:
    o, decision = checklist.opportunity, checklist.decision
    sections: list[Section] = []
    for step in checklist.steps:
        facts: list[Fact] = []  # the law's words say the due date, once it is known
        if step.done is not None:
            facts.append(Fact(label="Done", value=_done_text(step.done)))
        if step.citation:
            facts.append(Fact(label="The law", value=step.citation))
        button = (
            Button(
                label="Undo: not done",
                action=f"cmd.{COMMAND}",
                value=f"undo {o.id} {step.key}",
                style="danger",
            )
            if step.done is not None
            else Button(label="Mark done", action=f"cmd.{COMMAND}", value=f"done {o.id} {step.key}")
        )
        sections.append(
            Section(
                heading=f"{'Done' if step.done else 'To do'}: {step.title}",
                text=step.words,
                facts=facts,
                buttons=[button],
            )
        )
    replies: list[Reply] = []
    if checklist.problem:
        replies.append(Notice(text=checklist.problem, level="error"))
    done = sum(1 for step in checklist.steps if step.done)
    replies.append(
        Message(
            title=f"Checklist for {o.title}",
            text=f"The route: {decision.name}. {done} of {len(checklist.steps)} steps done. "
            f"The steps are in order, under the rules for a procurement starting on "
            f"{full_day(decision.started_on)}. A due date shows once the day it depends on is "
            "known.",
            sections=[
                *sections,
                Section(heading="Why this route", text=None),
                *reason_sections(decision),
            ],
            buttons=[
                Button(label="Record a step", action=f"cmd.{COMMAND}", value=f"done {o.id}"),
                Button(label="Show it", action=f"cmd.{COMMAND}", value=f"show {o.id}"),
            ],
            who_sees=TEAM_ONLY,
        )
    )
    return replies


async def show_checklist(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities checklist 4`."""
    async with services.db.session() as session:
        try:
            checklist = await checklist_of(session, turn, opportunity_id)
        except NoRoute as refusal:
            return [
                Notice(
                    text=refusal.message,
                    level=refusal.level,
                    buttons=[
                        Button(
                            label="Choose the route",
                            action=f"cmd.{COMMAND}",
                            value=f"route {opportunity_id}",
                            style="primary",
                        )
                    ],
                )
            ]
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return checklist_replies(checklist)


# --- recording a step done, and undoing it ---------------------------------------------------


#: Every step key a checklist can hold (the form's choices).
STEP_KEYS = frozenset({*(key.value for key in StepKey), CONTRACT_SIGNED})


def _step_word(turn: Turn) -> str | None:
    """The step named after the number (`done 4 tender_notice`), if it is one."""
    words = words_of(turn)
    word = words[2] if len(words) > 2 else None
    return word if word in STEP_KEYS else None


class StepDoneForm(TeamForm):
    """`opportunities done 4 [step]`: one step recorded as done."""

    form_key = "opportunity_step_done"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(which_one("done"))
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, "done")
            await _route_decision(session, turn, opportunity, "done")
        except Refused as refused:
            return Refusal(refused.message)
        step = _step_word(turn) or "any"
        return Subject(
            None,
            opportunity.authority_id,
            topic=f"{opportunity_topic(opportunity.id)}:done:{step}",
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        step = (subject.topic or "").rsplit(":", 1)[-1]
        return {} if step == "any" else {"step": step}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        try:
            checklist = await record_step(
                session, turn, services, opportunity_of(response), response
            )
        except StepNotRecorded as refusal:
            _back_to_draft(response)
            if refusal.field:
                return [form_view(definition, response, 0, errors={refusal.field: refusal.message})]
            return [Notice(text=refusal.message, level=refusal.level)]
        except Refused as refusal:
            _back_to_draft(response)
            return [Notice(text=refusal.message, level=refusal.level)]
        step = next(s for s in checklist.steps if s.key == response.answers["step"])
        assert step.done is not None
        return [
            Notice(
                text=f"Recorded: {step.title}. {_done_text(step.done)} It is on the record. "
                "Only your team sees the checklist.",
                level="success",
            ),
            *checklist_replies(checklist),
        ]


class StepNotRecorded(Refused):
    """A step that can't be recorded as given; `field` names the question to fix."""

    level = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


async def record_step(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    opportunity_id: int | None,
    response: FormResponse,
) -> Checklist:
    """Record one step done (or change what was recorded). Every refusal is on the record
    and changes nothing."""
    assert turn.actor is not None
    opportunity = await load_for_team(session, turn, opportunity_id, "done", lock=True)
    decision = await _route_decision(session, turn, opportunity, "done")
    answers = response.answers
    key = str(answers.get("step"))
    done = await recorded(session, opportunity.id)

    async def no(message: str, field: str | None = None) -> StepNotRecorded:
        await refuse(session, turn, opportunity, "done", message)
        return StepNotRecorded(message + " Nothing was changed.", field)

    try:
        steps = checklist_steps(decision, opportunity, done)
    except ChecklistDateError:
        steps = checklist_steps(decision, opportunity, {})
    step = next((s for s in steps if s.key == key), None)
    if step is None:
        raise await no(
            f"The route for {opportunity.title} ({decision.name}) has no such step. Choose one "
            "from its checklist.",
            "step",
        )
    notice_id = (answers.get("notice_id") or "").strip() or None
    if step.notice and notice_id is None:
        raise await no(
            f"Give the identifier of the {step.title} from Find a Tender, like 2026/S 000-012345.",
            "notice_id",
        )
    now = services.clock.now()
    done_on = date.fromisoformat(answers["done_on"]) if answers.get("done_on") else today(now)
    if done_on > today(now):
        raise await no("The day it was done can't be in the future.", "done_on")
    awarded_id: int | None = None
    awarded_to = (answers.get("awarded_to") or "").strip()
    if awarded_to and key == "contract_award_notice":
        found = await organisations_named(session, awarded_to)
        if len(found) != 1:
            raise await no(
                f'We can\'t find one organisation called "{awarded_to}" in Convene. Check the '
                "spelling, or leave it blank.",
                "awarded_to",
            )
        awarded_id = found[0].id
    # Checked on a row not yet in the session, so a refusal changes nothing.
    candidate = OpportunityChecklistStep(
        opportunity_id=opportunity.id,
        step=key,
        done_on=done_on,
        notice_id=notice_id,
        awarded_organisation_id=awarded_id,
        done_by=turn.actor.person_id,
        done_at=now,
    )
    try:
        steps = checklist_steps(decision, opportunity, {**done, key: candidate})
    except ChecklistDateError as problem:
        raise await no(str(problem), "done_on") from None
    changed = key in done
    if changed:
        row = done[key]
        for name in ("done_on", "notice_id", "awarded_organisation_id", "done_by", "done_at"):
            setattr(row, name, getattr(candidate, name))
        steps = [replace(s, done=row) if s.key == key else s for s in steps]
    else:
        session.add(candidate)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "opportunity.step_done",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        step=key,
        done_on=done_on.isoformat(),
        notice_id=notice_id,
        awarded_organisation_id=awarded_id,
        changed=changed,
    )
    return Checklist(opportunity, decision, steps)


STEP_DONE = StepDoneForm()


async def undo_step(
    session: AsyncSession, turn: Turn, opportunity_id: int | None, key: str | None
) -> Checklist:
    """Mark a step not done again (a mistake). On the record, with what it said."""
    opportunity = await load_for_team(session, turn, opportunity_id, "undo", lock=True)
    decision = await _route_decision(session, turn, opportunity, "undo")
    row = await step_done(session, opportunity.id, key) if key else None
    if row is None:
        await refuse(session, turn, opportunity, "undo", "not done")
        raise StepNotRecorded(
            "That step is not marked done, so nothing was changed. See the steps: "
            + command_ref(
                f"{COMMAND} checklist {opportunity.id}",
                f"the checklist for opportunity {opportunity.id}",
            )
            + "."
        )
    await audit.record_turn(
        session,
        turn,
        "opportunity.step_undone",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        step=row.step,
        done_on=row.done_on.isoformat(),
        notice_id=row.notice_id,
    )
    await session.delete(row)
    await session.flush()
    return built(opportunity, decision, await recorded(session, opportunity.id))


async def undo(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities undo 4 tender_notice`."""
    key = _step_word(turn)
    async with services.db.session() as session:
        try:
            checklist = await undo_step(session, turn, opportunity_id, key)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    title = next((s.title for s in checklist.steps if s.key == key), key)
    return [
        Notice(
            text=f"{title} is marked not done again. The change is on the record.",
            level="success",
        ),
        *checklist_replies(checklist),
    ]


__all__ = [
    "CONTRACT_SIGNED",
    "ROUTE",
    "STEP_DONE",
    "show_checklist",
    "undo",
]
