"""Reading an agreement's details: its named people, its own dates and its payments. Rows
only, never words; who may see them is decided by the agreements feature's checks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agreement_detail_tables import AgreementDate, AgreementPayment, AgreementPerson
from storage.models import Membership, Person, Role


async def named_people(session: AsyncSession, agreement_id: int) -> list[AgreementPerson]:
    """The people named on the agreement, the council's first, each side in its order."""
    rows = (
        await session.scalars(
            select(AgreementPerson)
            .where(AgreementPerson.agreement_id == agreement_id)
            .order_by(AgreementPerson.position, AgreementPerson.id)
        )
    ).all()
    return sorted(rows, key=lambda p: p.side != "council")


async def own_dates(session: AsyncSession, agreement_id: int) -> list[AgreementDate]:
    return list(
        (
            await session.scalars(
                select(AgreementDate)
                .where(AgreementDate.agreement_id == agreement_id)
                .order_by(AgreementDate.on, AgreementDate.id)
            )
        ).all()
    )


async def payments_of(session: AsyncSession, agreement_id: int) -> list[AgreementPayment]:
    """The payment schedule, by due date."""
    return list(
        (
            await session.scalars(
                select(AgreementPayment)
                .where(AgreementPayment.agreement_id == agreement_id)
                .order_by(AgreementPayment.due_on, AgreementPayment.id)
            )
        ).all()
    )


async def person_named(
    session: AsyncSession,
    words: str,
    *,
    authority_id: int | None = None,
    organisation_ids: Iterable[int] = (),
) -> tuple[Person, int | None] | None:
    """The Convene person with this name or email (ignoring case) in the council's
    commissioning team, or a member of one of these organisations (and which one)."""
    wanted = words.strip().lower()
    if not wanted:
        return None
    matches = (func.lower(Person.name) == wanted) | (func.lower(Person.email) == wanted)
    if authority_id is not None:
        found = await session.scalar(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                matches,
                Membership.authority_id == authority_id,
                Membership.role == Role.COMMISSIONER,
            )
            .order_by(Person.id)
            .limit(1)
        )
        return (found, None) if found is not None else None
    ids = list(organisation_ids)
    if not ids:
        return None
    row = (
        await session.execute(
            select(Person, Membership.organisation_id)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                matches,
                Membership.organisation_id.in_(ids),
                Membership.role.in_((Role.PROVIDER_MEMBER, Role.PROVIDER_ADMIN)),
            )
            .order_by(Person.id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def members_of(session: AsyncSession, organisation_ids: Iterable[int]) -> list[int]:
    """The people in these organisations (members and admins), by id."""
    ids = list(organisation_ids)
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Membership.person_id)
                .where(
                    Membership.organisation_id.in_(ids),
                    Membership.role.in_((Role.PROVIDER_MEMBER, Role.PROVIDER_ADMIN)),
                )
                .order_by(Membership.person_id)
            )
        ).all()
    )
