"""Contract performance assessments (Procurement Act 2023 s.71), issue 15.

Where an agreement has KPIs, the council's team assesses performance against each one, on
the regulations' scale (good, approaching target, requires improvement, inadequate, other;
Procurement Regulations 2024 reg. 39), with a note:

1. `agreements assess N` opens a form built from the agreement's KPIs, on every door (or
   `agreements rate N kpi1=good note1="..." summary="..."` in chat). It saves a **draft**
   that only the team sees. The form is never filled in from check-in answers: a rating
   can lead to a supplier's exclusion, so it is a person's judgement, written by them.
2. `agreements assessment A share` tells the provider first (its reporting organisation's
   people, on their own door). They may respond within the working days the legal data
   gives as good practice: `agreements assessment A respond text="..."`.
3. `agreements assessment A decide reason="..."` records the final decision: who, when and
   why, on the record. Where s.71 made the assessment a duty, a contract performance notice
   (UK9) is due within 30 days; the team is reminded every week, at the start of a working
   day, until it records the identifier: `agreements assessment A notice id=...`.

The team is reminded to assess at least every 12 months from the start (or from the last
final assessment), four weeks ahead, and again when the agreement ends (`ending.py`), only
where s.71 applies. `agreements assessments N` lists them: the team sees its drafts; the
agreement's parties see only what was shared with them. Nobody else sees anything, and
every refusal changes nothing and is on the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.forms import Choice, Field, FieldType, FormDefinition, Page, definition_checksum
from bot.core.law import LawError
from bot.core.law.performance import (
    RATING_MEANINGS,
    Rating,
    assessment_required,
    next_assessment_due,
    performance_notice_due,
    provider_response_working_days,
)
from bot.core.monitoring.moments import start_of_working_day
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Turn
from bot.core.words import counted
from bot.core.working_days import working_day_on_or_before, working_days_after
from bot.services import Services
from handlers.agreements.common import (
    COMMAND,
    NOT_FOUND,
    Refused,
    is_party,
    load_for_team,
    load_for_viewer,
    refuse,
    runs_it,
    today,
)
from handlers.agreements.monitoring import reporters, reporting_organisation
from handlers.engagements.common import number_at, words_of
from handlers.forms import Subject, topic_number
from handlers.opportunities.setup import TeamForm
from handlers.steps import load_locked
from storage import audit
from storage.agreement_tables import Agreement, AgreementKpi
from storage.agreements import kpis_of
from storage.assessment_tables import (
    AgreementEnding,
    AssessmentRating,
    AssessmentState,
    PerformanceAssessment,
)
from storage.engagements import commissioning_team
from storage.forms import latest_definition, save_definition
from storage.models import FormResponse, Reminder
from storage.outbox import send_each
from storage.reminders import cancel_reminders, schedule_reminder
from storage.visibility import Refusal

#: Reminders to assess (yearly, and when the agreement ends), one pending per agreement.
ASSESS_KIND = "agreement.performance_assessment"
ASSESS_TARGET = "agreement"
#: Reminders to record a contract performance notice's identifier.
NOTICE_KIND = "agreement.performance_notice"
NOTICE_TARGET = "performance_assessment"
FORM_PREFIX = "assessment-"
#: How often the team is reminded of something still owed.
EVERY = timedelta(days=7)
#: How long before the 12 months are up the team is first reminded (our choice, not law).
AHEAD = timedelta(days=28)

NOT_FROM_CHECKINS = (
    "We never fill this in from check-in answers. A rating can lead to the provider being "
    "kept out of future contracts, so it must be your team's own judgement."
)
TEAM_ONLY = "Only your council's commissioning team sees this."
WHO_SEES = (
    "Your council's commissioning team and the organisations party to this agreement see "
    "assessments once they are shared. No other provider sees them."
)


class NoKpis(Refused):
    """The agreement has no KPIs, so there is nothing to assess against."""


class BadAssessment(Refused):
    """Ratings or an answer that can't be read, or a step out of order."""


# --- the law, for one agreement -----------------------------------------------------------------


def law_applies(agreement: Agreement) -> bool:
    """Whether s.71 makes assessments a duty for this agreement (KPIs under s.52)."""
    try:
        return assessment_required(
            None if agreement.value_pence is None else Decimal(agreement.value_pence) / 100,
            agreement.light_touch,
            agreement.framework_call_off,
            agreement.grant_funded,
            agreement.starts_on,
        )
    except LawError:
        return False  # began before the Act


def working_morning(day: date) -> datetime:
    """8am London on `day`, or on the next working day."""
    return start_of_working_day(day, LONDON)


# --- the form, built from the agreement's KPIs ----------------------------------------------


def _rating_field(kpi: AgreementKpi) -> Field:
    return Field(
        id=f"kpi_{kpi.position}_rating",
        type=FieldType.SINGLE_CHOICE,
        label=f"{kpi.name}: how did they do?"[:200],
        hint=f"Measured by {kpi.measure}. Target: {kpi.target}."[:300],
        help=NOT_FROM_CHECKINS,
        required=True,
        choices=[
            Choice(value=r.value, label=words, hint=meaning)
            for r, (words, meaning) in RATING_MEANINGS.items()
        ],
    )


