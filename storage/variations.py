"""Reading an agreement's variations. Rows only, never words; who may see them is decided
by the callers' checks (`handlers/agreements/common.py`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agreement_tables import Agreement, AgreementParty
from storage.models import Membership, Role
from storage.variation_link_tables import AgreementOriginal, VariationLink
from storage.variation_tables import AgreementVariation, VariationState


async def variations_of(session: AsyncSession, agreement_id: int) -> list[AgreementVariation]:
    """Every variation of the agreement, in the order they were asked for."""
    return list(
        (
            await session.scalars(
                select(AgreementVariation)
                .where(AgreementVariation.agreement_id == agreement_id)
                .order_by(AgreementVariation.id)
            )
        ).all()
    )


def approved_in_order(variations: list[AgreementVariation]) -> list[AgreementVariation]:
    """The approved ones, in the order they were approved (the order they took effect)."""
    approved = [v for v in variations if v.state == VariationState.APPROVED]
    return sorted(approved, key=lambda v: (v.decided_at is None, v.decided_at, v.id))


async def party_people(session: AsyncSession, agreement_id: int) -> list[int]:
    """The people of the agreement's provider parties (their members and admins)."""
    return list(
        (
            await session.scalars(
                select(Membership.person_id)
                .join(AgreementParty, AgreementParty.organisation_id == Membership.organisation_id)
                .where(
                    AgreementParty.agreement_id == agreement_id,
                    Membership.role.in_([Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER]),
                )
                .distinct()
                .order_by(Membership.person_id)
            )
        ).all()
    )


async def links_of(session: AsyncSession, agreement_id: int) -> dict[int, set[int]]:
    """For each variation of the agreement that names earlier ones as its series, their ids."""
    rows = (
        await session.execute(
            select(VariationLink.variation_id, VariationLink.linked_variation_id)
            .join(AgreementVariation, AgreementVariation.id == VariationLink.variation_id)
            .where(AgreementVariation.agreement_id == agreement_id)
        )
    ).all()
    links: dict[int, set[int]] = {}
    for variation_id, linked_id in rows:
        links.setdefault(variation_id, set()).add(linked_id)
    return links


async def original_of(session: AsyncSession, agreement_id: int) -> AgreementOriginal | None:
    """The value and end date on award, once the agreement has been varied."""
    return await session.get(AgreementOriginal, agreement_id)


async def keep_original(session: AsyncSession, agreement: Agreement) -> AgreementOriginal:
    """Write down the value and end date on award before a variation first changes them
    (once: later variations find it already there)."""
    kept = await session.get(AgreementOriginal, agreement.id)
    if kept is None:
        kept = AgreementOriginal(
            agreement_id=agreement.id, value_pence=agreement.value_pence, ends_on=agreement.ends_on
        )
        session.add(kept)
        await session.flush()
    return kept
