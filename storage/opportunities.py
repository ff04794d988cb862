"""Opportunity queries: who matches, who is interested, who has been told.

Kept apart from the handlers so the same rules serve every door, Home and the record.
Matching is by a provider's profile (its service areas and the places it serves), never
by its readiness answers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.digest_tables import OpportunityDigestItem
from storage.engagements import PROVIDER_ROLES, matching_area_codes, members_of
from storage.models import (
    Membership,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
)
from storage.opportunity_tables import (
    InterestState,
    Opportunity,
    OpportunityAnnouncement,
    OpportunityInterest,
    OpportunityLot,
    OpportunityState,
)


def matching_organisations(opportunity: Opportunity) -> Select[Any]:
    """Providers that do this kind of work *and* serve these places, as SQL.

    An engagement asks anyone who might have a view, so it matches on either; an
    opportunity is a chance to bid, so it goes to those it fits on both. No service area
    means any kind of work; no area means everywhere the council covers. With neither,
    nobody is matched: the team must say what the work is or where.
    """
    clauses = []
    if opportunity.service_areas:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value.in_(list(opportunity.service_areas))
                )
            )
        )
    if opportunity.area_served:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    OrganisationAreaServed.value.in_(
                        matching_area_codes(list(opportunity.area_served))
                    )
                )
            )
        )
    if not clauses:
        return select(Organisation.id).where(Organisation.id.is_(None))
    return select(Organisation.id).where(and_(*clauses))


#: Opportunities matched per query by `fitting_pairs` (SQLite allows 500 selects in a union).
PAIRS_PER_QUERY = 100


async def fitting_pairs(
    session: AsyncSession, opportunities: list[Opportunity]
) -> dict[int, set[int]]:
    """Which of these opportunities fit each organisation: organisation id -> opportunity ids.

    The same rule as announcing (`matching_organisations`), for many opportunities at once:
    one query per hundred opportunities, however many providers there are.
    """
    fits: dict[int, set[int]] = {}
    for start in range(0, len(opportunities), PAIRS_PER_QUERY):
        chunk = opportunities[start : start + PAIRS_PER_QUERY]
        selects = [
            matching_organisations(o).add_columns(literal(o.id).label("opportunity_id"))
            for o in chunk
        ]
        query = selects[0] if len(selects) == 1 else union_all(*selects)
        for organisation_id, opportunity_id in await session.execute(query):
            fits.setdefault(organisation_id, set()).add(opportunity_id)
    return fits


async def matches(
    session: AsyncSession, opportunity: Opportunity, organisation_ids: set[int]
) -> bool:
    """Whether any of these organisations fits the opportunity (the same rule as announcing)."""
    if not organisation_ids:
        return False
    query = matching_organisations(opportunity).where(Organisation.id.in_(organisation_ids))
    return await session.scalar(query.limit(1)) is not None


async def opportunities_of(session: AsyncSession, authority_ids: set[int]) -> list[Opportunity]:
    return list(
        (
            await session.scalars(
                select(Opportunity)
                .where(Opportunity.authority_id.in_(authority_ids))
                .order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
            )
        ).all()
    )


async def open_opportunities(session: AsyncSession) -> list[Opportunity]:
    return list(
        (
            await session.scalars(
                select(Opportunity)
                .where(Opportunity.state == OpportunityState.OPEN)
                .order_by(Opportunity.submission_deadline, Opportunity.id)
            )
        ).all()
    )


async def lots_of(session: AsyncSession, opportunity_id: int) -> list[OpportunityLot]:
    return list(
        (
            await session.scalars(
                select(OpportunityLot)
                .where(OpportunityLot.opportunity_id == opportunity_id)
                .order_by(OpportunityLot.number)
            )
        ).all()
    )


async def interest_in(session: AsyncSession, opportunity_id: int) -> list[OpportunityInterest]:
    """Every organisation's interest row (interested or withdrawn): for the team only."""
    return list(
        (
            await session.scalars(
                select(OpportunityInterest)
                .where(OpportunityInterest.opportunity_id == opportunity_id)
                .order_by(OpportunityInterest.registered_at, OpportunityInterest.id)
            )
        ).all()
    )


async def interest_of(
    session: AsyncSession, opportunity_id: int, organisation_id: int
) -> OpportunityInterest | None:
    return await session.scalar(
        select(OpportunityInterest).where(
            OpportunityInterest.opportunity_id == opportunity_id,
            OpportunityInterest.organisation_id == organisation_id,
        )
    )


async def interested_organisations(
    session: AsyncSession, opportunity_id: int
) -> list[Organisation]:
    """The organisations interested now, by name: the commissioning team's view only."""
    return list(
        (
            await session.scalars(
                select(Organisation)
                .join(OpportunityInterest, OpportunityInterest.organisation_id == Organisation.id)
                .where(
                    OpportunityInterest.opportunity_id == opportunity_id,
                    OpportunityInterest.state == InterestState.INTERESTED,
                )
                .order_by(Organisation.name)
            )
        ).all()
    )


def interest_counts(organisations: list[Organisation], attribute: str) -> Counter[str | None]:
    """How many interested organisations there are of each size or kind."""
    return Counter(getattr(org, attribute) for org in organisations)


def everyone_to_tell(opportunity_id: int) -> CompoundSelect[Any]:
    """Everyone who hears about a change: each person announced to or sent it in a weekly
    digest, and every member of an organisation that registered interest (even after
    withdrawing, they hear it closed)."""
    announced = select(OpportunityAnnouncement.person_id).where(
        OpportunityAnnouncement.opportunity_id == opportunity_id,
        OpportunityAnnouncement.person_id.is_not(None),
    )
    in_digests = select(OpportunityDigestItem.person_id).where(
        OpportunityDigestItem.opportunity_id == opportunity_id
    )
    interested = members_of(
        select(OpportunityInterest.organisation_id).where(
            OpportunityInterest.opportunity_id == opportunity_id
        )
    )
    return announced.union(in_digests, interested)


async def organisation_of_people(
    session: AsyncSession, organisations: Select[Any] | None, person_ids: list[int]
) -> dict[int, int]:
    """Each person's provider organisation (the first, when they belong to more)."""
    query = select(Membership.person_id, Membership.organisation_id).where(
        Membership.person_id.in_(person_ids), Membership.role.in_(PROVIDER_ROLES)
    )
    if organisations is not None:
        query = query.where(Membership.organisation_id.in_(organisations))
    found: dict[int, int] = {}
    for person_id, organisation_id in await session.execute(
        query.order_by(Membership.organisation_id)
    ):
        if organisation_id is not None:
            found.setdefault(person_id, organisation_id)
    return found