def _note_field(kpi: AgreementKpi) -> Field:
    return Field(
        id=f"kpi_{kpi.position}_note",
        type=FieldType.LONG_TEXT,
        label=f"Why this rating for {kpi.name}?"[:200],
        hint="What you saw. The provider will read this before you decide.",
        max_length=2000,
    )


def assessment_form(agreement: Agreement, kpis: list[AgreementKpi]) -> FormDefinition:
    """One page a few KPIs (a rating and a note each), then a summary."""
    pages: list[Page] = []
    for start in range(0, len(kpis), 10):
        chunk = kpis[start : start + 10]
        pages.append(
            Page(
                id=f"kpis_{start // 10 + 1}",
                title="Each key performance indicator",
                intro=NOT_FROM_CHECKINS,
                fields=[f for kpi in chunk for f in (_rating_field(kpi), _note_field(kpi))],
            )
        )
    pages.append(
        Page(
            id="summary",
            title="In short",
            fields=[
                Field(
                    id="summary",
                    type=FieldType.LONG_TEXT,
                    label="Anything to say about performance overall?",
                    max_length=2000,
                )
            ],
        )
    )
    return FormDefinition(
        key=f"{FORM_PREFIX}{agreement.id}",
        title=f"Assess performance: {agreement.title}"[:200],
        intro=(
            "Rate performance against each key performance indicator and say why. This saves "
            "a draft that only your team sees. Next you share it with the provider, who may "
            "respond, and then your team decides. " + NOT_FROM_CHECKINS
        ),
        who_sees=(
            "Only your council's commissioning team until you share it. Then the "
            "organisations party to this agreement see it too. No other provider does."
        ),
        pages=pages,
    )


async def ensure_form(
    session: AsyncSession, agreement: Agreement, kpis: list[AgreementKpi]
) -> FormDefinition:
    """The agreement's form, saved as a new version when its KPIs have changed."""
    wanted = assessment_form(agreement, kpis)
    latest = await latest_definition(session, wanted.key)
    if latest is not None and definition_checksum(latest) == definition_checksum(wanted):
        return latest
    version = latest.version + 1 if latest is not None else 1
    await save_definition(session, wanted, version=version, source="assessment")
    return wanted.model_copy(update={"version": version})


# --- reading ratings (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRating:
    kpi: AgreementKpi
    rating: Rating
    note: str | None


_RATING_WORDS = {
    **{r.value: r for r in Rating},
    **{words.lower(): r for r, (words, _) in RATING_MEANINGS.items()},
}


def read_rating(text: str) -> Rating | None:
    """'good', 'approaching target', 'requires_improvement' ... as a `Rating`, or None."""
    cleaned = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    return _RATING_WORDS.get(cleaned) or _RATING_WORDS.get(cleaned.replace(" ", "_"))


def scale_words() -> str:
    return ", ".join(words.lower() for words, _ in RATING_MEANINGS.values())


def ratings_from_form(answers: Mapping[str, Any], kpis: list[AgreementKpi]) -> list[KpiRating]:
    rated: list[KpiRating] = []
    for kpi in kpis:
        found = read_rating(str(answers.get(f"kpi_{kpi.position}_rating") or ""))
        if found is None:
            raise BadAssessment(f"Choose a rating for {kpi.name}. Nothing was saved.")
        note = str(answers.get(f"kpi_{kpi.position}_note") or "").strip() or None
        rated.append(KpiRating(kpi, found, note))
    return rated


def ratings_from_args(
    args: Mapping[str, str], kpis: list[AgreementKpi], agreement_id: int
) -> list[KpiRating]:
    """`kpi1=good note1="..."` for each KPI by its number, or a `BadAssessment`."""
    rated: list[KpiRating] = []
    for kpi in kpis:
        given = args.get(f"kpi{kpi.position}", "")
        found = read_rating(given)
        if found is None:
            example = " ".join(f"kpi{k.position}=good" for k in kpis)
            said = f'We could not read "{given}" as a rating. ' if given else ""
            raise BadAssessment(
                f"{said}Rate every KPI ({kpi.position}: {kpi.name}) as one of: "
                f"{scale_words()}. For example: {COMMAND} rate {agreement_id} {example} "
                'note1="Why". Nothing was saved.'
            )
        note = (args.get(f"note{kpi.position}") or "").strip()[:2000] or None
        rated.append(KpiRating(kpi, found, note))
    return rated


# --- the service steps --------------------------------------------------------------------------


async def assessments_of(session: AsyncSession, agreement_id: int) -> list[PerformanceAssessment]:
    return list(
        (
            await session.scalars(
                select(PerformanceAssessment)
                .where(PerformanceAssessment.agreement_id == agreement_id)
                .order_by(PerformanceAssessment.id)
            )
        ).all()
    )


