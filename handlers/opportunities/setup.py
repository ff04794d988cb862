"""Posting an opportunity: a draft saved page by page, lots added one at a time, a preview
exactly as providers will see it, then publishing with its guardrails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, command_ref
from bot.core.turn import Turn, row_id
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.engagements.meetings import close_private_conversations
from handlers.forms import FormPurpose, Subject, form_step, form_view, topic_number
from handlers.opportunities.announce import Told, announce
from handlers.opportunities.closing import schedule_closing
from handlers.opportunities.common import (
    COMMAND,
    NotTheTeam,
    Refused,
    authority_name,
    load_for_team,
    moment,
    number_at,
    refuse,
    words_of,
)
from handlers.opportunities.guardrails import check_guardrails
from handlers.opportunities.reminders import schedule_deadline_reminders
from handlers.opportunities.routing import RouteCheck, check_route
from handlers.opportunities.views import announcement, full_details, guardrail_text, waiting_words
from storage import audit
from storage.engagement_tables import Engagement
from storage.engagements import engagements_of
from storage.models import Authority, FormResponse, ResponseState
from storage.opportunities import lots_of
from storage.opportunity_tables import Opportunity, OpportunityLot, OpportunityState
from storage.visibility import Refusal

DEFAULT_WEIGHTS = {"quality_weight": 70, "price_weight": 20, "social_value_weight": 10}


def opportunity_topic(opportunity_id: int | None) -> str:
    return f"opportunity:{opportunity_id if opportunity_id is not None else 'new'}"


def opportunity_of(response: FormResponse) -> int | None:
    """The opportunity a team form's draft is about (None for a new one)."""
    return opportunity_of_topic(response.topic)


def _local_day(when: datetime | None) -> str | None:
    """A stored 5pm deadline as the day the team picked (YYYY-MM-DD), in UK time."""
    return when.astimezone(LONDON).date().isoformat() if when else None


def which_one(step: str) -> str:
    return f"Which one? Find it in the list: {command_ref(COMMAND, f'the {COMMAND} list')}."


def _range_problem(answers: dict[str, Any]) -> dict[str, str]:
    low, high = answers.get("value_min"), answers.get("value_max")
    if low is not None and high is not None and low > high:
        return {
            "value_max": "The most it might be worth must be at least the least it might be worth."
        }
    return {}


def _cpv_codes(answer: object) -> list[str]:
    """The 8-digit CPV codes the `cpv` question stored (a list; older drafts held text)."""
    if isinstance(answer, list):
        return [str(code) for code in answer]
    return [c.strip() for c in str(answer or "").replace(";", ",").split(",") if c.strip()]


def back_to_draft(response: FormResponse) -> None:
    """A form refused on sending stays a draft, so the person can fix it and send again."""
    response.state = ResponseState.DRAFT
    response.submitted_at = None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class TeamForm(FormPurpose):
    """A form only the council's own commissioning team fills in, each draft one person's."""

    command = COMMAND
    confirms_itself = True

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        assert turn.actor is not None
        if response.respondent_id != turn.actor.person_id or (
            response.authority_id not in turn.actor.commissioner_for()
        ):
            return Refusal("This belongs to someone else, so you can't change it.")
        return None

    async def team_draft(
        self, session: AsyncSession, turn: Turn, opportunity_id: int | None, attempted: str
    ) -> Opportunity | Refusal:
        """The team's own opportunity, still a draft (published ones change by amendment)."""
        if opportunity_id is None:
            return Refusal(which_one(attempted))
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, attempted)
        except Refused as refused:
            return Refusal(refused.message)
        if opportunity.state != OpportunityState.DRAFT:
            return Refusal(
                f"{opportunity.title} is published, so it can't be changed in place. "
                f"Send a change to everyone instead: "
                f"{command_ref(f'{COMMAND} amend {opportunity.id}', 'the form to send a change')}."
            )
        return opportunity


