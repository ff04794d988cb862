"""The dashboards' numbers, added up in the database.

Every figure on the commissioner's dashboard and the provider's small one is a COUNT or a
conditional SUM over the rows behind it, grouped in SQL, so a page runs the same small
number of queries whatever the size of the data (see bench/dashboard.py, which counts
them). Nothing here loads rows to count them in Python; the only rows returned are the
few shown by name (the next deadlines and key dates), each with a LIMIT.

A commissioner's figures are always for one council (`authority_id`), optionally only for
things in a service area and covering a place. Lists of areas are JSON, read with
`json_each` on SQLite and `jsonb_array_elements_text` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agreement_detail_tables import AgreementDate
from storage.agreement_tables import Agreement, AgreementParty
from storage.clarification_tables import Clarification, ClarificationKind
from storage.engagement_tables import (
    Engagement,
    EngagementEvent,
    EngagementParticipant,
    EngagementState,
)
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, FeedbackPost, PointState
from storage.models import FormResponse, Organisation, ResponseState
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow, PlanState
from storage.opportunity_tables import (
    InterestState,
    Opportunity,
    OpportunityInterest,
    OpportunityState,
)
from storage.readiness import JsonAnswers
from storage.variation_tables import AgreementVariation, VariationState

#: Check-ins due within this many days count as "due soon".
DUE_SOON_DAYS = 14
#: Agreements ending within this many days are shown as coming to an end.
ENDING_SOON_DAYS = 90
#: How many of the next deadlines and key dates are shown by name.
NEXT_SHOWN = 5
#: Variations still waiting for someone: not yet approved or rejected.
OPEN_VARIATIONS = (VariationState.REQUESTED, VariationState.AGREED, VariationState.DISAGREED)
#: The scale answers counted for each feedback question, then "no answer".
SCALE_VALUES = ("yes", "a_bit", "no", "dont_know")


@dataclass(frozen=True)
class Scope:
    """Whose things are counted: one council, and optionally a service area and places
    (codes, as `storage.engagements.matching_area_codes` gives them)."""

    authority_id: int
    today: date
    now: datetime
    service_area: str | None = None
    areas: Sequence[str] | None = None


# --------------------------------------------------------------------------
# JSON lists of codes
# --------------------------------------------------------------------------


def _has_any(dialect: str, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """The JSON list in `column` holds at least one of `values`."""
    if dialect == "postgresql":
        items = func.jsonb_array_elements_text(column).table_valued("value")
    else:
        items = func.json_each(column).table_valued("value")
    return exists(select(literal_column("1")).select_from(items).where(items.c.value.in_(values)))


def _is_empty(dialect: str, column: Any) -> ColumnElement[bool]:
    """The JSON list in `column` is empty (or missing)."""
    length = func.jsonb_array_length if dialect == "postgresql" else func.json_array_length
    return or_(column.is_(None), func.coalesce(length(column), 0) == 0)


def _covers(dialect: str, column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """Something with no area covers everywhere, as in engagement matching."""
    if scope.areas is None:
        return []
    return [or_(_has_any(dialect, column, scope.areas), _is_empty(dialect, column))]


def _engagements(dialect: str, scope: Scope) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [Engagement.authority_id == scope.authority_id]
    if scope.service_area is not None:
        conditions.append(Engagement.service_area == scope.service_area)
    conditions += _covers(dialect, Engagement.area_served, scope)
    return select(Engagement.id).where(*conditions)


def _opportunities(dialect: str, scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Opportunity.authority_id == scope.authority_id]
    if scope.service_area is not None:
        conditions.append(_has_any(dialect, Opportunity.service_areas, [scope.service_area]))
    conditions += _covers(dialect, Opportunity.area_served, scope)
    return conditions


def _agreements(dialect: str, scope: Scope) -> Select[Any]:
    """The council's agreements in scope. An agreement has no service area of its own: it
    takes the one of the opportunity it came from, and one made without an opportunity
    is counted under every service area."""
    conditions: list[ColumnElement[bool]] = [Agreement.authority_id == scope.authority_id]
    if scope.service_area is not None:
        conditions.append(
            or_(
                Agreement.opportunity_id.is_(None),
                Agreement.opportunity_id.in_(
                    select(Opportunity.id).where(
                        _has_any(dialect, Opportunity.service_areas, [scope.service_area])
                    )
                ),
            )
        )
    conditions += _covers(dialect, Agreement.area_served, scope)
    return select(Agreement.id).where(*conditions)


def _count(statement: Any) -> Any:
    return select(func.count()).select_from(statement.subquery()).scalar_subquery()


# --------------------------------------------------------------------------
# Engagements
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class EngagementFigures:
    open: int = 0
    closed: int = 0
    drafts: int = 0
    invited: int = 0
    took_part: int = 0
    answers_in: int = 0
    events_coming: int = 0
    clarifications_waiting: int = 0


async def engagement_figures(session: AsyncSession, scope: Scope) -> EngagementFigures:
    """One query: engagements by state, organisations invited and taking part, answers
    in, events coming and questions waiting for an answer."""
    dialect = session.get_bind().dialect.name
    ids = _engagements(dialect, scope)
    state = select(Engagement.state).where(Engagement.id.in_(ids))
    answered = (
        select(FormResponse.engagement_id, FormResponse.organisation_id)
        .join(Engagement, Engagement.id == FormResponse.engagement_id)
        .where(
            FormResponse.engagement_id.in_(ids),
            FormResponse.form_key == Engagement.form_key,
            FormResponse.state == ResponseState.SUBMITTED,
        )
        .distinct()
    )
    row = (
        await session.execute(
            select(
                _count(state.where(Engagement.state == EngagementState.OPEN)),
                _count(state.where(Engagement.state == EngagementState.CLOSED)),
                _count(state.where(Engagement.state == EngagementState.DRAFT)),
                _count(
                    select(EngagementParticipant.organisation_id).where(
                        EngagementParticipant.engagement_id.in_(ids),
                        EngagementParticipant.invited_at.is_not(None),
                    )
                ),
                _count(
                    select(EngagementParticipant.organisation_id).where(
                        EngagementParticipant.engagement_id.in_(ids),
                        EngagementParticipant.joined_at.is_not(None),
                    )
                ),
                _count(answered),
                _count(
                    select(EngagementEvent.id).where(
                        EngagementEvent.engagement_id.in_(ids),
                        EngagementEvent.starts_at >= scope.now,
                    )
                ),
                _count(
                    select(Clarification.id).where(
                        Clarification.engagement_id.in_(ids),
                        Clarification.kind == ClarificationKind.QUESTION,
                        Clarification.published_at.is_(None),
                    )
                ),
            )
        )
    ).one()
    return EngagementFigures(*(int(value or 0) for value in row))


# --------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    opportunity_id: int
    title: str
    deadline: datetime | None
    interested: int


@dataclass(frozen=True)
class OpportunityFigures:
    open: int = 0
    closed: int = 0
    drafts: int = 0
    interested: int = 0
    questions_waiting: int = 0
    next_deadlines: tuple[Deadline, ...] = ()
    #: Organisations interested in open opportunities, by yearly income and by kind
    #: (`None`: not said). One organisation interested in two counts twice.
    by_income: dict[str | None, int] = field(default_factory=dict)
    by_kind: dict[str | None, int] = field(default_factory=dict)


async def opportunity_figures(session: AsyncSession, scope: Scope) -> OpportunityFigures:
    """Three queries: counts by state (with interest and waiting questions), the open
    ones by nearest deadline, and interest by organisation size and kind."""
    dialect = session.get_bind().dialect.name
    mine = _opportunities(dialect, scope)
    ids = select(Opportunity.id).where(*mine)
    open_ids = ids.where(Opportunity.state == OpportunityState.OPEN)
    interest = OpportunityInterest.state == InterestState.INTERESTED
    states = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((Opportunity.state == OpportunityState.OPEN, 1))), 0),
                func.coalesce(func.sum(case((Opportunity.state == OpportunityState.CLOSED, 1))), 0),
                func.coalesce(func.sum(case((Opportunity.state == OpportunityState.DRAFT, 1))), 0),
                _count(
                    select(OpportunityInterest.id).where(
                        OpportunityInterest.opportunity_id.in_(open_ids), interest
                    )
                ),
                _count(
                    select(Clarification.id).where(
                        Clarification.opportunity_id.in_(ids),
                        Clarification.kind == ClarificationKind.QUESTION,
                        Clarification.published_at.is_(None),
                    )
                ),
            ).where(*mine)
        )
    ).one()
    interested = (
        select(func.count())
        .where(OpportunityInterest.opportunity_id == Opportunity.id, interest)
        .correlate(Opportunity)
        .scalar_subquery()
    )
    soonest = (
        await session.execute(
            select(Opportunity.id, Opportunity.title, Opportunity.submission_deadline, interested)
            .where(*mine, Opportunity.state == OpportunityState.OPEN)
            .order_by(Opportunity.submission_deadline.is_(None), Opportunity.submission_deadline)
            .limit(NEXT_SHOWN)
        )
    ).all()
    groups = (
        await session.execute(
            select(Organisation.income_band, Organisation.legal_form, func.count())
            .select_from(OpportunityInterest)
            .join(Organisation, Organisation.id == OpportunityInterest.organisation_id)
            .where(OpportunityInterest.opportunity_id.in_(open_ids), interest)
            .group_by(Organisation.income_band, Organisation.legal_form)
        )
    ).all()
    by_income: dict[str | None, int] = {}
    by_kind: dict[str | None, int] = {}
    for income, kind, n in groups:
        by_income[income] = by_income.get(income, 0) + int(n)
        by_kind[kind] = by_kind.get(kind, 0) + int(n)
    return OpportunityFigures(
        open=int(states[0]),
        closed=int(states[1]),
        drafts=int(states[2]),
        interested=int(states[3] or 0),
        questions_waiting=int(states[4] or 0),
        next_deadlines=tuple(Deadline(r[0], r[1], r[2], int(r[3] or 0)) for r in soonest),
        by_income=by_income,
        by_kind=by_kind,
    )


# --------------------------------------------------------------------------
# Agreements
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyDate:
    agreement_id: int
    title: str
    kind: str
    on: date


@dataclass(frozen=True)
class AgreementFigures:
    live: int = 0
    ending_soon: int = 0
    checkins_due: int = 0
    checkins_overdue: int = 0
    variations_open: int = 0
    #: Each agreement whose plan uses red, amber, green: its latest answered check-in's
    #: colour ("red", "amber", "green"), or None for none yet.
    rag: dict[str | None, int] = field(default_factory=dict)
    next_dates: tuple[KeyDate, ...] = ()


async def agreement_figures(
    session: AsyncSession, scope: Scope, *, organisation_id: int | None = None
) -> AgreementFigures:
    """Three queries: the counts, the RAG colours, and the next key dates. With
    `organisation_id`, only the agreements that organisation is party to (the provider's
    view, across every council)."""
    dialect = session.get_bind().dialect.name
    if organisation_id is None:
        ids = _agreements(dialect, scope)
    else:
        ids = select(AgreementParty.agreement_id).where(
            AgreementParty.organisation_id == organisation_id
        )
    today = scope.today
    # Only the unanswered check-ins due up to the end of "due soon": a range of the
    # (agreement_id, answered_at, due_on) index for each agreement, never the years of
    # answered ones.
    unanswered = and_(
        CheckinRow.agreement_id.in_(ids),
        CheckinRow.answered_at.is_(None),
        CheckinRow.due_on <= today + timedelta(days=DUE_SOON_DAYS),
    )
    checkins = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(
                                CheckinRow.due_on >= today,
                                CheckinRow.due_on <= today + timedelta(days=DUE_SOON_DAYS),
                            ),
                            1,
                        )
                    )
                ),
                0,
            ),
            func.coalesce(func.sum(case((CheckinRow.due_on < today, 1))), 0),
        )
        .where(unanswered)
        .subquery()
    )
    row = (
        await session.execute(
            select(
                _count(
                    select(Agreement.id).where(
                        Agreement.id.in_(ids),
                        Agreement.starts_on <= today,
                        Agreement.ends_on >= today,
                    )
                ),
                _count(
                    select(Agreement.id).where(
                        Agreement.id.in_(ids),
                        Agreement.ends_on >= today,
                        Agreement.ends_on <= today + timedelta(days=ENDING_SOON_DAYS),
                    )
                ),
                checkins.c[0],
                checkins.c[1],
                _count(
                    select(AgreementVariation.id).where(
                        AgreementVariation.agreement_id.in_(ids),
                        AgreementVariation.state.in_(OPEN_VARIATIONS),
                    )
                ),
            ).select_from(checkins)
        )
    ).one()
    latest = (
        select(CheckinRow.rag)
        .where(
            CheckinRow.agreement_id == MonitoringPlanRow.agreement_id,
            CheckinRow.rag.is_not(None),
            CheckinRow.answered_at.is_not(None),
        )
        .order_by(CheckinRow.due_on.desc(), CheckinRow.id.desc())
        .limit(1)
        .correlate(MonitoringPlanRow)
        .scalar_subquery()
    )
    colours = (
        select(latest.label("rag"))
        .where(
            MonitoringPlanRow.agreement_id.in_(ids),
            MonitoringPlanRow.state == PlanState.AGREED,
            MonitoringPlanRow.rag.is_(True),
        )
        .subquery()
    )
    rag = {
        colour: int(n)
        for colour, n in (
            await session.execute(select(colours.c.rag, func.count()).group_by(colours.c.rag))
        ).all()
    }
    dates = (
        await session.execute(
            select(
                AgreementDate.agreement_id, Agreement.title, AgreementDate.kind, AgreementDate.on
            )
            .join(Agreement, Agreement.id == AgreementDate.agreement_id)
            .where(AgreementDate.agreement_id.in_(ids), AgreementDate.on >= today)
            .union_all(
                select(
                    Agreement.id, Agreement.title, literal_column("'ends'"), Agreement.ends_on
                ).where(Agreement.id.in_(ids), Agreement.ends_on >= today)
            )
            .order_by(literal_column("4"), literal_column("1"))
            .limit(NEXT_SHOWN)
        )
    ).all()
    return AgreementFigures(
        live=int(row[0] or 0),
        ending_soon=int(row[1] or 0),
        checkins_due=int(row[2] or 0),
        checkins_overdue=int(row[3] or 0),
        variations_open=int(row[4] or 0),
        rag=rag,
        next_dates=tuple(KeyDate(r[0], r[1], str(r[2]), r[3]) for r in dates),
    )


# --------------------------------------------------------------------------
# Feedback from people who use services
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFigures:
    points: int = 0
    entries: int = 0
    #: Points with answers and no "you said, we did" posted yet.
    yousaid_pending: int = 0
    #: question key -> scale value (or None: no answer) -> how many entries.
    answers: dict[str, dict[str | None, int]] = field(default_factory=dict)


async def feedback_figures(
    session: AsyncSession, scope: Scope, questions: Sequence[str]
) -> FeedbackFigures:
    """Two queries: the points and how many wait for "you said, we did", then the answers
    to `questions` (scale question keys) added up. The council's points are its own and
    those of its agreements in scope; hidden entries never count."""
    dialect = session.get_bind().dialect.name
    agreements = _agreements(dialect, scope)
    if scope.service_area is None and scope.areas is None:
        theirs = or_(
            FeedbackPoint.authority_id == scope.authority_id,
            FeedbackPoint.agreement_id.in_(agreements),
        )
    else:  # a council's own points have no service area or place to filter by
        theirs = FeedbackPoint.agreement_id.in_(agreements)
    points = select(FeedbackPoint.id).where(theirs)
    shown = and_(FeedbackEntry.point_id.in_(points), FeedbackEntry.hidden_at.is_(None))
    has_entries = exists().where(
        FeedbackEntry.point_id == FeedbackPoint.id, FeedbackEntry.hidden_at.is_(None)
    )
    has_post = exists().where(FeedbackPost.point_id == FeedbackPoint.id)
    counts = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((and_(has_entries, ~has_post), 1))), 0),
            ).where(theirs, FeedbackPoint.state.in_((PointState.OPEN, PointState.CLOSED)))
        )
    ).one()
    # Each shown entry's answer to each question, grouped: at most five values per
    # question, so a handful of rows however many entries there are, added up here.
    # (A conditional sum for each question and value read each entry's JSON over thirty
    # times; this reads it twice per question.)
    json = JsonAnswers(dialect)
    chosen = select(
        literal_column("1").label("one"),
        *(
            json.choice(FeedbackEntry.__table__.c.answers, key).label(f"q{i}")
            for i, key in enumerate(questions)
        ),
    ).where(shown)
    answered = chosen.subquery()
    by_answer = [answered.c[f"q{i}"] for i in range(len(questions))]
    answers: dict[str, dict[str | None, int]] = {
        key: dict.fromkeys((*SCALE_VALUES, None), 0) for key in questions
    }
    entries = 0
    for row in (
        await session.execute(
            select(func.count(), *by_answer).select_from(answered).group_by(*by_answer)
        )
    ).all():
        n = int(row[0] or 0)
        entries += n
        for key, value in zip(questions, row[1:], strict=True):
            if value is None or value in SCALE_VALUES:
                answers[key][value] += n
    return FeedbackFigures(
        points=int(counts[0] or 0),
        entries=entries,
        yousaid_pending=int(counts[1] or 0),
        answers=answers,
    )


# --------------------------------------------------------------------------
# The provider's small dashboard
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderFigures:
    interested_open: int = 0
    engagements_open: int = 0
    answers_sent: int = 0


async def provider_figures(
    session: AsyncSession, *, organisation_id: int, now: datetime
) -> ProviderFigures:
    """One query: open opportunities the organisation is interested in, open
    engagements it takes part in, and engagements it has sent answers to."""
    row = (
        await session.execute(
            select(
                _count(
                    select(OpportunityInterest.id)
                    .join(Opportunity, Opportunity.id == OpportunityInterest.opportunity_id)
                    .where(
                        OpportunityInterest.organisation_id == organisation_id,
                        OpportunityInterest.state == InterestState.INTERESTED,
                        Opportunity.state == OpportunityState.OPEN,
                    )
                ),
                _count(
                    select(EngagementParticipant.engagement_id)
                    .join(Engagement, Engagement.id == EngagementParticipant.engagement_id)
                    .where(
                        EngagementParticipant.organisation_id == organisation_id,
                        Engagement.state == EngagementState.OPEN,
                    )
                ),
                select(func.count(distinct(FormResponse.engagement_id)))
                .where(
                    FormResponse.organisation_id == organisation_id,
                    FormResponse.engagement_id.is_not(None),
                    FormResponse.state == ResponseState.SUBMITTED,
                )
                .scalar_subquery(),
            )
        )
    ).one()
    return ProviderFigures(*(int(v or 0) for v in row))
