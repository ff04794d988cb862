"""An agreement's feedback points in brief, for the agreement's page: one query for all of
them, with how many answers each has (hidden ones not counted) and the newest "you said,
we did" post. What may be shown to whom is decided by the view, not here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.feedback_tables import FeedbackEntry, FeedbackPoint, FeedbackPost, PointState


@dataclass(frozen=True)
class PointSummary:
    point_id: int
    service_name: str
    open: bool
    #: Answers shown (not hidden by moderation).
    answers: int
    #: The newest "you said, we did" post, if any (it is public on the point's page).
    latest_said: str | None
    latest_said_at: datetime | None


async def points_of_agreement(session: AsyncSession, agreement_id: int) -> list[PointSummary]:
    """Every feedback point for the agreement, oldest first, in one query."""
    answers = (
        select(func.count(FeedbackEntry.id))
        .where(FeedbackEntry.point_id == FeedbackPoint.id, FeedbackEntry.hidden_at.is_(None))
        .correlate(FeedbackPoint)
        .scalar_subquery()
    )

    newest = (
        select(FeedbackPost.id)
        .where(FeedbackPost.point_id == FeedbackPoint.id)
        .order_by(FeedbackPost.posted_at.desc(), FeedbackPost.id.desc())
        .limit(1)
        .correlate(FeedbackPoint)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            FeedbackPoint.id,
            FeedbackPoint.service_name,
            FeedbackPoint.state,
            answers,
            FeedbackPost.text,
            FeedbackPost.posted_at,
        )
        .outerjoin(FeedbackPost, FeedbackPost.id == newest)
        .where(FeedbackPoint.agreement_id == agreement_id)
        .order_by(FeedbackPoint.id)
    )
    return [
        PointSummary(
            point_id=point_id,
            service_name=name,
            open=state == PointState.OPEN,
            answers=int(count or 0),
            latest_said=said,
            latest_said_at=said_at,
        )
        for point_id, name, state, count, said, said_at in rows
    ]