async def ratings_of(session: AsyncSession, assessment_id: int) -> list[AssessmentRating]:
    return list(
        (
            await session.scalars(
                select(AssessmentRating)
                .where(AssessmentRating.assessment_id == assessment_id)
                .order_by(AssessmentRating.position)
            )
        ).all()
    )


async def ending_of(session: AsyncSession, agreement_id: int) -> AgreementEnding | None:
    found: AgreementEnding | None = await session.scalar(
        select(AgreementEnding).where(AgreementEnding.agreement_id == agreement_id)
    )
    return found


async def kpis_to_assess(
    session: AsyncSession, turn: Turn, agreement: Agreement, attempted: str
) -> list[AgreementKpi]:
    """The KPIs, or a refusal on the record: none set, or one already with the provider."""
    kpis = await kpis_of(session, agreement.id)
    if not kpis:
        await refuse(session, turn, agreement, attempted, "no KPIs")
        raise NoKpis(
            f"{agreement.title} has no key performance indicators, so there is nothing to "
            f"assess it against. If it should have some, add them first: "
            f"{command_ref(f'{COMMAND} edit {agreement.id}', 'the agreement details form')}. "
            "Nothing was saved."
        )
    waiting = [
        a for a in await assessments_of(session, agreement.id) if a.state == AssessmentState.SHARED
    ]
    if waiting:
        await refuse(session, turn, agreement, attempted, "one is with the provider")
        raise BadAssessment(
            f"Assessment {waiting[0].id} is with the provider. Decide it first, with your reason: "
            + command_ref(
                f"{COMMAND} assessments {agreement.id}",
                f"the assessments of agreement {agreement.id}",
            )
            + ". Nothing was saved."
        )
    return kpis


async def save_draft(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    agreement: Agreement,
    ratings: list[KpiRating],
    summary: str | None,
) -> PerformanceAssessment:
    """The team's draft: a new one, or its unshared draft with these ratings instead."""
    assert turn.actor is not None
    draft = next(
        (
            a
            for a in await assessments_of(session, agreement.id)
            if a.state == AssessmentState.DRAFT
        ),
        None,
    )
    now = services.clock.now()
    if draft is None:
        draft = PerformanceAssessment(
            agreement_id=agreement.id,
            state=AssessmentState.DRAFT,
            notice_required=False,
        )
        session.add(draft)
    else:
        for old in await ratings_of(session, draft.id):
            await session.delete(old)
    draft.on_termination = await ending_of(session, agreement.id) is not None
    draft.required_by_law = law_applies(agreement)
    draft.summary = (summary or "").strip()[:2000] or None
    draft.drafted_by = turn.actor.person_id
    draft.drafted_at = now
    await session.flush()
    for rated in ratings:
        session.add(
            AssessmentRating(
                assessment_id=draft.id,
                kpi_id=rated.kpi.id,
                position=rated.kpi.position,
                kpi_name=rated.kpi.name,
                kpi_target=rated.kpi.target,
                rating=rated.rating,
                note=rated.note,
            )
        )
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "agreement.assessment_drafted",
        object_type="performance_assessment",
        object_id=draft.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
    )
    return draft


async def _load_assessment(
    session: AsyncSession, turn: Turn, assessment_id: int, attempted: str, *, team: bool
) -> tuple[PerformanceAssessment, Agreement]:
    assessment = await load_locked(session, PerformanceAssessment, assessment_id)
    if assessment is None:
        await refuse(session, turn, None, attempted, "no such assessment", assessment=assessment_id)
        raise BadAssessment(NOT_FOUND)
    if team:
        agreement = await load_for_team(session, turn, assessment.agreement_id, attempted)
    else:
        agreement = await load_for_viewer(session, turn, assessment.agreement_id, attempted)
        if not runs_it(turn, agreement) and assessment.state == AssessmentState.DRAFT:
            await refuse(session, turn, agreement, attempted, "a draft", assessment=assessment.id)
            raise BadAssessment(NOT_FOUND)
    return assessment, agreement


async def _problem(
    session: AsyncSession,
    turn: Turn,
    agreement: Agreement,
    assessment: PerformanceAssessment,
    attempted: str,
    reason: str,
    message: str,
) -> BadAssessment:
    await refuse(session, turn, agreement, attempted, reason, assessment=assessment.id)
    return BadAssessment(message)


async def share(
    session: AsyncSession, turn: Turn, services: Services, assessment_id: int
) -> tuple[PerformanceAssessment, Agreement, int]:
    """Tell the provider first: its reporting people get the draft, and have some working
    days to respond. How many people were told."""
    assert turn.actor is not None
    assessment, agreement = await _load_assessment(
        session, turn, assessment_id, "share assessment", team=True
    )
    if assessment.state != AssessmentState.DRAFT:
        raise await _problem(
            session,
            turn,
            agreement,
            assessment,
            "share assessment",
            "already shared",
            f"Assessment {assessment.id} was already shared with the provider. Nothing was "
            "changed.",
        )
    on = today(services)
    try:
        days = provider_response_working_days(agreement.starts_on)
    except LawError:
        days = provider_response_working_days(on)
    assessment.state = AssessmentState.SHARED
    assessment.shared_by = turn.actor.person_id
    assessment.shared_at = services.clock.now()
    assessment.respond_by = working_days_after(on, days)
    organisation_id = await reporting_organisation(session, agreement.id)
    people = await reporters(session, organisation_id) if organisation_id else []
    ratings = await ratings_of(session, assessment.id)
    payload = ReplyList(replies=[shared_message(agreement, assessment, ratings)]).model_dump(
        mode="json"
    )
    sent = await send_each(
        session,
        people,
        lambda _: payload,
        f"assessment:{assessment.id}:shared:person:{{person_id}}",
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.assessment_shared",
        object_type="performance_assessment",
        object_id=assessment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        told=sorted(sent),
        respond_by=assessment.respond_by.isoformat(),
    )
    return assessment, agreement, len(sent)


