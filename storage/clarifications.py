"""Reading clarifications for either subject (an engagement or an opportunity)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clarification_tables import About, Audience, Clarification


async def published(
    session: AsyncSession, about: About, *, private_for: set[int] | None = None
) -> list[Clarification]:
    """The questions-and-answers log and updates, in the order they were published: what
    went to everyone, plus the private answers to the organisations in `private_for` (a
    provider sees its own; the team reads them all with `answered_privately`)."""
    query = select(Clarification).where(about.condition(), Clarification.published_at.is_not(None))
    everyone = Clarification.audience == Audience.EVERYONE
    if private_for:
        query = query.where(or_(everyone, Clarification.asked_for.in_(private_for)))
    else:
        query = query.where(everyone)
    return list(
        (await session.scalars(query.order_by(Clarification.published_at, Clarification.id))).all()
    )


async def answered_privately(session: AsyncSession, about: About) -> list[Clarification]:
    """Questions answered only to whoever asked: for the team's view and the record."""
    return list(
        (
            await session.scalars(
                select(Clarification)
                .where(
                    about.condition(),
                    Clarification.published_at.is_not(None),
                    Clarification.audience == Audience.ASKER,
                )
                .order_by(Clarification.published_at, Clarification.id)
            )
        ).all()
    )


async def waiting(session: AsyncSession, about: About) -> list[Clarification]:
    """Questions not answered yet, oldest first."""
    return list(
        (
            await session.scalars(
                select(Clarification)
                .where(about.condition(), Clarification.published_at.is_(None))
                .order_by(Clarification.asked_at)
            )
        ).all()
    )
