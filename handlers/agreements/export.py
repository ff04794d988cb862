"""The agreements register as a file (CSV or Excel) for the council's commissioning team,
made with the exports' machinery (`handlers/export_files.py`: one `Table`, written as CSV or
XLSX, every text cell made safe for spreadsheets).

Its columns hold what a contract details notice (UK7, Procurement Act 2023 s.53) asks for
that Convene records: see the README ("The agreements register").
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms.kinds import CellKind
from bot.core.law import LawError, contract_details_notice_days
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.services import Services
from handlers.agreements.common import kpi_shortfall, today
from handlers.agreements.details import load_details
from handlers.agreements.views import (
    VAT_WORDS,
    breaks_words,
    details_cells,
    parties_words,
    route_words,
)
from handlers.export_files import (
    CONTENT_TYPES,
    Cell,
    Column,
    ExportFormat,
    Table,
    london_iso,
    to_csv,
    to_xlsx,
)
from storage import audit
from storage.agreement_tables import Agreement, AgreementKpi, PartyRole, VatBasis
from storage.agreements import agreements_of_councils, kpis_of, parties_of
from storage.models import Authority

COLUMNS = (
    Column("Convene reference"),
    Column("Title"),
    Column("Opportunity (Convene number)"),
    Column("Procurement route"),
    Column("Light-touch"),
    Column("Below threshold"),
    Column("Reserved"),
    Column("Framework call-off"),
    Column("Grant"),
    Column("Suppliers"),
    Column("Lead supplier"),
    Column("Value (GBP)", CellKind.MONEY),
    Column("VAT"),
    Column("Start date"),
    Column("End date"),
    Column("Extension options"),
    Column("Break clauses"),
    Column("Review points"),
    Column("Price uplifts"),
    Column("Payment schedule"),
    Column("Payment terms (days)"),
    Column("Delivery places (ONS codes)"),
    Column("Key performance indicators"),
    Column("KPIs the law needs (s.52)"),
    Column("Contract details notice due within (days, s.53)"),
    Column("Named for the council"),
    Column("Named for the provider"),
)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


async def register_rows(session: AsyncSession, agreements: list[Agreement]) -> list[list[Cell]]:
    """One row an agreement, in the columns above."""
    rows: list[list[Cell]] = []
    for a in agreements:
        parties = await parties_of(session, a.id)
        kpis: list[AgreementKpi] = await kpis_of(session, a.id)
        lead = next((o.name for p, o in parties if p.role != PartyRole.MEMBER), None)
        shortfall = kpi_shortfall(a, len(kpis))
        cells = details_cells(a, await load_details(session, a))
        try:
            uk7_days: Cell = (
                None if a.grant_funded else contract_details_notice_days(a.light_touch, a.starts_on)
            )
        except LawError:
            uk7_days = None
        rows.append(
            [
                f"convene-agreement-{a.id}",
                a.title,
                a.opportunity_id,
                route_words(a.route),
                _yes(a.light_touch),
                _yes(a.below_threshold),
                _yes(a.reserved),
                _yes(a.framework_call_off),
                _yes(a.grant_funded),
                parties_words(parties),
                lead,
                None if a.value_pence is None else Decimal(a.value_pence) / 100,
                VAT_WORDS.get(VatBasis(a.vat_basis), a.vat_basis),
                a.starts_on,
                a.ends_on,
                a.extension_options,
                breaks_words(a),
                cells.reviews,
                cells.price_uplifts,
                cells.payments,
                a.payment_terms_days,
                "; ".join(a.area_served or []),
                "; ".join(f"{k.name} ({k.measure}; target {k.target})" for k in kpis),
                None if shortfall is None else shortfall.required,
                uk7_days,
                cells.council_people,
                cells.provider_people,
            ]
        )
    return rows


NOT_YOURS = PageRefusal(
    403,
    "This file is not yours to download",
    [
        "Only the council's own commissioning team can download its agreements register.",
        "Providers can see their own agreements: type agreements.",
    ],
)


async def register_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/agreements/{slug}/register.csv` and `.xlsx`: the team's register (others refused,
    audited)."""
    actor = request.actor
    assert actor is not None  # not a public page
    slug, kind = request.params["slug"], request.params["kind"]
    now = services.clock.now()
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == slug))
        if authority is None or authority.id not in actor.commissioner_for():
            await audit.record(
                session,
                "agreement.refused",
                actor_id=actor.person_id,
                door="web",
                object_type="agreements_register",
                object_id=authority.id if authority else None,
                at=now,
                attempted="register file",
                reason="not the team",
            )
            return NOT_YOURS
        agreements = await agreements_of_councils(session, {authority.id})
        table = Table(
            title="Agreements register",
            columns=list(COLUMNS),
            rows=await register_rows(session, agreements),
            about=[
                ("What this is", f"The agreements register of {authority.name}"),
                ("Who may see it", f"Only {authority.name}'s commissioning team."),
                ("Made for", actor.name),
                ("Made at (UK time)", london_iso(now) or ""),
                ("Money", "In pounds, as recorded (see the VAT column)."),
            ],
        )
        await audit.record(
            session,
            "agreement.register_downloaded",
            actor_id=actor.person_id,
            door="web",
            object_type="agreements_register",
            object_id=authority.id,
            authority_id=authority.id,
            at=now,
            format=kind,
            rows=len(table.rows),
        )
    fmt = ExportFormat(kind)
    return PageContent(
        title="Agreements register",
        data={},
        body=to_csv(table) if fmt == ExportFormat.CSV else to_xlsx(table),
        content_type=CONTENT_TYPES[fmt],
        download_name=f"{slug}-agreements-{today(services).isoformat()}.{fmt.value}",
    )


PAGES = (WebPage("/agreements/{slug}/register.{kind:csv|xlsx}", "file", register_page),)