async def respond(
    session: AsyncSession, turn: Turn, services: Services, assessment_id: int
) -> tuple[PerformanceAssessment, Agreement]:
    """The provider's answer to a shared assessment, before the team decides."""
    assert turn.actor is not None
    attempted = "respond to assessment"
    assessment, agreement = await _load_assessment(
        session, turn, assessment_id, attempted, team=False
    )
    text = (turn.args.get("text") or turn.args.get("reason") or "").strip()
    problem: tuple[str, str] | None = None
    if runs_it(turn, agreement):
        problem = ("the team", "The provider responds to an assessment, not the team.")
    elif assessment.state != AssessmentState.SHARED:
        problem = ("not open", "This assessment has been decided, so it can't be answered now.")
    elif not text:
        problem = (
            "no text",
            f"Say what you want the team to know: {COMMAND} assessment {assessment.id} "
            'respond text="...".',
        )
    if problem is not None:
        raise await _problem(
            session,
            turn,
            agreement,
            assessment,
            attempted,
            problem[0],
            problem[1] + " Nothing was changed.",
        )
    assessment.provider_response = text[:4000]
    assessment.responded_by = turn.actor.person_id
    assessment.responded_at = services.clock.now()
    await audit.record_turn(
        session,
        turn,
        "agreement.assessment_answered",
        object_type="performance_assessment",
        object_id=assessment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
    )
    team = [p.id for p in await commissioning_team(session, agreement.authority_id)]
    payload = ReplyList(replies=[responded_message(agreement, assessment)]).model_dump(mode="json")
    await send_each(
        session,
        team,
        lambda _: payload,
        f"assessment:{assessment.id}:answered:person:{{person_id}}",
    )
    return assessment, agreement


async def decide(
    session: AsyncSession, turn: Turn, services: Services, assessment_id: int
) -> tuple[PerformanceAssessment, Agreement]:
    """A named person of the team makes it final, with a reason, after the provider was
    told and had its time to respond (or has responded)."""
    assert turn.actor is not None
    attempted = "decide assessment"
    assessment, agreement = await _load_assessment(
        session, turn, assessment_id, attempted, team=True
    )
    reason = (turn.args.get("reason") or "").strip()
    on = today(services)
    problem: tuple[str, str] | None = None
    if assessment.state == AssessmentState.DRAFT:
        problem = (
            "not shared",
            "The provider must see the assessment before you decide. Share it first: "
            f"{command_ref(f'{COMMAND} assessment {assessment.id} share', f'Share assessment {assessment.id}')}.",
        )
    elif assessment.state == AssessmentState.FINAL:
        problem = ("already decided", f"Assessment {assessment.id} is already decided.")
    elif not reason:
        problem = (
            "no reason",
            f'Say why: {COMMAND} assessment {assessment.id} decide reason="...".',
        )
    elif (
        assessment.provider_response is None
        and assessment.respond_by is not None
        and on <= assessment.respond_by
    ):
        problem = (
            "provider still has time",
            f"The provider has until {format_date(assessment.respond_by)} to respond. Decide "
            "after that, or once they have responded.",
        )
    if problem is not None:
        raise await _problem(
            session,
            turn,
            agreement,
            assessment,
            attempted,
            problem[0],
            problem[1] + " Nothing was decided.",
        )
    now = services.clock.now()
    assessment.state = AssessmentState.FINAL
    assessment.decided_by = turn.actor.person_id
    assessment.decided_at = now
    assessment.decision_reason = reason[:2000]
    if assessment.required_by_law:
        assessment.notice_required = True
        assessment.notice_due_on = performance_notice_due(on, agreement.starts_on)
        await tell_team(
            session,
            agreement,
            notice_needed_message(agreement, assessment),
            f"assessment:{assessment.id}:notice",
        )
        await schedule_reminder(
            session,
            kind=NOTICE_KIND,
            due_at=working_morning(on + EVERY),
            target_type=NOTICE_TARGET,
            target_id=assessment.id,
            payload={"assessment_id": assessment.id},
        )
    await audit.record_turn(
        session,
        turn,
        "agreement.assessment_decided",
        object_type="performance_assessment",
        object_id=assessment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        reason=assessment.decision_reason,
        notice_required=assessment.notice_required,
    )
    organisation_id = await reporting_organisation(session, agreement.id)
    people = await reporters(session, organisation_id) if organisation_id else []
    ratings = await ratings_of(session, assessment.id)
    payload = ReplyList(replies=[decided_message(agreement, assessment, ratings)]).model_dump(
        mode="json"
    )
    await send_each(
        session, people, lambda _: payload, f"assessment:{assessment.id}:final:person:{{person_id}}"
    )
    if assessment.on_termination:
        await cancel_reminders(
            session, kind=ASSESS_KIND, target_type=ASSESS_TARGET, target_ids=[str(agreement.id)]
        )
    else:
        await plan_assessments(session, agreement, services)
    return assessment, agreement


