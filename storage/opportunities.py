"""Opportunity queries: who matches, who is interested, who has been told.

Kept apart from the handlers so the same rules serve every door, Home and the record.
Matching is by a provider's profile (its service areas and the places it serves), never
by its readiness answers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clarification_tables import Clarification
from storage.digest_tables import OpportunityDigestItem
from storage.engagements import PROVIDER_ROLES, matching_area_codes, members_of
from storage.models import (
    Membership,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
)
from storage.opportunity_tables import (
    AnnouncementKind,
    InterestState,
    Opportunity,
    OpportunityAnnouncement,
    OpportunityFollower,
    OpportunityInterest,
    OpportunityLot,
    OpportunityState,
)


@dataclass(frozen=True)
class FitKeys:
    """What an opportunity is matched on: the kinds of work (None: any) and the area codes a
    provider may serve (None: anywhere). With neither, it fits nobody."""

    services: frozenset[str] | None
    areas: frozenset[str] | None

    @property
    def fits_nobody(self) -> bool:
        return self.services is None and self.areas is None


def fit_keys(opportunity: Opportunity) -> FitKeys:
    """The one matching rule's inputs for an opportunity, used by both ways of asking."""
    return FitKeys(
        frozenset(opportunity.service_areas) or None,
        frozenset(matching_area_codes(list(opportunity.area_served)))
        if opportunity.area_served
        else None,
    )


def matching_organisations(opportunity: Opportunity) -> Select[Any]:
    """Providers that do this kind of work *and* serve these places, as SQL.

    An engagement asks anyone who might have a view, so it matches on either; an
    opportunity is a chance to bid, so it goes to those it fits on both. No service area
    means any kind of work; no area means everywhere the council covers. With neither,
    nobody is matched: the team must say what the work is or where.
    """
    keys = fit_keys(opportunity)
    clauses = []
    if keys.areas is not None:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    OrganisationAreaServed.value.in_(sorted(keys.areas))
                )
            )
        )
    if keys.services is not None:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value.in_(sorted(keys.services))
                )
            )
        )
    if not clauses:
        return select(Organisation.id).where(Organisation.id.is_(None))
    return select(Organisation.id).where(and_(*clauses))


async def fitting_pairs(
    session: AsyncSession, opportunities: list[Opportunity]
) -> dict[int, set[int]]:
    """Which of these opportunities fit each organisation: organisation id -> opportunity ids.

    The same rule as `matching_organisations` (the same `fit_keys`: a provider fits when it
    does one of the kinds of work and serves one of the places), for hundreds of
    opportunities at once: two queries read who does which of the kinds of work and serves
    which of the places these opportunities name, and the sets are matched here. Two
    queries however many providers and opportunities there are.
    """
    keys = {o.id: fit_keys(o) for o in opportunities}
    services = sorted({v for k in keys.values() if k.services for v in k.services})
    areas = sorted({c for k in keys.values() if k.areas for c in k.areas})
    does: dict[int, set[str]] = {}
    doing: dict[str, set[int]] = {}
    if services:
        for organisation_id, value in await session.execute(
            select(OrganisationServiceArea.organisation_id, OrganisationServiceArea.value).where(
                OrganisationServiceArea.value.in_(services)
            )
        ):
            does.setdefault(organisation_id, set()).add(value)
            doing.setdefault(value, set()).add(organisation_id)
    serving: dict[str, set[int]] = {}
    if areas:
        for organisation_id, code in await session.execute(
            select(OrganisationAreaServed.organisation_id, OrganisationAreaServed.value).where(
                OrganisationAreaServed.value.in_(areas)
            )
        ):
            serving.setdefault(code, set()).add(organisation_id)
    fits: dict[int, set[int]] = {}
    for opportunity_id, k in keys.items():
        if k.fits_nobody:
            continue
        found: set[int] = set()
        if k.areas is not None:
            for code in k.areas:
                found |= serving.get(code, set())
            if k.services is not None:
                wanted = k.services
                found = {org for org in found if not does.get(org, set()).isdisjoint(wanted)}
        elif k.services is not None:
            for value in k.services:
                found |= doing.get(value, set())
        for organisation_id in found:
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


async def interested_counts(session: AsyncSession, opportunity_ids: list[int]) -> dict[int, int]:
    """How many organisations are interested in each opportunity, in one query (a team's
    Home lists all its open ones)."""
    if not opportunity_ids:
        return {}
    rows = await session.execute(
        select(OpportunityInterest.opportunity_id, func.count())
        .where(
            OpportunityInterest.opportunity_id.in_(opportunity_ids),
            OpportunityInterest.state == InterestState.INTERESTED,
        )
        .group_by(OpportunityInterest.opportunity_id)
    )
    return {opportunity_id: count for opportunity_id, count in rows.all()}


async def interested_opportunity_ids(session: AsyncSession, organisation_ids: set[int]) -> set[int]:
    """The opportunities any of these organisations said it is interested in, in one query."""
    if not organisation_ids:
        return set()
    rows = await session.scalars(
        select(OpportunityInterest.opportunity_id).where(
            OpportunityInterest.organisation_id.in_(organisation_ids),
            OpportunityInterest.state == InterestState.INTERESTED,
        )
    )
    return set(rows.all())


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
    """Everyone who hears about a change: each person told of it when it was published or
    sent it in a weekly digest, every member of an organisation that registered interest (even after
    withdrawing, they hear it closed), every member of an organisation that asked a
    question about it, and each person following it."""
    # Told when it was published: a change sent later is not a reason to hear the next
    # one (someone who stopped following would hear every change after that).
    announced = select(OpportunityAnnouncement.person_id).where(
        OpportunityAnnouncement.opportunity_id == opportunity_id,
        OpportunityAnnouncement.kind == AnnouncementKind.PUBLISHED,
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
    asked = members_of(
        select(Clarification.asked_for).where(
            Clarification.opportunity_id == opportunity_id, Clarification.asked_for.is_not(None)
        )
    )
    following = select(OpportunityFollower.person_id).where(
        OpportunityFollower.opportunity_id == opportunity_id
    )
    return announced.union(in_digests, interested, asked, following)


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


def interested_people(opportunity_id: int) -> Select[Any]:
    """The members of every organisation interested in it now (not those that withdrew),
    once each: who its deadline reminders go to."""
    return members_of(
        select(OpportunityInterest.organisation_id).where(
            OpportunityInterest.opportunity_id == opportunity_id,
            OpportunityInterest.state == InterestState.INTERESTED,
        )
    )


async def tender_from(session: AsyncSession, engagement_id: int) -> Opportunity | None:
    """The first published opportunity that came from this engagement: once there is one,
    the engagement's private conversations are closed (s.16)."""
    return await session.scalar(
        select(Opportunity)
        .where(Opportunity.engagement_id == engagement_id, Opportunity.published_at.is_not(None))
        .order_by(Opportunity.published_at, Opportunity.id)
        .limit(1)
    )