async def _authority_for(session: AsyncSession, turn: Turn) -> Authority | Refusal:
    """The council this commissioner posts for: the only one, or the one named with for=…"""
    assert turn.actor is not None
    mine = sorted(turn.actor.commissioner_for())
    if not mine:
        return Refusal("Only a council's commissioning team can post an opportunity.")
    authorities = list(
        (await session.scalars(select(Authority).where(Authority.id.in_(mine)))).all()
    )
    wanted = turn.args.get("for")
    if wanted:
        authorities = [a for a in authorities if a.slug == wanted]
    if len(authorities) == 1:
        return authorities[0]
    names = ", ".join(
        f"{a.name} ({command_ref(f'{COMMAND} new for={a.slug}', f'a new opportunity for {a.name}')})"
        for a in authorities
    )
    return Refusal(f"Which council is this for? {names}")


class OpportunitySetup(TeamForm):
    """The team's form: the figure-ten details, page by page."""

    form_key = "opportunity_setup"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        if words_of(turn)[:1] == ["edit"]:
            opportunity = await self.team_draft(session, turn, number_at(turn, 1), "edit")
            if isinstance(opportunity, Refusal):
                return opportunity
            return Subject(None, opportunity.authority_id, topic=opportunity_topic(opportunity.id))
        authority = await _authority_for(session, turn)
        if isinstance(authority, Refusal):
            return authority
        return Subject(None, authority.id, label=authority.name, topic=opportunity_topic(None))

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        opportunity_id = opportunity_of_topic(subject.topic)
        if opportunity_id is None:
            return {**DEFAULT_WEIGHTS, "submission_formats": ["writing"]}
        o = await session.get(Opportunity, opportunity_id)
        assert o is not None
        return {
            "title": o.title,
            "purpose": o.purpose,
            "context": o.context,
            "needs_and_strengths": o.needs_and_strengths,
            "funding_sources": o.funding_sources,
            "outcomes": o.outcomes,
            "people_served": o.people_served,
            "standards_and_duties": o.standards_and_duties,
            "service_areas": list(o.service_areas),
            "area_served": list(o.area_served) or None,
            "value_min": o.value_min_pence,
            "value_max": o.value_max_pence,
            "payment_model": o.payment_model,
            "length_months": o.length_months,
            "extensions": o.extensions,
            "tupe": o.tupe,
            "pensions": o.pensions,
            "assets": o.assets,
            "submission_deadline": _local_day(o.submission_deadline),
            "clarification_deadline": _local_day(o.clarification_deadline),
            "briefing_at": o.briefing_at.isoformat() if o.briefing_at else None,
            "briefing_where": o.briefing_where,
            "procurement_starts_on": o.procurement_starts_on.isoformat()
            if o.procurement_starts_on
            else None,
            "timeline": o.timeline,
            "how_to_submit": o.how_to_submit,
            "submission_formats": list(o.submission_formats),
            "clarification_process": o.clarification_process,
            "assessment_criteria": o.assessment_criteria,
            "quality_weight": o.quality_weight,
            "price_weight": o.price_weight,
            "social_value_weight": o.social_value_weight,
            "pass_fail_criteria": o.pass_fail_criteria,
            "contacts": o.contacts,
            "partners_wanted": o.partners_wanted,
            "cpv_codes": list(o.cpv_codes) or None,
            "notice_links": "\n".join(o.notice_links) or None,
            "engagement": o.engagement_id,
        }

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        """The council's engagements and their numbers, to say which one this came from."""
        if subject.authority_id is None:
            return []
        engagements = await engagements_of(session, {subject.authority_id})
        if not engagements:
            return []
        listed = "; ".join(f"{e.id}: {e.title}" for e in engagements[:20])
        return [
            Notice(
                text="If this came from one of your pre-market engagements, give its number "
                f"on the How to apply page. Your engagements: {listed}."
            )
        ]

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        problems = _range_problem(answers)
        deadline, questions = (
            answers.get("submission_deadline"),
            answers.get("clarification_deadline"),
        )
        briefing = answers.get("briefing_at")
        if deadline and briefing and datetime.fromisoformat(briefing) >= moment(deadline):
            problems["briefing_at"] = (
                "The briefing must be before the deadline for bids, so it can help people bid."
            )
        if answers.get("briefing_where") and not briefing:
            problems["briefing_at"] = "Say when the briefing is, or leave where empty."
        if deadline and questions and questions >= deadline:
            problems["clarification_deadline"] = (
                "The last day for questions must be before the deadline for bids, so answers "
                "reach everyone in time."
            )
        weights = [answers.get(k) for k in DEFAULT_WEIGHTS]
        if all(w is not None for w in weights) and sum(weights) != 100:  # type: ignore[arg-type]
            problems["social_value_weight"] = (
                f"The weights add up to {sum(weights)}%. Make them add up to 100%."  # type: ignore[arg-type]
            )
        return problems

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.authority_id is not None
        now = services.clock.now()
        opportunity_id = opportunity_of(response)
        # Locked as publishing locks it: an edit racing a publish waits, then sees it.
        opportunity = await load_locked(session, Opportunity, opportunity_id)
        problem = await _engagement_problem(session, response)
        if problem is not None:
            await refuse(session, turn, opportunity, "edit", "not the team's engagement")
            back_to_draft(response)
            return [
                form_view(
                    definition,
                    response,
                    definition.page_of("engagement"),
                    errors={"engagement": problem},
                )
            ]
        if opportunity is not None and opportunity.state != OpportunityState.DRAFT:
            await refuse(session, turn, opportunity, "edit", "published")
            return [
                Notice(
                    text=f"{opportunity.title} was published while you were filling this in, so "
                    f"nothing was changed. Send a change instead: "
                    f"{command_ref(f'{COMMAND} amend {opportunity.id}', 'the form to send a change')}.",
                    level="warning",
                )
            ]
        if opportunity is None:
            opportunity = Opportunity(
                authority_id=response.authority_id,
                created_by=turn.actor.person_id,
                created_at=now,
                state=OpportunityState.DRAFT,
            )
            session.add(opportunity)
        apply_answers(opportunity, response.answers, services)
        opportunity.updated_at = now
        await session.flush()
        response.topic = opportunity_topic(opportunity.id)
        await audit.record_turn(
            session,
            turn,
            "opportunity.drafted",
            object_type="opportunity",
            object_id=opportunity.id,
            authority_id=opportunity.authority_id,
        )
        return await preview_replies(session, turn, services, opportunity)