async def record_notice(
    session: AsyncSession, turn: Turn, services: Services, assessment_id: int
) -> PerformanceAssessment:
    """The identifier of the published contract performance notice; the reminders stop."""
    assert turn.actor is not None
    attempted = "record performance notice"
    assessment, agreement = await _load_assessment(
        session, turn, assessment_id, attempted, team=True
    )
    identifier = (turn.args.get("id") or "").strip()
    problem: tuple[str, str] | None = None
    if not assessment.notice_required:
        problem = ("not needed", "This assessment needs no contract performance notice.")
    elif assessment.notice_id:
        problem = ("already recorded", f"The notice {assessment.notice_id} is already recorded.")
    elif not identifier:
        problem = (
            "no identifier",
            "Give the notice's identifier from Find a Tender: "
            f"{COMMAND} assessment {assessment.id} notice id=...",
        )
    if problem is not None:
        raise await _problem(
            session,
            turn,
            agreement,
            assessment,
            attempted,
            problem[0],
            problem[1] + " Nothing was changed.",
        )
    assessment.notice_id = identifier[:100]
    assessment.notice_recorded_by = turn.actor.person_id
    assessment.notice_recorded_at = services.clock.now()
    await cancel_reminders(
        session, kind=NOTICE_KIND, target_type=NOTICE_TARGET, target_ids=[str(assessment.id)]
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.performance_notice_recorded",
        object_type="performance_assessment",
        object_id=assessment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        notice=assessment.notice_id,
    )
    return assessment


# --- reminders ------------------------------------------------------------------------------


async def last_decided(
    session: AsyncSession, agreement_id: int, *, on_termination: bool
) -> PerformanceAssessment | None:
    decided = [
        a
        for a in await assessments_of(session, agreement_id)
        if a.state == AssessmentState.FINAL and a.on_termination == on_termination
    ]
    return max(decided, key=lambda a: a.decided_at or a.drafted_at) if decided else None


async def plan_assessments(session: AsyncSession, agreement: Agreement, services: Services) -> None:
    """Plan the next yearly reminder to assess, where s.71 applies: four weeks before 12
    months from the start (or the last final assessment) are up, at the start of a working
    day. None once the agreement has ended: the reminder on termination takes over.
    Safe to call again: it moves the one pending reminder."""
    ended = await ending_of(session, agreement.id) is not None
    if not law_applies(agreement) or ended:
        if not ended:
            await cancel_reminders(
                session,
                kind=ASSESS_KIND,
                target_type=ASSESS_TARGET,
                target_ids=[str(agreement.id)],
            )
        return
    last = await last_decided(session, agreement.id, on_termination=False)
    since = (
        last.decided_at.astimezone(LONDON).date()
        if last is not None and last.decided_at is not None
        else agreement.starts_on
    )
    due_on = next_assessment_due(since, agreement.starts_on)
    if due_on > agreement.ends_on:
        await cancel_reminders(
            session, kind=ASSESS_KIND, target_type=ASSESS_TARGET, target_ids=[str(agreement.id)]
        )
        return
    remind_on = max(working_day_on_or_before(due_on - AHEAD), today(services))
    await schedule_reminder(
        session,
        kind=ASSESS_KIND,
        due_at=working_morning(remind_on),
        target_type=ASSESS_TARGET,
        target_id=agreement.id,
        payload={
            "agreement_id": agreement.id,
            "on_termination": False,
            "since": since.isoformat(),
            "due_on": due_on.isoformat(),
        },
    )


async def plan_final_assessment(
    session: AsyncSession, agreement: Agreement, ending: AgreementEnding, services: Services
) -> bool:
    """On termination (s.71): remind the team, from the end day, to make the last
    assessment, where s.71 applies. Whether it does."""
    if not law_applies(agreement) or not await kpis_of(session, agreement.id):
        await cancel_reminders(
            session, kind=ASSESS_KIND, target_type=ASSESS_TARGET, target_ids=[str(agreement.id)]
        )
        return False
    await schedule_reminder(
        session,
        kind=ASSESS_KIND,
        due_at=working_morning(max(ending.ended_on, today(services))),
        target_type=ASSESS_TARGET,
        target_id=agreement.id,
        payload={"agreement_id": agreement.id, "on_termination": True},
    )
    return True


async def tell_team(
    session: AsyncSession, agreement: Agreement, message: Message, key: str
) -> None:
    team = [p.id for p in await commissioning_team(session, agreement.authority_id)]
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_each(session, team, lambda _: payload, f"{key}:person:{{person_id}}")


