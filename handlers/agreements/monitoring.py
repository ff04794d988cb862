"""Monitoring plans and check-ins (issue 15): agreed by both sides, asked on working days,
chased gently, answered as the start of a conversation.

Steps of `agreements`:
- `plan N frequency=quarterly method="..." questions=effective,efficient rag=yes
  timeline="..."` proposes agreement N's monitoring plan (the team or a provider party).
  There is no default frequency: say one (`monthly`, `quarterly`, `six_monthly`,
  `yearly`, or `every_n_weeks` with `weeks=3`) or `dates=2026-06-30,2026-12-31`.
- `accept N`: the other side agrees the plan, and the check-ins are scheduled as reminders
  from `bot.core.monitoring.checkin_moments` (working days, at the start of the day).
- `monitoring N`: the plan, the check-ins and the burden meter, for the team and parties.
- `checkin C` opens check-in C (for the reporting organisation: the sole provider, or a
  consortium's lead only); `answer C` opens its form (`monitoring_forms.py`), and
  `answer C effective="..." rag=green indicator_1_2="40"` sends the answers typed. Both end
  in `record_answer`; `plan N` with no words opens the plan form, ending in `propose_plan`.
- Replies, calls and indicator values after a check-in are in `conversation.py`.
- `away 2026-08-14` pauses chases until after that day (`away off` to clear it).

A check-in nobody answers is chased by `chase_moments` (3 and 7 working days), then the
commissioning team is told: only the team, never other providers. An answer goes to the
team as a prompt to talk, with a RAG rating only when the plan has one, shown per
agreement only (never a table across providers). The burden meter counts check-ins,
questions and minutes, and names each indicator nobody has opened in a year, with the words
to propose removing it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date, format_when
from bot.core.monitoring import (
    CHASING,
    ChaseStep,
    Frequency,
    MonitoringPlan,
    PlanError,
    chase_moments,
    checkin_moments,
    start_of_working_day,
)
from bot.core.quiet_hours import next_waking_moment, zone_named
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Door, Turn, parse_command
from bot.core.words import counted
from bot.core.working_days import next_working_day, working_days_after
from bot.services import Services
from handlers.agreements.common import (
    COMMAND,
    NOT_FOUND,
    Refused,
    load_for_viewer,
    refuse,
    runs_it,
    today,
)
from handlers.agreements.feedback import feedback_reply
from handlers.agreements.outcomes import CHANGE_STEP, framework_of
from handlers.agreements.thread import thread_section
from storage import audit
from storage.agreement_tables import Agreement, AgreementParty, PartyRole
from storage.conversation_tables import IndicatorOpened, IndicatorValue
from storage.engagements import commissioning_team
from storage.models import Membership, Organisation, Reminder, Role
from storage.monitoring_tables import AwayUntil, CheckinRow, MonitoringPlanRow, PlanState, Side
from storage.notification_preferences import reach_of
from storage.outbox import send_each
from storage.outcome_tables import OutcomeItem
from storage.reminders import cancel_reminders, schedule_reminder

CHECKIN_KIND = "agreements.checkin"
CHASE_KIND = "agreements.checkin_chase"

#: The suggested questions, each optional: Gateshead's three, then NEF's three.
QUESTIONS: dict[str, str] = {
    "effective": "Is it effective? Is it making the difference it set out to make?",
    "efficient": "Is it efficient? Is the money and time going where it helps most?",
    "sustainable": "Is it sustainable? Could it keep going, and what would it need?",
    "harder_easier": "Which outcomes are harder or easier to reach than you expected?",
    "theory_of_change": "How would you change your theory of change?",
    "new_outcomes": "Are there any new outcomes that are not in the agreement?",
}
RAG = ("red", "amber", "green")
FREQUENCY_WORDS = {
    Frequency.EVERY_N_WEEKS: "every {weeks} weeks",
    Frequency.MONTHLY: "every month",
    Frequency.QUARTERLY: "every 3 months",
    Frequency.SIX_MONTHLY: "every 6 months",
    Frequency.YEARLY: "every year",
}
ANSWER_SEES = (
    "The council's commissioning team and your organisation see these answers. "
    "No other provider sees them."
)
TEAM_SEES = (
    "Only your commissioning team and the organisation that answered see this. It is never "
    "shown beside other providers."
)


def _plain(refusal_text: str) -> list[Reply]:
    return [Notice(text=refusal_text, level="warning")]


# --- reading -----------------------------------------------------------------------------------


async def plan_of(session: AsyncSession, agreement_id: int) -> MonitoringPlanRow | None:
    found: MonitoringPlanRow | None = await session.scalar(
        select(MonitoringPlanRow).where(MonitoringPlanRow.agreement_id == agreement_id)
    )
    return found


async def checkins_of(session: AsyncSession, agreement_id: int) -> list[CheckinRow]:
    return list(
        (
            await session.scalars(
                select(CheckinRow)
                .where(CheckinRow.agreement_id == agreement_id)
                .order_by(CheckinRow.due_on, CheckinRow.id)
            )
        ).all()
    )


async def reporting_organisation(session: AsyncSession, agreement_id: int) -> int | None:
    """The organisation asked for check-ins: the sole provider, or the consortium's lead."""
    found: int | None = await session.scalar(
        select(AgreementParty.organisation_id)
        .where(
            AgreementParty.agreement_id == agreement_id,
            AgreementParty.role.in_([PartyRole.SOLE, PartyRole.LEAD]),
        )
        .order_by(AgreementParty.id)
        .limit(1)
    )
    return found


