"""Engagement queries: who matches, who takes part, and what goes on the record.

Kept apart from the handlers so the same rules serve every door, the closing summary
and the engagement record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.areas import overlapping
from storage import clarifications
from storage.clarification_tables import About
from storage.engagement_tables import (
    BookingState,
    Clarification,
    ConflictDeclaration,
    Engagement,
    EngagementEvent,
    EngagementParticipant,
    EngagementState,
    EventBooking,
)
from storage.models import (
    Membership,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
    Person,
    Role,
)
from storage.upsert import insert_many_ignoring_duplicates

PROVIDER_ROLES = (Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER)


def areas_of(engagement: Engagement) -> list[str]:
    """The GSS codes of the places an engagement covers (none: everywhere the council does)."""
    return list(engagement.area_served or [])


def matching_area_codes(codes: list[str]) -> list[str]:
    """The area codes a provider may serve to match places with these codes.

    Places match when they share ground, in both directions: a provider working across a
    county is invited to an engagement in one of its councils (it works there), and a
    provider in one council is invited to an engagement covering the whole county (the
    engagement covers where it works). Two councils side by side do not match. Matching
    is by code only, so no spelling can drop an invitation.
    """
    return sorted(overlapping(codes))


def matching_organisations(engagement: Engagement) -> Select[Any]:
    """Providers whose service areas or areas served match the engagement, as SQL.

    An engagement with no area covers everywhere, so it matches on the kind of work alone.
    """
    clauses = []
    if engagement.service_area:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value == engagement.service_area
                )
            )
        )
    areas = areas_of(engagement)
    if areas:
        clauses.append(
            Organisation.id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    OrganisationAreaServed.value.in_(matching_area_codes(areas))
                )
            )
        )
    if not clauses:
        return select(Organisation.id).where(Organisation.id.is_(None))
    return select(Organisation.id).where(or_(*clauses))


def members_of(organisations: Select[Any]) -> Select[Any]:
    """The people who belong to these organisations, once each."""
    return (
        select(Membership.person_id)
        .where(
            Membership.organisation_id.in_(organisations),
            Membership.role.in_(PROVIDER_ROLES),
        )
        .distinct()
    )


def participant_organisations(engagement_id: int) -> Select[Any]:
    return select(EngagementParticipant.organisation_id).where(
        EngagementParticipant.engagement_id == engagement_id
    )


def participant_people(engagement_id: int) -> Select[Any]:
    """Everyone who hears about an engagement: the members of every taking-part organisation."""
    return members_of(participant_organisations(engagement_id))


async def add_participants(
    session: AsyncSession,
    engagement_id: int,
    organisations: Select[Any] | list[int],
    *,
    invited_at: datetime | None = None,
    joined_at: datetime | None = None,
) -> list[int]:
    """Add organisations as participants; those already taking part stay as they were.
    Returns the organisations given (the query's result, when it was a query)."""
    ids = (
        list((await session.scalars(organisations)).all())
        if isinstance(organisations, Select)
        else organisations
    )
    rows: list[dict[str, Any]] = [
        {
            "engagement_id": engagement_id,
            "organisation_id": organisation_id,
            "invited_at": invited_at,
            "joined_at": joined_at,
        }
        for organisation_id in ids
    ]
    await insert_many_ignoring_duplicates(
        session, EngagementParticipant, rows, ["engagement_id", "organisation_id"]
    )
    return ids


async def open_engagements(session: AsyncSession) -> list[Engagement]:
    return list(
        (
            await session.scalars(
                select(Engagement)
                .where(Engagement.state == EngagementState.OPEN)
                .order_by(Engagement.closes_at)
            )
        ).all()
    )


async def engagements_of(session: AsyncSession, authority_ids: set[int]) -> list[Engagement]:
    return list(
        (
            await session.scalars(
                select(Engagement)
                .where(Engagement.authority_id.in_(authority_ids))
                .order_by(Engagement.created_at.desc())
            )
        ).all()
    )


async def taking_part_in(session: AsyncSession, organisation_ids: set[int]) -> set[int]:
    """Which engagements these organisations take part in."""
    if not organisation_ids:
        return set()
    return set(
        (
            await session.scalars(
                select(EngagementParticipant.engagement_id).where(
                    EngagementParticipant.organisation_id.in_(organisation_ids)
                )
            )
        ).all()
    )


async def published_clarifications(
    session: AsyncSession, engagement_id: int
) -> list[Clarification]:
    """The questions-and-answers log and updates that went to everyone, in order."""
    return await clarifications.published(session, About("engagement", engagement_id))


async def waiting_questions(session: AsyncSession, engagement_id: int) -> list[Clarification]:
    return await clarifications.waiting(session, About("engagement", engagement_id))


async def events_of(session: AsyncSession, engagement_id: int) -> list[EngagementEvent]:
    return list(
        (
            await session.scalars(
                select(EngagementEvent)
                .where(EngagementEvent.engagement_id == engagement_id)
                .order_by(EngagementEvent.starts_at)
            )
        ).all()
    )


async def booking_counts(session: AsyncSession, event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Booked and waiting counts per event."""
    counts: dict[int, dict[str, int]] = {event_id: {} for event_id in event_ids}
    if not event_ids:
        return counts
    rows = await session.execute(
        select(EventBooking.event_id, EventBooking.state, func.count())
        .where(EventBooking.event_id.in_(event_ids))
        .group_by(EventBooking.event_id, EventBooking.state)
    )
    for event_id, state, count in rows:
        counts[event_id][state] = count
    return counts


async def places_taken(session: AsyncSession, event_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                EventBooking.event_id == event_id, EventBooking.state == BookingState.BOOKED
            )
        )
        or 0
    )


async def commissioning_team(session: AsyncSession, authority_id: int) -> list[Person]:
    """Everyone acting for the authority on its engagements: its commissioners, by name."""
    return list(
        (
            await session.scalars(
                select(Person)
                .join(Membership, Membership.person_id == Person.id)
                .where(
                    Membership.authority_id == authority_id,
                    Membership.role == Role.COMMISSIONER,
                )
                .order_by(Person.name, Person.id)
                .distinct()
            )
        ).all()
    )


async def conflict_declarations(
    session: AsyncSession, engagement_id: int
) -> dict[int, ConflictDeclaration]:
    """Each person's declaration for one engagement, by person id (content: team only)."""
    rows = await session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.engagement_id == engagement_id)
    )
    return {row.person_id: row for row in rows}


async def not_yet_declared(session: AsyncSession, engagement: Engagement) -> list[Person]:
    """The team members who have not declared conflicts for this engagement yet."""
    declared = await conflict_declarations(session, engagement.id)
    return [
        person
        for person in await commissioning_team(session, engagement.authority_id)
        if person.id not in declared
    ]