async def _engagement_problem(session: AsyncSession, response: FormResponse) -> str | None:
    """The engagement it came from must be one of this council's own."""
    number = response.answers.get("engagement")
    if number is None:
        return None
    engagement_id = row_id(str(number))
    engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None or engagement.authority_id != response.authority_id:
        return (
            f"Your council has no engagement number {number}. Type the number of one of your "
            "own engagements (they are listed above the form), or leave it empty."
        )
    return None


def opportunity_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


def apply_answers(opportunity: Opportunity, answers: dict[str, Any], services: Services) -> None:
    """The form's answers onto the opportunity, each in its own column."""
    o = opportunity
    for name in (
        "title",
        "purpose",
        "context",
        "needs_and_strengths",
        "funding_sources",
        "outcomes",
        "people_served",
        "standards_and_duties",
        "payment_model",
        "length_months",
        "extensions",
        "tupe",
        "pensions",
        "assets",
        "timeline",
        "how_to_submit",
        "clarification_process",
        "assessment_criteria",
        "pass_fail_criteria",
        "contacts",
    ):
        setattr(o, name, answers.get(name))
    o.service_areas = list(answers.get("service_areas") or [])
    o.area_served = list(answers.get("area_served") or [])
    o.value_min_pence = answers.get("value_min")
    o.value_max_pence = answers.get("value_max")
    for name, default in DEFAULT_WEIGHTS.items():
        value = answers.get(name)
        setattr(o, name, default if value is None else int(value))
    o.submission_formats = list(answers.get("submission_formats") or [])
    o.partners_wanted = bool(answers.get("partners_wanted"))
    o.cpv_codes = _cpv_codes(answers.get("cpv_codes"))
    o.notice_links = _lines(answers.get("notice_links"))
    deadline = answers.get("submission_deadline")
    o.submission_deadline = moment(deadline, services.tz) if deadline else None
    questions = answers.get("clarification_deadline")
    o.clarification_deadline = moment(questions, services.tz) if questions else None
    briefing = answers.get("briefing_at")
    o.briefing_at = datetime.fromisoformat(briefing) if briefing else None
    o.briefing_where = answers.get("briefing_where") if briefing else None
    engagement = answers.get("engagement")
    o.engagement_id = int(engagement) if engagement is not None else None
    starts = answers.get("procurement_starts_on")
    o.procurement_starts_on = date.fromisoformat(starts) if starts else None


