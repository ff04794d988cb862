"""What a council's week held, for the commissioners' weekly digest
(handlers/dashboard/digest.py), and the day each commissioner chose for it.

Each list is one query over the council's own rows: what changed in the week before `now`
(new answers to engagements, interest in opportunities, changes asked for to agreements,
feedback answers), what falls in the week from `today` (key dates, check-ins, closing
dates) and the check-ins now overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import as_utc
from bot.core.enums import Role
from storage.agreement_detail_tables import AgreementDate
from storage.agreement_tables import Agreement
from storage.commissioner_digest_tables import CommissionerDigestDay
from storage.engagement_tables import Engagement
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from storage.models import FormResponse, Membership, Reminder, ResponseState, WorkState
from storage.monitoring_tables import CheckinRow
from storage.opportunity_tables import (
    InterestState,
    Opportunity,
    OpportunityInterest,
    OpportunityState,
)
from storage.variation_tables import AgreementVariation

#: The weekday a commissioner who never chose gets the digest: Monday.
DEFAULT_WEEKDAY = 0
#: Lines listed under each heading; the rest are counted.
MOST_LINES = 5


@dataclass(frozen=True)
class Line:
    """One thing in the digest: what it is about, how many (or the date), and the id of
    the thing, for the button onward."""

    subject_id: int
    title: str
    count: int = 0
    on: date | None = None
    when: datetime | None = None
    #: For a key date: which ("review", "ends", ...).
    kind: str = ""


@dataclass(frozen=True)
class CouncilWeek:
    """One council's week. `*_more` count the lines past `MOST_LINES`."""

    answers: list[Line] = field(default_factory=list)
    interest: list[Line] = field(default_factory=list)
    variations: list[Line] = field(default_factory=list)
    feedback: int = 0
    key_dates: list[Line] = field(default_factory=list)
    checkins_due: list[Line] = field(default_factory=list)
    closing: list[Line] = field(default_factory=list)
    overdue: list[Line] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.answers
            or self.interest
            or self.variations
            or self.feedback
            or self.key_dates
            or self.checkins_due
            or self.closing
            or self.overdue
        )


async def digest_days(session: AsyncSession) -> dict[int, tuple[int | None, set[int]]]:
    """Every commissioner: their chosen weekday (None: turned off) and their councils.
    One query."""
    rows = await session.execute(
        select(
            Membership.person_id,
            Membership.authority_id,
            CommissionerDigestDay.person_id,
            CommissionerDigestDay.weekday,
        )
        .outerjoin(CommissionerDigestDay, CommissionerDigestDay.person_id == Membership.person_id)
        .where(Membership.role == Role.COMMISSIONER, Membership.authority_id.is_not(None))
    )
    found: dict[int, tuple[int | None, set[int]]] = {}
    for person_id, authority_id, chose, weekday in rows.tuples():
        day = DEFAULT_WEEKDAY if chose is None else weekday
        if authority_id is not None:
            found.setdefault(person_id, (day, set()))[1].add(authority_id)
    return found


async def digest_day_of(session: AsyncSession, person_id: int) -> int | None:
    """One commissioner's digest weekday (0 is Monday), or None when turned off."""
    row = await session.get(CommissionerDigestDay, person_id)
    return DEFAULT_WEEKDAY if row is None else row.weekday


async def choose_digest_day(session: AsyncSession, person_id: int, weekday: int | None) -> None:
    """Save the day (None: don't send the digest)."""
    row = await session.get(CommissionerDigestDay, person_id)
    if row is None:
        session.add(CommissionerDigestDay(person_id=person_id, weekday=weekday))
    else:
        row.weekday = weekday
    await session.flush()


def _lines(rows: Sequence[Any]) -> list[Line]:
    return [Line(subject_id=int(r[0]), title=str(r[1]), count=int(r[2])) for r in rows]