async def reporters(session: AsyncSession, organisation_id: int) -> list[int]:
    """The members of the reporting organisation, by id."""
    return list(
        (
            await session.scalars(
                select(Membership.person_id)
                .where(
                    Membership.organisation_id == organisation_id,
                    Membership.role.in_([Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER]),
                )
                .distinct()
                .order_by(Membership.person_id)
            )
        ).all()
    )


async def away_of(session: AsyncSession, person_ids: list[int], on: date) -> date | None:
    """When everyone asked is away on `on`, the first day one of them is back's eve (the
    earliest "away until"); None when somebody is there to ask."""
    if not person_ids:
        return None
    rows = {
        row.person_id: row.away_until
        for row in (
            await session.scalars(select(AwayUntil).where(AwayUntil.person_id.in_(person_ids)))
        ).all()
    }
    dates = [rows.get(person_id) for person_id in person_ids]
    if any(d is None or d < on for d in dates):
        return None
    return min(d for d in dates if d is not None)


@dataclass(frozen=True)
class Unopened:
    """An indicator nobody on the team has opened in a year: its number ("1.2") and words."""

    ref: str
    text: str


@dataclass(frozen=True)
class Burden:
    """What monitoring asks of the provider on one agreement."""

    checkins_sent: int
    questions_asked: int
    answered: int
    minutes: int
    agreement_id: int = 0
    #: Indicators nobody has opened in a year (a prompt to remove them).
    unopened: tuple[Unopened, ...] = ()


def burden_of(
    checkins: list[CheckinRow], unopened: Sequence[Unopened] = (), agreement_id: int = 0
) -> Burden:
    answered = [c for c in checkins if c.answered_at is not None]
    return Burden(
        checkins_sent=len(checkins),
        questions_asked=sum(len(c.questions) for c in checkins),
        answered=len(answered),
        minutes=sum(c.minutes_spent or 0 for c in answered),
        agreement_id=agreement_id,
        unopened=tuple(unopened),
    )


def burden_text(burden: Burden) -> str:
    if not burden.checkins_sent:
        text = "No check-ins have been sent yet, so nothing has been asked of the provider."
    else:
        text = (
            f"{counted(burden.checkins_sent, 'check-in')} sent, "
            f"{counted(burden.questions_asked, 'question')} asked, {burden.answered} answered, "
            f"{counted(burden.minutes, 'minute')} spent answering "
            "(from opening the check-in to sending it)."
        )
    for item in burden.unopened:
        text += (
            f"\nNobody has opened indicator {item.ref} ({item.text}) in a year. If nobody uses "
            "it, asking for it only adds work: propose removing it by typing "
            f"{COMMAND} {CHANGE_STEP} {burden.agreement_id} remove indicator {item.ref}"
        )
    return text


#: An indicator not opened for this long is offered for removal.
UNOPENED_AFTER = timedelta(days=365)


async def unopened_indicators(
    session: AsyncSession, agreement: Agreement, now: datetime
) -> list[Unopened]:
    """Indicators in the framework for over a year that nobody has opened in the last year."""
    framework = await framework_of(session, agreement)
    found: list[Unopened] = []
    for number, (_, indicators) in enumerate(framework.outcomes, start=1):
        for inner, indicator in enumerate(indicators, start=1):
            if now - indicator.created_at < UNOPENED_AFTER:
                continue
            last = await session.scalar(
                select(IndicatorOpened.opened_at)
                .where(IndicatorOpened.item_id == indicator.id)
                .order_by(IndicatorOpened.opened_at.desc())
                .limit(1)
            )
            if last is None or now - last >= UNOPENED_AFTER:
                found.append(Unopened(f"{number}.{inner}", indicator.text))
    return found


# --- words ---------------------------------------------------------------------------------------


def how_often(plan: MonitoringPlanRow) -> str:
    if plan.frequency:
        return FREQUENCY_WORDS[Frequency(plan.frequency)].format(weeks=plan.every_weeks)
    return "on " + ", ".join(format_date(date.fromisoformat(d)) for d in plan.dates)


def plan_section(plan: MonitoringPlanRow) -> Section:
    questions = "\n".join(f"- {QUESTIONS[q]}" for q in plan.questions) or "- none chosen"
    state = (
        "Agreed by both sides."
        if plan.state == PlanState.AGREED
        else (
            "Proposed by the council's team: the provider needs to accept it."
            if plan.proposed_by_side == Side.TEAM
            else "Proposed by the provider: the council's team needs to accept it."
        )
    )
    lines = [
        state,
        f"How often: {how_often(plan)}",
        f"How: {plan.method}",
        f"Reporting timeline: {plan.timeline or 'not set'}",
        f"Targets: {plan.targets or 'none set'}",
        f"Red, amber, green rating: {'yes' if plan.rag else 'no'}",
        f"Questions:\n{questions}",
    ]
    return Section(heading="Monitoring plan", text="\n".join(lines))


def report_button(checkin_id: int, base: str) -> Button:
    """A link to the check-in's upload page (`evidence.upload_path`), where a provider on
    the web sends its own report, photos or voice notes: without it the web had no way
    there. `base` is "" on the web and the full address from chat."""
    return Button(
        label="Send a report or photos",
        action="agreements.upload_page",
        value=str(checkin_id),
        url=f"{base}/agreements/checkins/{checkin_id}/upload",
    )


