"""Partner posts, introductions and consortia: the reads, and the one rule for who may learn
whose name.

The rule (issue 14): a provider never learns who posted, or who asked to talk, until both
sides have said yes. The names of an introduction's organisations are for those two
organisations once it is made, and for the infrastructure organisation (CVS) that brokers
in the opportunity's places. A consortium's members are for its members, and for the
commissioning team once every member has confirmed. Commissioners otherwise see counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engagements import matching_area_codes
from storage.models import Organisation, OrganisationAreaServed
from storage.opportunity_tables import Opportunity
from storage.partner_tables import (
    Answer,
    Consortium,
    ConsortiumMember,
    ConsortiumState,
    IntroductionState,
    PartnerIntroduction,
    PartnerPost,
    PostState,
)


def pair(a: int, b: int) -> tuple[int, int]:
    """Two organisations in the order an introduction stores them."""
    return (a, b) if a < b else (b, a)


def side_of(introduction: PartnerIntroduction, organisation_id: int) -> str | None:
    """'first' or 'second' for one of its organisations, else None."""
    if introduction.first_organisation_id == organisation_id:
        return "first"
    if introduction.second_organisation_id == organisation_id:
        return "second"
    return None


def other_side(introduction: PartnerIntroduction, organisation_id: int) -> int:
    return (
        introduction.second_organisation_id
        if introduction.first_organisation_id == organisation_id
        else introduction.first_organisation_id
    )


def answer_of(introduction: PartnerIntroduction, organisation_id: int) -> str | None:
    side = side_of(introduction, organisation_id)
    return getattr(introduction, f"{side}_answer") if side else None


def names_shared(introduction: PartnerIntroduction) -> bool:
    """Both said yes: the only moment names and contact details pass between providers."""
    return (
        introduction.state == IntroductionState.INTRODUCED
        and introduction.first_answer == Answer.YES
        and introduction.second_answer == Answer.YES
    )


async def brokers_for(
    session: AsyncSession, opportunity: Opportunity, organisation_ids: set[int]
) -> list[Organisation]:
    """The infrastructure organisations among these that serve the opportunity's places.

    An opportunity with no places named has no local broker: nobody can tell which CVS
    is local to it."""
    if not organisation_ids or not opportunity.area_served:
        return []
    codes = matching_area_codes(list(opportunity.area_served))
    return list(
        (
            await session.scalars(
                select(Organisation)
                .where(
                    Organisation.id.in_(organisation_ids),
                    Organisation.is_infrastructure.is_(True),
                    Organisation.id.in_(
                        select(OrganisationAreaServed.organisation_id).where(
                            OrganisationAreaServed.value.in_(codes)
                        )
                    ),
                )
                .order_by(Organisation.id)
            )
        ).all()
    )


async def post_of(
    session: AsyncSession, opportunity_id: int, organisation_id: int
) -> PartnerPost | None:
    return await session.scalar(
        select(PartnerPost).where(
            PartnerPost.opportunity_id == opportunity_id,
            PartnerPost.organisation_id == organisation_id,
        )
    )


async def open_posts(session: AsyncSession, opportunity_id: int) -> list[PartnerPost]:
    return list(
        (
            await session.scalars(
                select(PartnerPost)
                .where(
                    PartnerPost.opportunity_id == opportunity_id,
                    PartnerPost.state == PostState.OPEN,
                )
                .order_by(PartnerPost.id)
            )
        ).all()
    )


async def introduction_between(
    session: AsyncSession, opportunity_id: int, a: int, b: int
) -> PartnerIntroduction | None:
    first, second = pair(a, b)
    return await session.scalar(
        select(PartnerIntroduction).where(
            PartnerIntroduction.opportunity_id == opportunity_id,
            PartnerIntroduction.first_organisation_id == first,
            PartnerIntroduction.second_organisation_id == second,
        )
    )


async def introductions_of(
    session: AsyncSession, opportunity_id: int, organisation_id: int
) -> list[PartnerIntroduction]:
    return list(
        (
            await session.scalars(
                select(PartnerIntroduction)
                .where(
                    PartnerIntroduction.opportunity_id == opportunity_id,
                    or_(
                        PartnerIntroduction.first_organisation_id == organisation_id,
                        PartnerIntroduction.second_organisation_id == organisation_id,
                    ),
                )
                .order_by(PartnerIntroduction.id)
            )
        ).all()
    )


async def brokered_by(
    session: AsyncSession, opportunity_id: int, organisation_ids: set[int]
) -> list[PartnerIntroduction]:
    return list(
        (
            await session.scalars(
                select(PartnerIntroduction)
                .where(
                    PartnerIntroduction.opportunity_id == opportunity_id,
                    PartnerIntroduction.brokered_by_organisation_id.in_(organisation_ids),
                )
                .order_by(PartnerIntroduction.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class PartnerCounts:
    """What a commissioning team may know before a consortium is confirmed: numbers only."""

    posts: int
    asked: int
    introduced: int


async def partner_counts(session: AsyncSession, opportunity_id: int) -> PartnerCounts:
    posts = await session.scalar(
        select(func.count())
        .select_from(PartnerPost)
        .where(PartnerPost.opportunity_id == opportunity_id, PartnerPost.state == PostState.OPEN)
    )
    by_state = dict(
        (
            await session.execute(
                select(PartnerIntroduction.state, func.count())
                .where(PartnerIntroduction.opportunity_id == opportunity_id)
                .group_by(PartnerIntroduction.state)
            )
        ).all()
    )
    return PartnerCounts(
        posts=int(posts or 0),
        asked=sum(int(n) for n in by_state.values()),
        introduced=int(by_state.get(IntroductionState.INTRODUCED, 0)),
    )


async def membership_in(
    session: AsyncSession, opportunity_id: int, organisation_id: int
) -> ConsortiumMember | None:
    """This organisation's place in a consortium for the opportunity (at most one)."""
    return await session.scalar(
        select(ConsortiumMember).where(
            ConsortiumMember.opportunity_id == opportunity_id,
            ConsortiumMember.organisation_id == organisation_id,
        )
    )