async def council_week(
    session: AsyncSession, authority_id: int, *, now: datetime, today: date
) -> CouncilWeek:
    """The council's week: the seven days before `now`, and the seven from `today`."""
    since = now - timedelta(days=7)
    week_end = today + timedelta(days=6)
    agreements = select(Agreement.id).where(Agreement.authority_id == authority_id)
    answers = await session.execute(
        select(Engagement.id, Engagement.title, func.count(FormResponse.id))
        .join(FormResponse, FormResponse.engagement_id == Engagement.id)
        .where(
            Engagement.authority_id == authority_id,
            FormResponse.state == ResponseState.SUBMITTED,
            FormResponse.submitted_at >= since,
            FormResponse.submitted_at <= now,
        )
        .group_by(Engagement.id, Engagement.title)
        .order_by(func.count(FormResponse.id).desc(), Engagement.id)
    )
    interest = await session.execute(
        select(Opportunity.id, Opportunity.title, func.count(OpportunityInterest.id))
        .join(OpportunityInterest, OpportunityInterest.opportunity_id == Opportunity.id)
        .where(
            Opportunity.authority_id == authority_id,
            OpportunityInterest.state == InterestState.INTERESTED,
            OpportunityInterest.registered_at >= since,
            OpportunityInterest.registered_at <= now,
        )
        .group_by(Opportunity.id, Opportunity.title)
        .order_by(func.count(OpportunityInterest.id).desc(), Opportunity.id)
    )
    variations = await session.execute(
        select(Agreement.id, Agreement.title, func.count(AgreementVariation.id))
        .join(AgreementVariation, AgreementVariation.agreement_id == Agreement.id)
        .where(
            Agreement.authority_id == authority_id,
            AgreementVariation.created_at >= since,
            AgreementVariation.created_at <= now,
        )
        .group_by(Agreement.id, Agreement.title)
        .order_by(Agreement.id)
    )
    feedback = await session.scalar(
        select(func.count(FeedbackEntry.id))
        .join(FeedbackPoint, FeedbackPoint.id == FeedbackEntry.point_id)
        .where(
            FeedbackPoint.authority_id == authority_id,
            FeedbackEntry.given_on >= since.date(),
            FeedbackEntry.given_on <= today,
            FeedbackEntry.hidden_at.is_(None),
        )
    )
    key_dates = await session.execute(
        select(AgreementDate.agreement_id, Agreement.title, AgreementDate.kind, AgreementDate.on)
        .join(Agreement, Agreement.id == AgreementDate.agreement_id)
        .where(
            AgreementDate.agreement_id.in_(agreements),
            AgreementDate.on >= today,
            AgreementDate.on <= week_end,
        )
        .order_by(AgreementDate.on, AgreementDate.agreement_id)
    )
    ending = await session.execute(
        select(Agreement.id, Agreement.title, Agreement.ends_on)
        .where(
            Agreement.authority_id == authority_id,
            Agreement.ends_on >= today,
            Agreement.ends_on <= week_end,
        )
        .order_by(Agreement.ends_on, Agreement.id)
    )
    due = await session.execute(
        select(Agreement.id, Agreement.title, func.min(CheckinRow.due_on), func.count())
        .join(CheckinRow, CheckinRow.agreement_id == Agreement.id)
        .where(
            Agreement.authority_id == authority_id,
            CheckinRow.answered_at.is_(None),
            CheckinRow.due_on >= today,
            CheckinRow.due_on <= week_end,
        )
        .group_by(Agreement.id, Agreement.title)
        .order_by(func.min(CheckinRow.due_on), Agreement.id)
    )
    closing = await session.execute(
        select(Opportunity.id, Opportunity.title, Opportunity.submission_deadline)
        .where(
            Opportunity.authority_id == authority_id,
            Opportunity.state == OpportunityState.OPEN,
            Opportunity.submission_deadline >= now,
            Opportunity.submission_deadline < now + timedelta(days=7),
        )
        .order_by(Opportunity.submission_deadline, Opportunity.id)
    )
    overdue = await session.execute(
        select(Agreement.id, Agreement.title, func.min(CheckinRow.due_on), func.count())
        .join(CheckinRow, CheckinRow.agreement_id == Agreement.id)
        .where(
            Agreement.authority_id == authority_id,
            CheckinRow.answered_at.is_(None),
            CheckinRow.due_on < today,
        )
        .group_by(Agreement.id, Agreement.title)
        .order_by(func.min(CheckinRow.due_on), Agreement.id)
    )
    dates = [
        Line(subject_id=int(r[0]), title=str(r[1]), kind=str(r[2]), on=r[3])
        for r in key_dates.all()
    ] + [Line(subject_id=int(r[0]), title=str(r[1]), kind="ends", on=r[2]) for r in ending.all()]
    dates.sort(key=lambda line: (line.on or today, line.subject_id))
    return CouncilWeek(
        answers=_lines(answers.all()),
        interest=_lines(interest.all()),
        variations=_lines(variations.all()),
        feedback=int(feedback or 0),
        key_dates=dates,
        checkins_due=[
            Line(subject_id=int(r[0]), title=str(r[1]), on=r[2], count=int(r[3])) for r in due.all()
        ],
        closing=[Line(subject_id=int(r[0]), title=str(r[1]), when=r[2]) for r in closing.all()],
        overdue=[
            Line(subject_id=int(r[0]), title=str(r[1]), on=r[2], count=int(r[3]))
            for r in overdue.all()
        ],
    )


#: The due sweep's kind for the hourly job that queues every commissioner digest due.
COMMISSIONER_DIGEST_KIND = "dashboard.commissioner_digests"


async def ensure_commissioner_digest_job(
    session: AsyncSession, due_at: datetime, *, running: int | None = None
) -> None:
    """Start the hourly digest job unless it is already waiting or running (apart from
    `running`, the run that is asking for the next one)."""
    query = select(Reminder.id).where(
        Reminder.kind == COMMISSIONER_DIGEST_KIND,
        Reminder.state.in_((WorkState.PENDING, WorkState.CLAIMED)),
    )
    if running is not None:
        query = query.where(Reminder.id != running)
    if await session.scalar(query.limit(1)) is None:
        session.add(
            Reminder(
                kind=COMMISSIONER_DIGEST_KIND,
                due_at=as_utc(due_at),
                target_type="commissioner_digests",
                target_id="weekly",
                payload={},
            )
        )
        await session.flush()