def checkin_message(
    agreement: Agreement, checkin: CheckinRow, *, base: str, chase: str = ""
) -> Message:
    questions = "\n".join(
        f'{n}. {QUESTIONS[q]} (answer with {q}="...")'
        for n, q in enumerate(checkin.questions, start=1)
    )
    return Message(
        title=f"{chase}Check-in for {agreement.title}",
        text=(
            f"It is time for the check-in you agreed for {agreement.title} "
            f"(due {format_date(checkin.due_on)}). Every question is optional: answer the "
            "ones that help. Press Answer to fill in the form (or "
            + command_ref(f"{COMMAND} answer {checkin.id}", f"the form for check-in {checkin.id}")
            + "), or send your answers typed, for "
            f'example: {COMMAND} answer {checkin.id} effective="Yes, 40 came each week". '
            "Or send your own report instead, with Send a report or photos."
        ),
        sections=[Section(heading="The questions", text=questions or "No questions.")],
        buttons=[
            Button(
                label="Answer",
                action=f"cmd.{COMMAND}",
                value=f"answer {checkin.id}",
                style="primary",
            ),
            Button(
                label="Open the check-in",
                action=f"cmd.{COMMAND}",
                value=f"checkin {checkin.id}",
            ),
            report_button(checkin.id, base),
        ],
        who_sees=ANSWER_SEES,
    )


# --- sending -------------------------------------------------------------------------------------


async def send_in_working_hours(
    session: AsyncSession, person_ids: list[int], message: Message, key: str, now: datetime
) -> None:
    """Queue `message` for each person, in their own working hours."""
    reach = await reach_of(session, person_ids)
    not_before = {
        person_id: next_waking_moment(now, zone_named(r.timezone, LONDON), r.preferences)
        for person_id, r in reach.items()
    }
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_each(session, person_ids, lambda _: payload, key, not_before=not_before)


async def schedule_checkins(
    session: AsyncSession, agreement: Agreement, plan: MonitoringPlanRow
) -> int:
    """One reminder per check-in moment of the agreed plan; how many."""
    moments = checkin_moments(core_plan(agreement, plan), LONDON)
    for moment in moments:
        await schedule_reminder(
            session,
            kind=CHECKIN_KIND,
            due_at=moment.at,
            target_type="monitoring_plan",
            target_id=f"{plan.id}:{moment.on.isoformat()}",
            payload={"plan_id": plan.id, "due_on": moment.on.isoformat()},
        )
    return len(moments)


async def _schedule_chases(
    session: AsyncSession, checkin: CheckinRow, asked: list[int], now: datetime
) -> None:
    away = await away_of(session, asked, now.astimezone(LONDON).date())
    for chase in chase_moments(now, LONDON, away_until=away):
        await schedule_reminder(
            session,
            kind=CHASE_KIND,
            due_at=chase.at,
            target_type="monitoring_checkin",
            target_id=f"{checkin.id}:{chase.step.value}",
            payload={"checkin_id": checkin.id, "step": chase.step.value},
        )


async def send_checkin(reminder: Reminder, services: Services) -> None:
    """Due: ask the reporting organisation's members (a consortium's lead only)."""
    now = services.clock.now()
    plan_id = int(reminder.payload["plan_id"])
    due_on = date.fromisoformat(str(reminder.payload["due_on"]))
    async with services.db.session() as session:
        plan = await session.get(MonitoringPlanRow, plan_id)
        if plan is None or plan.state != PlanState.AGREED:
            return
        agreement = await session.get(Agreement, plan.agreement_id)
        organisation_id = await reporting_organisation(session, plan.agreement_id)
        if agreement is None or organisation_id is None:
            return
        already = await session.scalar(
            select(CheckinRow.id).where(CheckinRow.plan_id == plan.id, CheckinRow.due_on == due_on)
        )
        if already is not None:
            return
        checkin = CheckinRow(
            agreement_id=agreement.id,
            plan_id=plan.id,
            organisation_id=organisation_id,
            due_on=due_on,
            sent_at=now,
            questions=list(plan.questions),
            answers={},
        )
        session.add(checkin)
        await session.flush()
        asked = await reporters(session, organisation_id)
        await send_in_working_hours(
            session,
            asked,
            checkin_message(agreement, checkin, base=services.settings.base_url),
            f"checkin:{checkin.id}:{{person_id}}",
            now,
        )
        await _schedule_chases(session, checkin, asked, now)


async def _pause_chases(
    session: AsyncSession, checkin: CheckinRow, step: ChaseStep, away: date
) -> None:
    """Move this chase to the first working day after `away`, and the later ones after it
    with the same gaps in working days as the chasing policy gives."""
    back = next_working_day(away)
    steps = CHASING.steps()
    counts = dict(steps)
    for later, count in steps:
        if count < counts[step]:
            continue
        on = working_days_after(back, count - counts[step]) if count > counts[step] else back
        await schedule_reminder(
            session,
            kind=CHASE_KIND,
            due_at=start_of_working_day(on, LONDON),
            target_type="monitoring_checkin",
            target_id=f"{checkin.id}:{later.value}",
            payload={"checkin_id": checkin.id, "step": later.value},
        )