SETUP = OpportunitySetup()


open_setup = form_step(SETUP)


# --- lots ------------------------------------------------------------------------------------


class LotForm(TeamForm):
    """Adding a lot to a draft (`opportunities lot 4`) or changing one (`lot 4 2`)."""

    form_key = "opportunity_lot"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity = await self.team_draft(session, turn, number_at(turn, 1), "lot")
        if isinstance(opportunity, Refusal):
            return opportunity
        lot_number = number_at(turn, 2) if len(words_of(turn)) > 2 else None
        if lot_number is not None:
            found = await _lot(session, opportunity.id, lot_number)
            if found is None:
                return Refusal(
                    f"{opportunity.title} has no lot {lot_number}. See its lots: "
                    f"{command_ref(f'{COMMAND} preview {opportunity.id}', 'the preview')}."
                )
        return Subject(
            None,
            opportunity.authority_id,
            topic=f"{opportunity_topic(opportunity.id)}:lot:{lot_number or 'new'}",
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        parts = (subject.topic or "").split(":")
        opportunity_id = opportunity_of_topic(subject.topic)
        if opportunity_id is None or not parts[-1].isdigit():
            return {}
        lot = await _lot(session, opportunity_id, int(parts[-1]))
        if lot is None:
            return {}
        return {
            "title": lot.title,
            "description": lot.description,
            "value_min": lot.value_min_pence,
            "value_max": lot.value_max_pence,
            "area_served": list(lot.area_served) or None,
        }

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        problems = _range_problem(answers)
        if answers.get("value_min") is None and answers.get("value_max") is None:
            problems["value_max"] = (
                "Give this lot a value, even a rough range, so providers can tell if it fits."
            )
        return problems

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        # Locked, so two lots added at once take numbers one after the other.
        opportunity = await load_locked(session, Opportunity, opportunity_of(response))
        assert opportunity is not None
        if opportunity.state != OpportunityState.DRAFT:
            await refuse(session, turn, opportunity, "lot", "published")
            return [
                Notice(
                    text=f"{opportunity.title} was published, so its lots can't change in "
                    f"place. Nothing was changed. Send a change instead: "
                    f"{command_ref(f'{COMMAND} amend {opportunity.id}', 'the form to send a change')}.",
                    level="warning",
                )
            ]
        parts = (response.topic or "").split(":")
        lot = await _lot(session, opportunity.id, int(parts[-1])) if parts[-1].isdigit() else None
        if lot is None:
            number = (
                await session.scalar(
                    select(func.max(OpportunityLot.number)).where(
                        OpportunityLot.opportunity_id == opportunity.id
                    )
                )
                or 0
            ) + 1
            lot = OpportunityLot(opportunity_id=opportunity.id, number=number)
            session.add(lot)
        answers = response.answers
        lot.title = answers["title"]
        lot.description = answers.get("description")
        lot.value_min_pence = answers.get("value_min")
        lot.value_max_pence = answers.get("value_max")
        lot.area_served = list(answers.get("area_served") or [])
        await session.flush()
        response.topic = f"{opportunity_topic(opportunity.id)}:lot:{lot.number}"
        await audit.record_turn(
            session,
            turn,
            "opportunity.lot_saved",
            object_type="opportunity",
            object_id=opportunity.id,
            authority_id=opportunity.authority_id,
            lot=lot.number,
        )
        return [
            Notice(text=f"Lot {lot.number}, {lot.title}, is saved.", level="success"),
            *await preview_replies(session, turn, services, opportunity),
        ]


async def _lot(session: AsyncSession, opportunity_id: int, number: int) -> OpportunityLot | None:
    return await session.scalar(
        select(OpportunityLot).where(
            OpportunityLot.opportunity_id == opportunity_id, OpportunityLot.number == number
        )
    )


LOT = LotForm()


open_lot = form_step(LOT)


# --- preview and guardrails ------------------------------------------------------------------


def problems(opportunity: Opportunity, lots: list[OpportunityLot], now: datetime) -> list[str]:
    """What stops publishing: each is a plain sentence saying what to change."""
    found: list[str] = []
    deadline = opportunity.submission_deadline
    if deadline is None:
        found.append("It has no deadline for bids yet.")
    elif deadline <= now:
        found.append("The deadline for bids has passed. Choose a later one.")
    questions = opportunity.clarification_deadline
    if deadline is not None and questions is not None and questions >= deadline:
        found.append("The last day for questions is not before the deadline for bids.")
    if opportunity.briefing_at is not None and opportunity.briefing_at <= now:
        found.append("The briefing for providers has passed. Change its time, or remove it.")
    low, high = opportunity.value_min_pence, opportunity.value_max_pence
    if low is not None and high is not None and low > high:
        found.append("The least it might be worth is more than the most it might be worth.")
    for lot in lots:
        if lot.value_min_pence is None and lot.value_max_pence is None:
            found.append(f"Lot {lot.number}, {lot.title}, has no value.")
        elif (
            lot.value_min_pence is not None
            and lot.value_max_pence is not None
            and lot.value_min_pence > lot.value_max_pence
        ):
            found.append(f"Lot {lot.number}, {lot.title}, has its least value above its most.")
    return found


async def preview_replies(
    session: AsyncSession, turn: Turn, services: Services, opportunity: Opportunity
) -> list[Reply]:
    """The draft exactly as providers will see it, what must change, and what to do next."""
    now = services.clock.now()
    lots = await lots_of(session, opportunity.id)
    council = await authority_name(session, opportunity)
    card = announcement(opportunity, lots, council, services.tz)
    checked = await check_guardrails(session, opportunity, lots, now, services.settings)
    route = await check_route(session, opportunity)
    replies: list[Reply] = [
        Notice(text=f"Before you can publish: {text}", level="error")
        for text in [
            *problems(opportunity, lots, now),
            *(guardrail_text(g) for g in checked.refusals),
            *route.problems,
        ]
    ]
    replies += [
        Notice(text=text, level="warning")
        for text in [*(guardrail_text(g) for g in checked.warnings), *route.warnings]
    ]
    o = opportunity.id
    replies.append(
        Message(
            title=f"Preview: {opportunity.title}",
            text="This is exactly what every provider it fits will see. Nothing is sent "
            "until you publish.",
            buttons=[
                Button(
                    label="Publish", action=f"cmd.{COMMAND}", value=f"publish {o}", style="primary"
                ),
                Button(label="Change it", action=f"cmd.{COMMAND}", value=f"edit {o}"),
                Button(label="Add a lot", action=f"cmd.{COMMAND}", value=f"lot {o}"),
                *route_buttons(o, route),
            ],
        )
    )
    replies.append(card)
    replies.append(
        Message(
            title=f"Full details: {opportunity.title}",
            sections=full_details(opportunity, lots, services.tz),
        )
    )
    return replies


def route_buttons(opportunity_id: int, route: RouteCheck) -> list[Button]:
    """Choose the route (once more), and see its checklist once there is one."""
    buttons = [
        Button(
            label="Answer the route questions again" if route.chosen else "Choose the route",
            action=f"cmd.{COMMAND}",
            value=f"route {opportunity_id}",
        )
    ]
    if route.chosen:
        buttons.append(
            Button(label="Checklist", action=f"cmd.{COMMAND}", value=f"checklist {opportunity_id}")
        )
    return buttons


async def preview(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities preview 4`: the team sees its draft as providers will."""
    async with services.db.session() as session:
        try:
            opportunity = await load_for_team(session, turn, opportunity_id, "preview")
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return await preview_replies(session, turn, services, opportunity)


# --- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    opportunity: Opportunity
    told: Told
    warnings: tuple[str, ...]
    #: Private conversations of the engagement it came from, cancelled at publishing (s.16).
    conversations_cancelled: int = 0


class AlreadyPublished(Refused):
    level = "info"


class NotReady(Refused):
    level = "error"

    def __init__(self, message: str, *, route_chosen: bool = True) -> None:
        super().__init__(message)
        self.route_chosen = route_chosen


async def publish_opportunity(
    session: AsyncSession, turn: Turn, services: Services, opportunity_id: int | None
) -> Published:
    """The team publishes its draft: every fitting provider is told at the same moment.
    Raises `NotTheTeam`, `AlreadyPublished` or `NotReady` (audited) before changing anything."""
    now = services.clock.now()
    opportunity = await load_for_team(session, turn, opportunity_id, "publish", lock=True)
    if opportunity.state != OpportunityState.DRAFT:
        raise AlreadyPublished(f"{opportunity.title} is already published.")
    lots = await lots_of(session, opportunity.id)
    checked = await check_guardrails(session, opportunity, lots, now, services.settings)
    route = await check_route(session, opportunity)
    found = [
        *problems(opportunity, lots, now),
        *(guardrail_text(g) for g in checked.refusals),
        *route.problems,
    ]
    if found:
        await refuse(session, turn, opportunity, "publish", " ".join(found))
        raise NotReady(
            "Nothing was sent. Please change these first: " + " ".join(found),
            route_chosen=route.chosen,
        )
    opportunity.state = OpportunityState.OPEN
    opportunity.published_at = now
    council = await authority_name(session, opportunity)
    told = await announce(
        session,
        opportunity,
        announcement(opportunity, lots, council, services.tz),
        now,
        services.tz,
    )
    await schedule_closing(session, opportunity)
    await schedule_deadline_reminders(session, opportunity, now, services.tz)
    cancelled = await close_private_conversations(session, turn, opportunity, now)
    await audit.record_turn(
        session,
        turn,
        "opportunity.published",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        at=now,
        people_told=told.people,
        organisations_told=told.organisations,
        channels=told.channels,
        in_weekly_digests=told.in_digest,
        when_their_day_starts=told.in_the_morning,
        engagement_id=opportunity.engagement_id,
        private_conversations_cancelled=cancelled,
    )
    return Published(
        opportunity,
        told,
        (*(guardrail_text(g) for g in checked.warnings), *route.warnings),
        cancelled,
    )


def published_replies(published: Published) -> list[Reply]:
    told = published.told
    o = published.opportunity
    text = (
        f"Published. We are sending it to {told.people} "
        f"{'person' if told.people == 1 else 'people'} in {told.organisations} "
        f"{'organisation' if told.organisations == 1 else 'organisations'} it fits"
        + ("" if told.in_the_morning else ", all at the same moment")
        + (
            f", and to {told.channels} channel{'s' if told.channels != 1 else ''}"
            if told.channels
            else ""
        )
        + ". We will tell them about every change you make."
        + waiting_words(told)
    )
    if o.engagement_id is not None:
        n = published.conversations_cancelled
        text += (
            " Private conversations about the engagement it came from are now closed, so "
            "every provider gets the same information (Procurement Act 2023, section 16)"
            + (
                f": we cancelled {n} not yet held and told both sides why."
                if n
                else ". None were waiting."
            )
        )
    return [
        Notice(text=text, level="success"),
        *[Notice(text=w, level="warning") for w in published.warnings],
        Message(
            title=o.title,
            buttons=[
                Button(
                    label="Who is interested", action=f"cmd.{COMMAND}", value=f"interested {o.id}"
                ),
                Button(label="Send a change", action=f"cmd.{COMMAND}", value=f"amend {o.id}"),
            ],
        ),
    ]


async def publish(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities publish 4`."""
    async with services.db.session() as session:
        try:
            published = await publish_opportunity(session, turn, services, opportunity_id)
        except Refused as refusal:
            buttons = []
            if isinstance(refusal, NotReady):
                buttons.append(
                    Button(
                        label="Change it", action=f"cmd.{COMMAND}", value=f"edit {opportunity_id}"
                    )
                )
                if not refusal.route_chosen:
                    buttons.append(
                        Button(
                            label="Choose the route",
                            action=f"cmd.{COMMAND}",
                            value=f"route {opportunity_id}",
                            style="primary",
                        )
                    )
            return [Notice(text=refusal.message, level=refusal.level, buttons=buttons)]
    return published_replies(published)


__all__ = ["LOT", "SETUP", "NotTheTeam", "open_lot", "open_setup", "preview", "publish"]