async def remind_to_assess(reminder: Reminder, services: Services) -> None:
    """The due sweep's job for `ASSESS_KIND`: tell the team an assessment is owed, and
    again every week until one is decided."""
    agreement_id = int(reminder.payload.get("agreement_id") or reminder.target_id)
    on_termination = bool(reminder.payload.get("on_termination"))
    async with services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        if agreement is None or not law_applies(agreement):
            return
        last = await last_decided(session, agreement.id, on_termination=on_termination)
        if on_termination and last is not None:
            return
        since = reminder.payload.get("since")
        if not on_termination:
            if await ending_of(session, agreement.id) is not None:
                return
            if (
                last is not None
                and last.decided_at is not None
                and since
                and last.decided_at.astimezone(LONDON).date() >= date.fromisoformat(since)
            ):
                return
        due_text = reminder.payload.get("due_on")
        due_on = date.fromisoformat(due_text) if due_text else None
        await tell_team(
            session,
            agreement,
            assess_due_message(agreement, due_on, on_termination=on_termination),
            f"reminder:{reminder.id}",
        )
        await schedule_reminder(
            session,
            kind=ASSESS_KIND,
            due_at=working_morning(today(services) + EVERY),
            target_type=ASSESS_TARGET,
            target_id=agreement.id,
            payload=dict(reminder.payload),
        )


async def remind_to_record_notice(reminder: Reminder, services: Services) -> None:
    """Weekly until the contract performance notice's identifier is recorded."""
    async with services.db.session() as session:
        assessment = await session.get(PerformanceAssessment, int(reminder.target_id))
        if assessment is None or not assessment.notice_required or assessment.notice_id:
            return
        agreement = await session.get(Agreement, assessment.agreement_id)
        if agreement is None:
            return
        await tell_team(
            session,
            agreement,
            notice_needed_message(agreement, assessment),
            f"reminder:{reminder.id}",
        )
        await schedule_reminder(
            session,
            kind=NOTICE_KIND,
            due_at=working_morning(today(services) + EVERY),
            target_type=NOTICE_TARGET,
            target_id=assessment.id,
            payload={"assessment_id": assessment.id},
        )


# --- the words ------------------------------------------------------------------------------


def rating_words(rating: str) -> str:
    known = Rating(rating) if rating in set(Rating) else None
    return RATING_MEANINGS[known][0] if known else rating


def ratings_section(ratings: list[AssessmentRating]) -> list[Section]:
    return [
        Section(
            heading=f"{r.position}. {r.kpi_name}",
            facts=[
                Fact(label="Target", value=r.kpi_target or "Not recorded"),
                Fact(label="Rating", value=rating_words(r.rating)),
                Fact(label="Why", value=r.note or "No note"),
            ],
        )
        for r in ratings
    ]


def shared_message(
    agreement: Agreement, assessment: PerformanceAssessment, ratings: list[AssessmentRating]
) -> Message:
    """To the provider, first: what the team thinks, and how to respond before it decides."""
    assert assessment.respond_by is not None
    return Message(
        title=f"The council's assessment of your performance: {agreement.title}",
        text=(
            f"The council has assessed how agreement {agreement.id} is going against its key "
            "performance indicators. Nothing is decided yet. You can tell them what you think "
            f"until {format_date(assessment.respond_by)}: "
            + command_ref(
                f"{COMMAND} assessment {assessment.id} respond", "Respond to the assessment"
            )
            + ". Then the council decides, and tells you."
            + (f" Overall: {assessment.summary}" if assessment.summary else "")
        ),
        sections=ratings_section(ratings),
        buttons=[
            Button(
                label="See the assessments",
                action=f"cmd.{COMMAND}",
                value=f"assessments {agreement.id}",
            )
        ],
        who_sees=WHO_SEES,
    )


def responded_message(agreement: Agreement, assessment: PerformanceAssessment) -> Message:
    return Message(
        title=f"The provider responded to assessment {assessment.id}: {agreement.title}",
        text=(
            f"They said: {assessment.provider_response} Now you can decide: "
            + command_ref(f"{COMMAND} assessment {assessment.id} decide", "Decide the assessment")
            + "."
        ),
        who_sees=TEAM_ONLY,
    )


def decided_message(
    agreement: Agreement, assessment: PerformanceAssessment, ratings: list[AssessmentRating]
) -> Message:
    return Message(
        title=f"The council has decided its assessment: {agreement.title}",
        text=f"Assessment {assessment.id} is final. Their reason: {assessment.decision_reason}",
        sections=ratings_section(ratings),
        who_sees=WHO_SEES,
    )