async def members_of_consortium(
    session: AsyncSession, consortium_id: int
) -> list[tuple[ConsortiumMember, Organisation]]:
    return [
        (member, organisation)
        for member, organisation in (
            await session.execute(
                select(ConsortiumMember, Organisation)
                .join(Organisation, Organisation.id == ConsortiumMember.organisation_id)
                .where(ConsortiumMember.consortium_id == consortium_id)
                .order_by(ConsortiumMember.id)
            )
        ).all()
    ]


async def confirmed_consortia(session: AsyncSession, opportunity_id: int) -> list[Consortium]:
    """The consortia every member has confirmed: the team's to see, the agreement's to carry."""
    return list(
        (
            await session.scalars(
                select(Consortium)
                .where(
                    Consortium.opportunity_id == opportunity_id,
                    Consortium.state == ConsortiumState.CONFIRMED,
                )
                .order_by(Consortium.id)
            )
        ).all()
    )


async def waiting_for(
    session: AsyncSession, organisation_ids: set[int]
) -> list[tuple[PartnerIntroduction, Opportunity]]:
    """Requests to talk that these organisations have not answered yet, oldest first."""
    if not organisation_ids:
        return []
    rows = (
        await session.execute(
            select(PartnerIntroduction, Opportunity)
            .join(Opportunity, Opportunity.id == PartnerIntroduction.opportunity_id)
            .where(
                PartnerIntroduction.state == IntroductionState.ASKED,
                or_(
                    PartnerIntroduction.first_organisation_id.in_(organisation_ids)
                    & PartnerIntroduction.first_answer.is_(None),
                    PartnerIntroduction.second_organisation_id.in_(organisation_ids)
                    & PartnerIntroduction.second_answer.is_(None),
                ),
            )
            .order_by(PartnerIntroduction.id)
        )
    ).all()
    return [(introduction, opportunity) for introduction, opportunity in rows]


async def mark_infrastructure(
    session: AsyncSession, slug: str, is_infrastructure: bool
) -> Organisation | None:
    """Say whether an organisation is a local infrastructure organisation (a CVS); None
    when no organisation has this short name."""
    organisation = await session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is not None:
        organisation.is_infrastructure = is_infrastructure
    return organisation
