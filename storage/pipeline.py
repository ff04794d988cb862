"""Pipeline and grant award queries: rows only, never words."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Authority, Organisation
from storage.opportunity_tables import Opportunity
from storage.pipeline_tables import GrantAward, PipelineEntry, PipelinePublication


async def entries_of(session: AsyncSession, authority_ids: set[int]) -> list[PipelineEntry]:
    """A council's planned opportunities, soonest first."""
    return list(
        (
            await session.scalars(
                select(PipelineEntry)
                .where(PipelineEntry.authority_id.in_(authority_ids))
                .order_by(PipelineEntry.publication_on, PipelineEntry.id)
            )
        ).all()
    )


async def published_entries(
    session: AsyncSession, first: date, last: date
) -> list[tuple[PipelineEntry, Authority]]:
    """Every council's published entries expected between `first` and `last` (inclusive)."""
    return [
        (entry, authority)
        for entry, authority in (
            await session.execute(
                select(PipelineEntry, Authority)
                .join(Authority, Authority.id == PipelineEntry.authority_id)
                .where(
                    PipelineEntry.published_at.is_not(None),
                    PipelineEntry.publication_on >= first,
                    PipelineEntry.publication_on <= last,
                )
                .order_by(Authority.name, PipelineEntry.publication_on, PipelineEntry.id)
            )
        ).all()
    ]


async def last_publication(session: AsyncSession, authority_id: int) -> PipelinePublication | None:
    return await session.scalar(
        select(PipelinePublication)
        .where(PipelinePublication.authority_id == authority_id)
        .order_by(PipelinePublication.published_at.desc(), PipelinePublication.id.desc())
        .limit(1)
    )


async def awards_of(session: AsyncSession, opportunity_id: int) -> list[GrantAward]:
    return list(
        (
            await session.scalars(
                select(GrantAward)
                .where(GrantAward.opportunity_id == opportunity_id)
                .order_by(GrantAward.awarded_on, GrantAward.id)
            )
        ).all()
    )


async def award_of(
    session: AsyncSession, opportunity_id: int, organisation_id: int
) -> GrantAward | None:
    return await session.scalar(
        select(GrantAward).where(
            GrantAward.opportunity_id == opportunity_id,
            GrantAward.organisation_id == organisation_id,
        )
    )


async def awarded_grants(
    session: AsyncSession, authority_id: int
) -> list[tuple[GrantAward, Opportunity, Organisation]]:
    """Every grant a council awarded, with its opportunity and recipient, oldest first."""
    return [
        (award, opportunity, organisation)
        for award, opportunity, organisation in (
            await session.execute(
                select(GrantAward, Opportunity, Organisation)
                .join(Opportunity, Opportunity.id == GrantAward.opportunity_id)
                .join(Organisation, Organisation.id == GrantAward.organisation_id)
                .where(Opportunity.authority_id == authority_id)
                .order_by(GrantAward.awarded_on, GrantAward.id)
            )
        ).all()
    ]


async def organisations_named(session: AsyncSession, name: str) -> list[Organisation]:
    """Organisations whose name (any case) or short name is exactly `name`."""
    tidy = name.strip()
    return list(
        (
            await session.scalars(
                select(Organisation).where(
                    (func.lower(Organisation.name) == tidy.lower())
                    | (Organisation.slug == tidy.lower())
                )
            )
        ).all()
    )