async def chase_checkin(reminder: Reminder, services: Services) -> None:
    """Due: remind the reporting organisation, or (the last step) tell the team."""
    now = services.clock.now()
    step = ChaseStep(str(reminder.payload["step"]))
    async with services.db.session() as session:
        checkin = await session.get(CheckinRow, int(reminder.payload["checkin_id"]))
        if checkin is None or checkin.answered_at is not None:
            return
        agreement = await session.get(Agreement, checkin.agreement_id)
        if agreement is None:
            return
        asked = await reporters(session, checkin.organisation_id)
        away = await away_of(session, asked, now.astimezone(LONDON).date())
        if away is not None:  # everyone asked is away: wait until the day after
            await _pause_chases(session, checkin, step, away)
            return
        if step is ChaseStep.TELL_COMMISSIONER:
            organisation = await session.get(Organisation, checkin.organisation_id)
            name = organisation.name if organisation else "The provider"
            team = [p.id for p in await commissioning_team(session, agreement.authority_id)]
            message = Message(
                title=f"No answer yet: the check-in for {agreement.title}",
                text=(
                    f"{name} has not answered the check-in sent on "
                    f"{format_when(checkin.sent_at)}, after two reminders. This is not a mark "
                    "against them: it may be a busy time. It is a prompt to get in touch "
                    "and ask how things are going."
                ),
                buttons=[
                    Button(
                        label="See the monitoring",
                        action=f"cmd.{COMMAND}",
                        value=f"monitoring {agreement.id}",
                    )
                ],
                who_sees="Only your commissioning team is told. No other provider is.",
            )
            await send_in_working_hours(
                session, team, message, f"checkin-told:{checkin.id}:{{person_id}}", now
            )
            checkin.team_told_at = now
            return
        word = "Reminder: " if step is ChaseStep.FIRST_REMINDER else "Second reminder: "
        await send_in_working_hours(
            session,
            asked,
            checkin_message(agreement, checkin, base=services.settings.base_url, chase=word),
            f"checkin-chase:{checkin.id}:{step.value}:{{person_id}}",
            now,
        )


# --- the steps -----------------------------------------------------------------------------------


def core_plan(agreement: Agreement, plan: MonitoringPlanRow) -> MonitoringPlan:
    return MonitoringPlan(
        starts=agreement.starts_on,
        ends=agreement.ends_on,
        frequency=Frequency(plan.frequency) if plan.frequency else None,
        every_weeks=plan.every_weeks,
        dates=tuple(date.fromisoformat(d) for d in plan.dates),
    )


class BadPlan(Refused):
    """The proposed plan does not make sense."""


def _read_plan(args: dict[str, str], agreement: Agreement) -> MonitoringPlanRow:
    """The proposal in the typed words, checked (raises BadPlan with what to fix)."""
    frequency_word = args.get("frequency", "").strip().lower().replace("-", "_")
    if frequency_word and frequency_word not in set(Frequency):
        raise BadPlan(
            "How often must be one of: monthly, quarterly, six_monthly, yearly, or "
            "every_n_weeks with weeks=N. Nothing was changed."
        )
    weeks_word = args.get("weeks", "").strip()
    if weeks_word and not weeks_word.isdigit():
        raise BadPlan("Weeks must be a whole number, like weeks=6. Nothing was changed.")
    try:
        dates = tuple(
            date.fromisoformat(d.strip()) for d in args.get("dates", "").split(",") if d.strip()
        )
    except ValueError:
        raise BadPlan(
            "Write dates like 2026-06-30, with commas between them. Nothing was changed."
        ) from None
    method = args.get("method", "").strip()
    if not method:
        raise BadPlan(
            'Say how you will check in, like method="a short form and a call each quarter". '
            "Nothing was changed."
        )
    questions = [q.strip().lower() for q in args.get("questions", "").split(",") if q.strip()]
    unknown = [q for q in questions if q not in QUESTIONS]
    if unknown:
        raise BadPlan(
            f"I don't know the question {unknown[0]!r}. Choose from: "
            f"{', '.join(QUESTIONS)}. Nothing was changed."
        )
    rag_word = args.get("rag", "no").strip().lower()
    if rag_word not in ("yes", "no"):
        raise BadPlan("Say rag=yes or rag=no. Nothing was changed.")
    row = MonitoringPlanRow(
        frequency=Frequency(frequency_word).value if frequency_word else None,
        every_weeks=int(weeks_word) if weeks_word else None,
        dates=[d.isoformat() for d in dates],
        method=method[:2000],
        questions=list(dict.fromkeys(questions)),
        rag=rag_word == "yes",
        timeline=(args.get("timeline") or "").strip() or None,
        targets=(args.get("targets") or "").strip()[:2000] or None,
    )
    try:
        core_plan(agreement, row)
    except PlanError as error:
        raise BadPlan(f"{error} Nothing was changed.") from None
    return row


def _side(turn: Turn, agreement: Agreement) -> Side:
    return Side.TEAM if runs_it(turn, agreement) else Side.PROVIDER


