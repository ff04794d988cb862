"""Agreements put straight into the database, for door tests that are about something
else than recording one (the form that records them is tested in tests/features)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import LONDON
from bot.services import Services
from storage.agreement_tables import Agreement, AgreementKpi, AgreementParty, PartyRole
from storage.models import Authority, Organisation

KPIS = (
    ("Young people attending", "monthly register", "120 a month"),
    ("Clubs open", "weekly count", "10 a week"),
    ("Young people who feel safer", "yearly survey", "80%"),
)


async def seed_contract(
    services: Services,
    *,
    title: str = "Youth clubs in Preston",
    lead: str = "riverside-youth-trust",
    members: tuple[str, ...] = (),
    value_pence: int = 600_000_000,
    kpis: tuple[tuple[str, str, str], ...] = KPIS,
) -> int:
    """A contract of Riverside council that began 200 days ago and runs 500 more (by the
    app's own clock), with `lead` as sole provider or consortium lead and `members`."""
    today = services.clock.now().astimezone(LONDON).date()
    async with services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert council is not None
        agreement = Agreement(
            authority_id=council.id,
            title=title,
            route="standard_contract",
            value_pence=value_pence,
            vat_basis="including",
            starts_on=today - timedelta(days=200),
            ends_on=today + timedelta(days=500),
            payment_terms_days=30,
        )
        session.add(agreement)
        await session.flush()
        for slug, role in [
            (lead, PartyRole.LEAD if members else PartyRole.SOLE),
            *((m, PartyRole.MEMBER) for m in members),
        ]:
            organisation = await session.scalar(
                select(Organisation).where(Organisation.slug == slug)
            )
            assert organisation is not None
            session.add(
                AgreementParty(
                    agreement_id=agreement.id, organisation_id=organisation.id, role=role
                )
            )
        for position, (name, measure, target) in enumerate(kpis, start=1):
            session.add(
                AgreementKpi(
                    agreement_id=agreement.id,
                    position=position,
                    name=name,
                    measure=measure,
                    target=target,
                )
            )
        return agreement.id
