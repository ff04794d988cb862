"""Reading the agreements register. Rows only, never words; who may see what is decided by
the callers' checks (`handlers/agreements/common.py`) and by these queries' filters."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agreement_tables import Agreement, AgreementKpi, AgreementParty
from storage.models import Organisation


async def agreements_of_councils(
    session: AsyncSession, authority_ids: Iterable[int]
) -> list[Agreement]:
    """Every agreement of these councils, newest start first."""
    ids = list(authority_ids)
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Agreement)
                .where(Agreement.authority_id.in_(ids))
                .order_by(Agreement.starts_on.desc(), Agreement.id)
            )
        ).all()
    )


async def agreements_of_organisations(
    session: AsyncSession, organisation_ids: Iterable[int]
) -> list[Agreement]:
    """The agreements these organisations are party to (and no others)."""
    ids = list(organisation_ids)
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Agreement)
                .where(
                    Agreement.id.in_(
                        select(AgreementParty.agreement_id).where(
                            AgreementParty.organisation_id.in_(ids)
                        )
                    )
                )
                .order_by(Agreement.starts_on.desc(), Agreement.id)
            )
        ).all()
    )


async def parties_of(
    session: AsyncSession, agreement_id: int
) -> list[tuple[AgreementParty, Organisation]]:
    """The provider parties, the lead (or sole provider) first, then members in order."""
    rows = (
        await session.execute(
            select(AgreementParty, Organisation)
            .join(Organisation, Organisation.id == AgreementParty.organisation_id)
            .where(AgreementParty.agreement_id == agreement_id)
            .order_by(AgreementParty.id)
        )
    ).all()
    found = [(party, organisation) for party, organisation in rows]
    return sorted(found, key=lambda row: row[0].role == "member")


async def with_parties_and_kpi_counts(
    session: AsyncSession, agreements: list[Agreement]
) -> list[tuple[Agreement, list[tuple[AgreementParty, Organisation]], int]]:
    """Each agreement with its parties (lead first) and how many KPIs it has, in two queries
    for the whole list (a register lists every agreement of a council)."""
    ids = [a.id for a in agreements]
    if not ids:
        return []
    parties: dict[int, list[tuple[AgreementParty, Organisation]]] = {i: [] for i in ids}
    for party, organisation in (
        await session.execute(
            select(AgreementParty, Organisation)
            .join(Organisation, Organisation.id == AgreementParty.organisation_id)
            .where(AgreementParty.agreement_id.in_(ids))
            .order_by(AgreementParty.id)
        )
    ).all():
        parties[party.agreement_id].append((party, organisation))
    counts = dict(
        (
            await session.execute(
                select(AgreementKpi.agreement_id, func.count())
                .where(AgreementKpi.agreement_id.in_(ids))
                .group_by(AgreementKpi.agreement_id)
            )
        ).all()
    )
    return [
        (
            a,
            sorted(parties[a.id], key=lambda row: row[0].role == "member"),
            int(counts.get(a.id, 0)),
        )
        for a in agreements
    ]


async def kpis_of(session: AsyncSession, agreement_id: int) -> list[AgreementKpi]:
    return list(
        (
            await session.scalars(
                select(AgreementKpi)
                .where(AgreementKpi.agreement_id == agreement_id)
                .order_by(AgreementKpi.position)
            )
        ).all()
    )


async def organisation_named(session: AsyncSession, words: str) -> Organisation | None:
    """The organisation with this name or short name (slug), ignoring case."""
    wanted = words.strip().lower()
    if not wanted:
        return None
    found: Organisation | None = await session.scalar(
        select(Organisation)
        .where((func.lower(Organisation.name) == wanted) | (Organisation.slug == wanted))
        .order_by(Organisation.id)
        .limit(1)
    )
    return found