def notice_needed_message(agreement: Agreement, assessment: PerformanceAssessment) -> Message:
    due = format_date(assessment.notice_due_on) if assessment.notice_due_on else "soon"
    return Message(
        title=f"A contract performance notice is needed: {agreement.title}",
        text=(
            f"Assessment {assessment.id} of agreement {agreement.id} was made under section 71 "
            "of the Procurement Act 2023, so publish a contract performance notice (UK9) on "
            f"Find a Tender by {due}. Then record its identifier: "
            + command_ref(
                f"{COMMAND} assessment {assessment.id} notice", "Record the performance notice"
            )
            + ". We will remind you every week until you do."
        ),
        buttons=[
            Button(
                label="See the assessments",
                action=f"cmd.{COMMAND}",
                value=f"assessments {agreement.id}",
            )
        ],
        who_sees=TEAM_ONLY,
    )


def assess_due_message(
    agreement: Agreement, due_on: date | None, *, on_termination: bool
) -> Message:
    if on_termination:
        when = (
            "The agreement has ended, so section 71 of the Procurement Act 2023 needs a last "
            "assessment of performance against its key performance indicators."
        )
    else:
        by = f" by {format_date(due_on)}" if due_on else ""
        when = (
            "Section 71 of the Procurement Act 2023 needs an assessment of performance against "
            f"its key performance indicators at least every 12 months: the next is due{by}."
        )
    return Message(
        title=f"Time to assess performance: {agreement.title}",
        text=(
            f"{when} Rate each one: {command_ref(f'{COMMAND} assess {agreement.id}', 'the assessment form')}. "
            "We never fill it in "
            "from check-ins. The provider sees it before you decide. We will remind you every "
            "week until it is decided."
        ),
        buttons=[Button(label="Assess", action=f"cmd.{COMMAND}", value=f"assess {agreement.id}")],
        who_sees=TEAM_ONLY,
    )


STATE_WORDS = {
    AssessmentState.DRAFT: "A draft: only the council's team sees it",
    AssessmentState.SHARED: "With the provider, who may respond before the council decides",
    AssessmentState.FINAL: "Decided",
}


def assessment_section(
    assessment: PerformanceAssessment, ratings: list[AssessmentRating], *, for_team: bool
) -> Section:
    facts = [
        Fact(label="Where it is", value=STATE_WORDS[AssessmentState(assessment.state)]),
        *(Fact(label=f"{r.position}. {r.kpi_name}", value=rating_words(r.rating)) for r in ratings),
    ]
    if assessment.on_termination:
        facts.append(Fact(label="When", value="When the agreement ended"))
    if assessment.respond_by is not None and assessment.state == AssessmentState.SHARED:
        facts.append(
            Fact(label="Provider can respond until", value=format_date(assessment.respond_by))
        )
    if assessment.provider_response:
        facts.append(Fact(label="The provider's response", value=assessment.provider_response))
    if assessment.decided_at is not None:
        facts.append(
            Fact(
                label="Decided",
                value=f"{format_date(assessment.decided_at.astimezone(LONDON).date())}: "
                f"{assessment.decision_reason}",
            )
        )
    if for_team and assessment.notice_required:
        facts.append(
            Fact(
                label="Contract performance notice",
                value=f"Recorded: {assessment.notice_id}"
                if assessment.notice_id
                else "Needed (UK9, section 71), not recorded yet",
            )
        )
    return Section(heading=f"Assessment {assessment.id}", facts=facts)


async def assessments_reply(session: AsyncSession, turn: Turn, agreement: Agreement) -> Message:
    """The assessments an already-checked viewer may see: drafts for the team only."""
    for_team = runs_it(turn, agreement)
    assert for_team or await is_party(session, turn, agreement)
    shown = [
        a
        for a in await assessments_of(session, agreement.id)
        if for_team or a.state != AssessmentState.DRAFT
    ]
    sections = [
        assessment_section(a, await ratings_of(session, a.id), for_team=for_team) for a in shown
    ]
    text = "" if shown else "No assessments yet."
    if for_team:
        duty = (
            "Section 71 of the Procurement Act 2023 applies: assess at least every 12 months "
            "and when it ends, then publish a contract performance notice."
            if law_applies(agreement)
            else "Section 71 does not make assessments a duty here, but you can still make them."
        )
        assess = command_ref(
            f"{COMMAND} assess {agreement.id}", f"the assessment form for {agreement.title}"
        )
        text = f"{text} {duty} To assess: {assess}.".strip()
    return Message(
        title=f"Performance assessments: {agreement.title}",
        text=text,
        sections=sections,
        who_sees=WHO_SEES,
    )


def drafted_replies(agreement: Agreement, assessment: PerformanceAssessment) -> list[Reply]:
    return [
        Notice(
            level="success",
            text=f"Saved assessment {assessment.id} of {agreement.title} as a draft. Only your "
            "team sees it. Next, share it with the provider, who can respond before you "
            f"decide: "
            + command_ref(f"{COMMAND} assessment {assessment.id} share", "Share the assessment")
            + ".",
        )
    ]


# --- the form, and the steps ----------------------------------------------------------------


def agreement_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