async def propose(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements plan N ...`: the team or a provider party proposes the plan."""
    _, args = parse_command(turn.text or "")
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "plan")
            return await propose_plan(session, turn, services, agreement, args)
        except Refused as refusal:
            return _plain(refusal.message)


class PlanAgreed(Refused):
    """Both sides agreed the plan already: it is not changed here."""


async def plan_refusal(
    session: AsyncSession, turn: Turn, agreement: Agreement, args: dict[str, str]
) -> Refused | None:
    """Why this proposal can't be made (on the record), or None when it can."""
    existing = await plan_of(session, agreement.id)
    if existing is not None and existing.state == PlanState.AGREED:
        await refuse(session, turn, agreement, "plan", "plan already agreed")
        return PlanAgreed(
            "Both sides have already agreed this plan, so it can't be changed here. "
            "Nothing was changed."
        )
    try:
        _read_plan(args, agreement)
    except BadPlan as bad:
        await refuse(session, turn, agreement, "plan", "bad plan", typed=args)
        return bad
    return None


async def propose_plan(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    agreement: Agreement,
    args: dict[str, str],
) -> list[Reply]:
    """The one step behind the typed plan and the plan form: propose `args` as agreement's
    plan (raises Refused, on the record, when it can't be)."""
    assert turn.actor is not None
    now = services.clock.now()
    refusal = await plan_refusal(session, turn, agreement, args)
    if refusal is not None:
        raise refusal
    existing = await plan_of(session, agreement.id)
    proposal = _read_plan(args, agreement)
    plan = existing or MonitoringPlanRow(agreement_id=agreement.id)
    for field in ("frequency", "every_weeks", "dates", "method", "questions", "rag"):
        setattr(plan, field, getattr(proposal, field))
    plan.timeline = proposal.timeline
    plan.targets = proposal.targets
    plan.state = PlanState.PROPOSED
    plan.proposed_by_side = _side(turn, agreement)
    plan.proposed_by = turn.actor.person_id
    plan.proposed_at = now
    plan.accepted_by = None
    plan.accepted_at = None
    session.add(plan)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "agreement.monitoring_proposed",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
    )
    other = "the provider" if plan.proposed_by_side == Side.TEAM else "the council's team"
    await _ask_other_side(session, agreement, plan, now)
    return [
        Notice(
            text=f"Proposed the monitoring plan for {agreement.title}. Nothing is sent "
            f"until {other} accepts it. We have sent it to them: they can press Accept on "
            f"that message, or here: {command_ref(f'{COMMAND} accept {agreement.id}', 'Accept the plan')}.",
            level="success",
        ),
        Message(sections=[plan_section(plan)], who_sees=_who_sees_plan()),
    ]


async def _ask_other_side(
    session: AsyncSession, agreement: Agreement, plan: MonitoringPlanRow, now: datetime
) -> None:
    """Send the proposed plan to the side that must accept it, in their working hours: the
    reporting organisation's people (the sole provider, or a consortium's lead) when the
    team proposed it, the commissioning team when the provider did."""
    if plan.proposed_by_side == Side.TEAM:
        organisation_id = await reporting_organisation(session, agreement.id)
        people = await reporters(session, organisation_id) if organisation_id else []
        by = "The council's commissioning team"
    else:
        people = [p.id for p in await commissioning_team(session, agreement.authority_id)]
        by = "The provider"
    told = Message(
        title=f"A monitoring plan to agree: {agreement.title}",
        text=f"{by} proposed how {agreement.title} is monitored: how often, how, and what "
        "is asked. Nothing is asked of anyone until your side accepts it. If you want it "
        f"changed, propose your own with {COMMAND} plan {agreement.id}.",
        sections=[plan_section(plan)],
        buttons=[
            Button(
                label="Accept the plan",
                action=f"cmd.{COMMAND}",
                value=f"accept {agreement.id}",
                style="primary",
            )
        ],
        who_sees=_who_sees_plan(),
    )
    key = f"plan-proposed:{plan.id}:{plan.proposed_at.timestamp():.0f}:{{person_id}}"
    await send_in_working_hours(session, people, told, key, now)


def _who_sees_plan() -> str:
    return (
        "The council's commissioning team and the organisations party to this agreement "
        "see this plan. No other provider does."
    )


async def accept(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements accept N`: the other side agrees the proposed plan; check-ins scheduled."""
    assert turn.actor is not None
    now = services.clock.now()
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "accept plan")
        except Refused as refusal:
            return _plain(refusal.message)
        plan = await plan_of(session, agreement.id)
        if plan is None or plan.state != PlanState.PROPOSED:
            await refuse(session, turn, agreement, "accept plan", "nothing to accept")
            return _plain(
                "There is no proposed plan to accept for this agreement. Either side can "
                f"propose one with {COMMAND} plan {agreement.id}. Nothing was changed."
            )
        if plan.proposed_by_side == _side(turn, agreement):
            await refuse(session, turn, agreement, "accept plan", "same side")
            return _plain(
                "Your side proposed this plan, so the other side needs to accept it. "
                "Nothing was changed."
            )
        plan.state = PlanState.AGREED
        plan.accepted_by = turn.actor.person_id
        plan.accepted_at = now
        count = await schedule_checkins(session, agreement, plan)
        first = checkin_moments(core_plan(agreement, plan), LONDON)[0]
        await audit.record_turn(
            session,
            turn,
            "agreement.monitoring_agreed",
            object_type="agreement",
            object_id=agreement.id,
            authority_id=agreement.authority_id,
        )
        return [
            Notice(
                text=f"Agreed: the monitoring plan for {agreement.title}. "
                f"{counted(count, 'check-in')} {'is' if count == 1 else 'are'} planned; "
                f"the first is on {format_when(first.at)}. The organisation "
                "that reports (for a consortium, only the lead) is asked each time, in "
                "working hours.",
                level="success",
            )
        ]


async def show_monitoring(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements monitoring N`: the plan, check-ins and burden meter, per agreement."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "monitoring")
        except Refused as refusal:
            return _plain(refusal.message)
        return [
            *await monitoring_sections(session, turn, agreement, now=services.clock.now()),
            await feedback_reply(session, turn, services, agreement),
        ]


def _step_button(
    label: str, words: str, style: Literal["primary", "default"] = "default"
) -> Button:
    """A button that runs `agreements <words>`, as if typed."""
    return Button(label=label, action=f"cmd.{COMMAND}", value=words, style=style)


async def monitoring_sections(
    session: AsyncSession, turn: Turn, agreement: Agreement, *, now: datetime | None = None
) -> list[Reply]:
    """The plan, the check-ins (answers only for the team and the reporting organisation)
    and the burden meter, for someone already allowed to see the agreement. Indicators
    nobody opened in a year are counted as of `now` (left out when it is not given)."""
    assert turn.actor is not None
    plan = await plan_of(session, agreement.id)
    checkins = await checkins_of(session, agreement.id)
    sections = [
        plan_section(plan)
        if plan
        else Section(
            heading="Monitoring plan",
            text=f"No plan yet. Either side can propose one: {COMMAND} plan {agreement.id}.",
        )
    ]
    may_read = runs_it(turn, agreement) or any(
        c.organisation_id in turn.actor.member_of() for c in checkins
    )
    # Buttons as well as words: on the web there is nowhere to type a command, so each
    # check-in a person may open (or must answer) and a plan waiting for them link there.
    plan_buttons: list[Button] = []
    if plan is None:
        plan_buttons.append(_step_button("Propose a monitoring plan", f"plan {agreement.id}"))
    elif plan.state == PlanState.PROPOSED and plan.proposed_by_side != _side(turn, agreement):
        plan_buttons.append(
            _step_button("Accept the plan", f"accept {agreement.id}", style="primary")
        )
    sections[0].buttons = plan_buttons
    lines, buttons = [], []
    for c in checkins:
        day = format_date(c.due_on)
        if c.answered_at:
            rag = f", rated {c.rag}" if c.rag else ""
            line = f"{day}: answered{rag}"
            if may_read:
                line += f" ({COMMAND} checkin {c.id})"
                buttons.append(_step_button(f"Open the check-in of {day}", f"checkin {c.id}"))
        else:
            line = f"{day}: not answered yet"
            if c.organisation_id in turn.actor.member_of():
                buttons.append(
                    _step_button(f"Answer the check-in of {day}", f"answer {c.id}", "primary")
                )
        lines.append(line)
    if lines:
        sections.append(Section(heading="Check-ins", text="\n".join(lines), buttons=buttons))
    unopened = await unopened_indicators(session, agreement, now) if now is not None else []
    sections.append(
        Section(
            heading="Burden meter",
            text=burden_text(burden_of(checkins, unopened, agreement.id)),
        )
    )
    return [
        Message(
            title=f"Monitoring: {agreement.title}",
            sections=sections,
            who_sees=_who_sees_plan(),
        )
    ]


async def load_checkin(
    session: AsyncSession, turn: Turn, checkin_id: int | None, attempted: str
) -> tuple[CheckinRow, Agreement, bool]:
    """The check-in, for the reporting organisation's members (who answer) or the team."""
    assert turn.actor is not None
    checkin = await session.get(CheckinRow, checkin_id) if checkin_id else None
    agreement = await session.get(Agreement, checkin.agreement_id) if checkin else None
    if checkin is None or agreement is None:
        await refuse(session, turn, None, attempted, "no such check-in", checkin=checkin_id)
        raise Refused(NOT_FOUND)
    reporter = checkin.organisation_id in turn.actor.member_of()
    if not (reporter or runs_it(turn, agreement)):
        await refuse(session, turn, agreement, attempted, "not the team or the reporter")
        raise Refused(NOT_FOUND)
    return checkin, agreement, reporter


async def open_checkin(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements checkin C`: the questions (the reporter's clock starts) or the answers."""
    now = services.clock.now()
    async with services.db.session() as session:
        try:
            checkin, agreement, reporter = await load_checkin(
                session, turn, checkin_id, "open check-in"
            )
        except Refused as refusal:
            return _plain(refusal.message)
        if checkin.answered_at is None and reporter:
            if checkin.opened_at is None:
                checkin.opened_at = now
            plan = await session.get(MonitoringPlanRow, checkin.plan_id)
            base = "" if turn.door == Door.WEB else services.settings.base_url
            message = checkin_message(agreement, checkin, base=base)
            if plan is not None and plan.rag:
                message.sections.append(
                    Section(
                        heading="Rating",
                        text="Your plan has a red, amber or green rating: add rag=red, "
                        "rag=amber or rag=green.",
                    )
                )
            message.buttons = [
                Button(
                    label="Answer",
                    action=f"cmd.{COMMAND}",
                    value=f"answer {checkin.id}",
                    style="primary",
                ),
                report_button(checkin.id, base),
            ]
            return [message]
        shown = answers_message(
            agreement, checkin, await values_of(session, checkin.id), for_team=not reporter
        )
        thread = await thread_section(session, checkin.id, "the council's team")
        if thread is not None:
            shown.sections.append(thread)
        return [shown]


def conversation_buttons(checkin: CheckinRow, *, for_team: bool) -> list[Button]:
    """Reply (both sides) and Arrange a call (the team) on an answered check-in."""
    buttons = [Button(label="Reply", action=f"cmd.{COMMAND}", value=f"reply {checkin.id}")]
    if for_team:
        buttons.append(
            Button(label="Arrange a call", action=f"cmd.{COMMAND}", value=f"call {checkin.id}")
        )
    return buttons


async def values_of(session: AsyncSession, checkin_id: int) -> list[tuple[str, str]]:
    """The indicator values a check-in gave: (the indicator's words, the value)."""
    rows = (
        await session.execute(
            select(OutcomeItem.text, IndicatorValue.value)
            .join(OutcomeItem, OutcomeItem.id == IndicatorValue.item_id)
            .where(IndicatorValue.checkin_id == checkin_id)
            .order_by(IndicatorValue.id)
        )
    ).all()
    return [(text, value) for text, value in rows]


def answers_message(
    agreement: Agreement,
    checkin: CheckinRow,
    values: Sequence[tuple[str, str]] = (),
    *,
    for_team: bool = True,
) -> Message:
    if checkin.answered_at is None:
        return Message(
            title=f"Check-in for {agreement.title}",
            text=f"Sent {format_when(checkin.sent_at)}; not answered yet.",
            who_sees=TEAM_SEES,
        )
    sections = [
        Section(heading=QUESTIONS[q], text=str(checkin.answers[q]))
        for q in checkin.questions
        if checkin.answers.get(q)
    ]
    if values:
        sections.append(
            Section(heading="Indicators", text="\n".join(f"{t}: {v}" for t, v in values))
        )
    extra = checkin.answers.get("notes")
    if extra:
        sections.append(Section(heading="Anything else", text=str(extra)))
    rag = f" They rated it {checkin.rag}." if checkin.rag else ""
    prompt = (
        " This is a prompt to talk: reply to them, or arrange a call, to hear more."
        if for_team
        else " You can reply to the council's team here."
    )
    return Message(
        title=f"Check-in answered: {agreement.title}",
        text=f"Answered {format_when(checkin.answered_at)}.{rag}{prompt}",
        sections=sections,
        buttons=conversation_buttons(checkin, for_team=for_team),
        who_sees=TEAM_SEES,
    )


#: Keeps the files sent with an answer and says what to show the team about them; raises
#: Refused, keeping nothing, when a file can't be kept (handlers/agreements/evidence.py).
FilesWithAnswer = Callable[[AsyncSession, CheckinRow, Agreement], Awaitable[list[Section]]]


async def answer(
    turn: Turn,
    services: Services,
    checkin_id: int | None,
    *,
    files: FilesWithAnswer | None = None,
    ignore: frozenset[str] = frozenset(),
) -> list[Reply]:
    """`agreements answer C effective="..." rag=green`: the reporter sends the answers (with
    `files`, the files sent with them too; `ignore` names words that are about those)."""
    _, typed = parse_command(turn.text or "")
    args = {k: v for k, v in typed.items() if k not in ignore}
    async with services.db.session() as session:
        try:
            checkin, agreement = await load_to_answer(session, turn, checkin_id)
            values = {k: v for k, v in args.items() if TYPED_INDICATOR.fullmatch(k)}
            indicators = await _typed_indicators(session, turn, agreement, values)
            answers = {k: v for k, v in args.items() if k not in values}
            return await record_answer(
                session, turn, services, checkin, agreement, answers, indicators, files=files
            )
        except Refused as refusal:
            return _plain(refusal.message)


#: A typed indicator value: `indicator_1_2="40"` for indicator 1.2.
TYPED_INDICATOR = re.compile(r"indicator_(\d+)_(\d+)")


async def _typed_indicators(
    session: AsyncSession, turn: Turn, agreement: Agreement, typed: dict[str, str]
) -> dict[int, str]:
    """Typed indicator values by indicator id (raises Refused, on the record, for a number
    the framework does not have)."""
    if not typed:
        return {}
    framework = await framework_of(session, agreement)
    found: dict[int, str] = {}
    for key, value in typed.items():
        match = TYPED_INDICATOR.fullmatch(key)
        assert match is not None
        outcome, inner = int(match[1]), int(match[2])
        indicators = (
            framework.outcomes[outcome - 1][1] if 1 <= outcome <= len(framework.outcomes) else []
        )
        if not 1 <= inner <= len(indicators):
            await refuse(session, turn, agreement, "answer check-in", "no such indicator")
            raise Refused(
                f"This agreement has no indicator {outcome}.{inner}. See them: "
                f"{command_ref(f'{COMMAND} outcomes {agreement.id}', 'the outcomes')}. "
                "Nothing was changed."
            )
        if value.strip():
            found[indicators[inner - 1].id] = value.strip()[:400]
    return found


async def load_to_answer(
    session: AsyncSession, turn: Turn, checkin_id: int | None
) -> tuple[CheckinRow, Agreement]:
    """The check-in, for a member of the organisation asked; anyone else is refused (on the
    record): the team is told only the reporter answers, others that it was not found."""
    checkin, agreement, reporter = await load_checkin(session, turn, checkin_id, "answer check-in")
    if not reporter:
        await refuse(session, turn, agreement, "answer check-in", "not the reporter")
        raise Refused("Only the organisation asked can answer this check-in. Nothing was changed.")
    return checkin, agreement


async def answer_problem(
    session: AsyncSession,
    turn: Turn,
    checkin: CheckinRow,
    agreement: Agreement,
    args: dict[str, str],
    indicators: dict[int, str],
) -> str | None:
    """What is wrong with these answers (on the record), or None."""
    problem = await _answer_problem(session, checkin, args, bool(indicators))
    if problem:
        await refuse(session, turn, agreement, "answer check-in", problem, typed=args)
    return problem


async def record_answer(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    checkin: CheckinRow,
    agreement: Agreement,
    args: dict[str, str],
    indicators: dict[int, str],
    *,
    files: FilesWithAnswer | None = None,
) -> list[Reply]:
    """The one step behind the typed answer and the check-in form: keep the answers and the
    indicator values (and any files sent with them), stop the chases and tell the team
    (raises Refused, on the record, before anything is kept)."""
    assert turn.actor is not None
    now = services.clock.now()
    problem = await answer_problem(session, turn, checkin, agreement, args, indicators)
    if problem:
        raise Refused(f"{problem} Nothing was changed.")
    extra = await files(session, checkin, agreement) if files is not None else []
    checkin.answers = {
        k: v.strip() for k, v in args.items() if (k in QUESTIONS or k == "notes") and v.strip()
    }
    checkin.rag = args.get("rag", "").strip().lower() or None
    for item_id, value in indicators.items():
        session.add(
            IndicatorValue(checkin_id=checkin.id, item_id=item_id, value=value, recorded_at=now)
        )
    await session.flush()
    await mark_answered(session, turn, checkin, agreement, now, extra=extra)
    return [
        Notice(
            text=f"Thank you: your check-in for {agreement.title} is sent. The council's "
            "commissioning team will read it and may get in touch to talk it through. "
            "No other provider sees it.",
            level="success",
        ),
        answered_next_steps(turn, services, checkin, agreement),
    ]


def answered_next_steps(
    turn: Turn, services: Services, checkin: CheckinRow, agreement: Agreement
) -> Message:
    """After the answer is sent, where to go next: on the web the confirmation page had no
    way on (no upload page, no way back to the agreement)."""
    base = "" if turn.door == Door.WEB else services.settings.base_url
    return Message(
        title="What next",
        text="You can also send photos, voice notes or your own report for this check-in. "
        "If the council's team replies, you will get a message with a Reply button.",
        buttons=[
            report_button(checkin.id, base),
            Button(
                label="See the agreement",
                action=f"cmd.{COMMAND}",
                value=f"show {agreement.id}",
            ),
        ],
        who_sees=ANSWER_SEES,
    )


async def mark_answered(
    session: AsyncSession,
    turn: Turn,
    checkin: CheckinRow,
    agreement: Agreement,
    now: datetime,
    *,
    extra: list[Section] | None = None,
) -> None:
    """Mark the check-in answered (the burden meter's minutes), stop its chases, tell the
    team (with `extra` sections, e.g. the files sent as the answer) and record it. Shared
    by the answers given here (typed or by form) and a report sent instead
    (handlers/agreements/evidence.py)."""
    assert turn.actor is not None
    opened = checkin.opened_at or now
    checkin.opened_at = opened
    checkin.answered_at = now
    checkin.answered_by = turn.actor.person_id
    checkin.minutes_spent = max(1, math.ceil((now - opened).total_seconds() / 60))
    await cancel_reminders(
        session,
        kind=CHASE_KIND,
        target_type="monitoring_checkin",
        target_ids=[f"{checkin.id}:{step.value}" for step in ChaseStep],
    )
    team = [p.id for p in await commissioning_team(session, agreement.authority_id)]
    told = answers_message(agreement, checkin, await values_of(session, checkin.id))
    told.sections.extend(extra or [])
    organisation = await session.get(Organisation, checkin.organisation_id)
    if organisation is not None:
        told.text = f"From {organisation.name}. {told.text}"
    await send_in_working_hours(
        session, team, told, f"checkin-answer:{checkin.id}:{{person_id}}", now
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.checkin_answered",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
    )


async def _answer_problem(
    session: AsyncSession, checkin: CheckinRow, args: dict[str, str], has_values: bool = False
) -> str | None:
    if checkin.answered_at is not None:
        return "This check-in has already been answered."
    unknown = [k for k in args if k not in checkin.questions and k not in ("rag", "notes")]
    if unknown:
        return f"This check-in has no question called {unknown[0]!r}."
    if not has_values and not any(args.get(q, "").strip() for q in [*checkin.questions, "notes"]):
        return (
            f"Answer at least one question, like {checkin.questions[0] if checkin.questions else 'notes'}"
            '="...".'
        )
    plan = await session.get(MonitoringPlanRow, checkin.plan_id)
    rag = args.get("rag", "").strip().lower()
    if plan is not None and plan.rag and rag not in RAG:
        return "Your plan has a rating: add rag=red, rag=amber or rag=green."
    if plan is not None and not plan.rag and rag:
        return "Your plan has no red, amber or green rating, so leave rag out."
    return None


async def set_away(turn: Turn, services: Services) -> list[Reply]:
    """`agreements away 2026-08-14` (or `away off`): pause check-in chases while away."""
    assert turn.actor is not None
    words, _ = parse_command(turn.text or "")
    typed = words[2] if len(words) > 2 else ""
    now = services.clock.now()
    async with services.db.session() as session:
        row = await session.get(AwayUntil, turn.actor.person_id)
        if typed == "off":
            if row is not None:
                await session.delete(row)
            return [Notice(text="You are back: check-in reminders come as usual.", level="success")]
        try:
            until = date.fromisoformat(typed)
        except ValueError:
            until = None
        if until is None or until < today(services):
            await refuse(session, turn, None, "away", "bad date", typed=typed)
            return _plain(
                f"Write the last day you are away, like {COMMAND} away 2026-08-14 (today or "
                "later), or away off. Nothing was changed."
            )
        if row is None:
            row = AwayUntil(person_id=turn.actor.person_id, away_until=until)
            session.add(row)
        row.away_until = until
        row.updated_at = now
        return [
            Notice(
                text=f"Got it: you are away until {format_date(until)}. Nobody will remind you "
                "about check-ins until after then. Only you see this setting.",
                level="success",
            )
        ]
