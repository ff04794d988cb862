"""The pipeline in the shape a UK1 pipeline notice needs (Procurement Act 2023 s.93), as CSV
and JSON, for the council's own commissioning team to copy into Find a Tender.

Convene does not publish the UK1 itself: a council publishes it on Find a Tender. The file
holds every planned opportunity expected within the window (18 months, from the legal data)
and says of each whether the notice must list it (worth more than the legal figure).
Which field goes where on the notice is in the README ("The pipeline").
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bot.core.areas import area_label
from bot.core.law import ROUTE_NAMES, Route, pipeline_contract_floor, pipeline_ends, rule
from bot.core.opendata import ProcurementCategory
from bot.core.opendata.cells import neutralise
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import command_ref
from bot.services import Services
from handlers.pipeline.common import in_window, today
from handlers.pipeline.views import over_uk1_floor
from storage import audit
from storage.models import Authority
from storage.pipeline import entries_of
from storage.pipeline_tables import PipelineEntry

#: Routes outside the Act (grants; health care under its own regime): never on a UK1.
NOT_PROCUREMENTS = frozenset(
    {Route.GRANT, Route.PARTICIPATORY_GRANTS, Route.PROVIDER_SELECTION_REGIME}
)

#: The CSV's columns: (heading, the JSON key it comes from).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Convene reference", "reference"),
    ("Title", "title"),
    ("Description", "description"),
    ("Main category", "mainCategory"),
    ("CPV codes", "cpvCodes"),
    ("Delivery places (ONS codes)", "deliveryAreaCodes"),
    ("Delivery places", "deliveryAreaNames"),
    ("Estimated value: lowest (GBP, including VAT)", "estimatedValueMinimum"),
    ("Estimated value: highest (GBP, including VAT)", "estimatedValueMaximum"),
    ("Procurement route", "route"),
    ("Estimated date of the tender notice", "estimatedTenderNoticeDate"),
    ("Estimated contract start date", "estimatedContractStartDate"),
    ("Must be listed in the UK1", "mustBeListed"),
)


def financial_year(on: date) -> str:
    """The UK financial year (1 April to 31 March) that `on` falls in: '2026 to 2027'."""
    first = on.year if on >= date(on.year, 4, 1) else on.year - 1
    return f"{first} to {first + 1}"


def _pounds(pence: int | None) -> str | None:
    return None if pence is None else f"{Decimal(pence) / 100:.2f}"


def planned_procurement(entry: PipelineEntry, on: date) -> dict[str, Any]:
    codes = list(entry.area_served)
    return {
        "reference": f"PIPELINE-{entry.id}",
        "title": entry.title,
        "description": entry.description or "",
        "mainCategory": ProcurementCategory.SERVICES.value,
        "cpvCodes": list(entry.cpv_codes),
        "deliveryAreaCodes": codes,
        "deliveryAreaNames": [area_label(code) for code in codes],
        "estimatedValueMinimum": _pounds(entry.value_min_pence),
        "estimatedValueMaximum": _pounds(entry.value_max_pence),
        "route": ROUTE_NAMES[Route(entry.route)] if entry.route in set(Route) else None,
        "estimatedTenderNoticeDate": entry.publication_on.isoformat(),
        "estimatedContractStartDate": entry.contract_start_on.isoformat()
        if entry.contract_start_on
        else None,
        "mustBeListed": over_uk1_floor(entry, on),
    }


def uk1_document(authority: Authority, entries: list[PipelineEntry], on: date) -> dict[str, Any]:
    """The pipeline as one JSON document: the notice's own facts, then each procurement.
    Grants and health care under its own regime are left out: not procurements
    under the Act."""
    planned = [e for e in entries if in_window(e, on) and e.route not in NOT_PROCUREMENTS]
    return {
        "noticeType": "UK1",
        "legalBasis": rule("pipeline.contracts_over", on).citation,
        "contractingAuthority": authority.name,
        "financialYear": financial_year(on),
        "madeOn": on.isoformat(),
        "coversUntil": pipeline_ends(on).isoformat(),
        "listContractsOver": {"amount": pipeline_contract_floor(on), "currency": "GBP"},
        "plannedProcurements": [planned_procurement(e, on) for e in planned],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return neutralise("; ".join(str(v) for v in value))
    return neutralise(str(value))


def uk1_csv(document: dict[str, Any]) -> bytes:
    """One row a planned procurement, under plain headings; UTF-8 with a byte order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([heading for heading, _ in COLUMNS])
    for row in document["plannedProcurements"]:
        writer.writerow([_cell(row[key]) for _, key in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


NOT_YOURS = PageRefusal(
    403,
    "This file is not yours to download",
    [
        "Only the council's own commissioning team can download its pipeline file.",
        f"Providers can see published plans: {command_ref('pipeline', 'the pipeline')}.",
    ],
)


async def uk1_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/pipeline/{slug}/uk1.csv` and `.json`: the team's UK1 file (others refused, audited)."""
    actor = request.actor
    assert actor is not None  # not a public page
    slug, kind = request.params["slug"], request.params["kind"]
    on = today(services)
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == slug))
        if authority is None or authority.id not in actor.commissioner_for():
            await audit.record(
                session,
                "pipeline.refused",
                actor_id=actor.person_id,
                door="web",
                object_type="pipeline",
                object_id=authority.id if authority else None,
                at=services.clock.now(),
                attempted="uk1 file",
                reason="not the team",
            )
            return NOT_YOURS
        document = uk1_document(authority, await entries_of(session, {authority.id}), on)
        await audit.record(
            session,
            "pipeline.uk1_downloaded",
            actor_id=actor.person_id,
            door="web",
            object_type="pipeline",
            object_id=authority.id,
            authority_id=authority.id,
            at=services.clock.now(),
            format=kind,
            rows=len(document["plannedProcurements"]),
        )
    name = f"{slug}-pipeline-uk1-{on.isoformat()}"
    if kind == "json":
        return PageContent(
            title="UK1 pipeline",
            data={},
            body=json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
            content_type="application/json; charset=utf-8",
            download_name=f"{name}.json",
        )
    return PageContent(
        title="UK1 pipeline",
        data={},
        body=uk1_csv(document),
        content_type="text/csv; charset=utf-8",
        download_name=f"{name}.csv",
    )


PAGES = (WebPage("/pipeline/{slug}/uk1.{kind:csv|json}", "file", uk1_page),)