class AssessmentForm(TeamForm):
    """`agreements assess N`: the team rates each KPI. Never pre-filled from check-ins."""

    form_key = FORM_PREFIX
    command = COMMAND

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        agreement_id = number_at(turn, 1)
        if agreement_id is None:
            return Refusal(
                f"Which one? Find it in the list: {command_ref(COMMAND, f'the {COMMAND} list')}. "
                f"Each agreement there has its own Assess button."
            )
        try:
            agreement = await load_for_team(session, turn, agreement_id, "assess")
            kpis = await kpis_to_assess(session, turn, agreement, "assess")
        except Refused as refused:
            return Refusal(refused.message)
        definition = await ensure_form(session, agreement, kpis)
        return Subject(
            None,
            agreement.authority_id,
            label=agreement.title,
            topic=f"assessment:{agreement.id}",
            form_key=definition.key,
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        """Always empty: never drafted from check-in answers (see `NOT_FROM_CHECKINS`)."""
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        agreement_id = agreement_of_topic(response.topic)
        try:
            agreement = await load_for_team(session, turn, agreement_id, "assess", lock=True)
            kpis = await kpis_to_assess(session, turn, agreement, "assess")
            ratings = ratings_from_form(response.answers, kpis)
        except Refused as refused:
            return [Notice(text=refused.message, level=refused.level)]
        summary = response.answers.get("summary")
        draft = await save_draft(
            session, turn, services, agreement, ratings, str(summary) if summary else None
        )
        return drafted_replies(agreement, draft)


FORM = AssessmentForm()


def _refused(refusal: Refused) -> list[Reply]:
    return [Notice(text=refusal.message, level=refusal.level)]


async def rate(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements rate N kpi1=good note1="..." ... summary="..."`: the draft, typed."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_team(session, turn, agreement_id, "rate", lock=True)
            kpis = await kpis_to_assess(session, turn, agreement, "rate")
            try:
                ratings = ratings_from_args(turn.args, kpis, agreement.id)
            except BadAssessment:
                await refuse(session, turn, agreement, "rate", "ratings do not read")
                raise
        except Refused as refusal:
            return _refused(refusal)
        draft = await save_draft(
            session, turn, services, agreement, ratings, turn.args.get("summary")
        )
        return drafted_replies(agreement, draft)


async def show_assessments(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements assessments N`: the team and the agreement's parties only."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "assessments")
        except Refused as refusal:
            return _refused(refusal)
        return [await assessments_reply(session, turn, agreement)]


async def assessment(turn: Turn, services: Services, assessment_id: int) -> list[Reply]:
    """`agreements assessment A share|respond|decide|notice ...`"""
    async with services.db.session() as session:
        return await assessment_in(session, turn, services, assessment_id)


async def assessment_in(
    session: AsyncSession, turn: Turn, services: Services, assessment_id: int
) -> list[Reply]:
    """The step in a unit of work already open (the reason form runs it too)."""
    words = words_of(turn)
    what = words[2] if len(words) > 2 else ""
    try:
        if what == "share":
            shared, agreement, told = await share(session, turn, services, assessment_id)
            assert shared.respond_by is not None
            who = (
                f"We told {counted(told, 'person', 'people')} at the provider"
                if told
                else "Nobody at the provider uses Convene yet, so tell them another way"
            )
            return [
                Notice(
                    level="success" if told else "warning",
                    text=f"Shared assessment {shared.id} of {agreement.title}. {who}. They "
                    f"can respond until {format_date(shared.respond_by)}. Then decide, with your "
                    f"reason: "
                    + command_ref(
                        f"{COMMAND} assessments {agreement.id}",
                        f"the assessments of agreement {agreement.id}",
                    )
                    + ".",
                )
            ]
        if what == "respond":
            answered, agreement = await respond(session, turn, services, assessment_id)
            return [
                Notice(
                    level="success",
                    text=f"Sent your response to assessment {answered.id}. The council's "
                    "team reads it before deciding, and tells you what it decides. Only "
                    "the council's team and your organisation see it.",
                )
            ]
        if what == "decide":
            decided, agreement = await decide(session, turn, services, assessment_id)
            text = (
                f"Assessment {decided.id} of {agreement.title} is decided, by you, with "
                "your reason. The provider has been told."
            )
            if decided.notice_required and decided.notice_due_on is not None:
                text += (
                    " Publish a contract performance notice (UK9, section 71) by "
                    f"{format_date(decided.notice_due_on)}, then "
                    + command_ref(
                        f"{COMMAND} assessment {decided.id} notice",
                        "Record the performance notice",
                    )
                    + ". We will remind you every week until then."
                )
            return [Notice(level="success", text=text)]
        if what == "notice":
            noted = await record_notice(session, turn, services, assessment_id)
            return [
                Notice(
                    level="success",
                    text=f"Recorded the contract performance notice {noted.notice_id} for "
                    f"assessment {noted.id}. There will be no more reminders about it.",
                )
            ]
    except Refused as refusal:
        return _refused(refusal)
    await refuse(session, turn, None, "assessment", "unknown step", step=what)
    return [
        Notice(
            level="warning",
            text="An assessment can be shared, responded to, decided, or have its notice "
            "recorded. See what you can do: "
            + command_ref(f"{COMMAND} assessments", "the assessments")
            + ".",
        )
    ]
