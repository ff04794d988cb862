"""Opportunities as open data: each published opportunity's OCDS release package, and the
grants a council awarded from grant-route opportunities, in 360Giving.

Both are open data, so both are public web pages (no sign-in), linked from the
opportunity on every door:

- `/opportunities/{id}/ocds.json`: the OCDS 1.1.5 release package (UK, lots and location
  extensions) of one published opportunity: its tender release, one release per amendment
  (each carrying every change so far), and a cancellation when it was withdrawn.
- `/grants/{council}/360giving.json`, `.csv` and `.xlsx`: every grant the council awarded.

The rows are turned into the neutral inputs of `bot.core.opendata`, whose builders check
everything and refuse in plain words; a refusal is shown as a problem page, never as half
a file.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.law import (
    ROUTE_NAMES,
    ContractKind,
    LawError,
    Route,
    is_above_threshold,
)
from bot.core.opendata import (
    Amendment,
    Document,
    Grant,
    GrantOrg,
    GrantsPublisher,
    Lot,
    OpenDataRefused,
    OrgRef,
    ProcurementMethod,
    Publisher,
    ReleaseTag,
    TenderRelease,
    amendment_release,
    grants_csv,
    grants_json,
    grants_xlsx,
    org_id,
    release_package,
)
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Button
from bot.core.turn import Door, row_id
from bot.services import Services
from bot.settings import Settings
from storage.models import Authority, Organisation
from storage.opportunities import lots_of
from storage.opportunity_tables import (
    Opportunity,
    OpportunityAmendment,
    OpportunityLot,
    OpportunityState,
)
from storage.pipeline import awarded_grants
from storage.pipeline_tables import GrantAward

#: The routes that are grants (outside the Procurement Act; 360Giving, not OCDS awards).
GRANT_ROUTES = frozenset({Route.GRANT, Route.PARTICIPATORY_GRANTS, Route.GRANT_THEN_CONTRACT})
#: The contract routes under the light-touch rules (the threshold for "light_touch").
LIGHT_TOUCH_ROUTES = frozenset({Route.LIGHT_TOUCH, Route.RESERVED_MUTUAL})


def _route_name(route: str | None) -> str | None:
    return ROUTE_NAMES[Route(route)] if route in set(Route) else None


#: Register (bot.core.registers key) -> the organisation's column, most used first.
_REGISTERS = (
    ("charity_commission", "charity_number"),
    ("companies_house", "company_number"),
    ("oscr", "oscr_number"),
    ("ccni", "ccni_number"),
    ("fca_mutuals", "mutuals_number"),
    ("ppon", "ppon"),
)
#: The link button every door shows for an open data file (Slack reports the press).
LINK_ACTION = "opendata.link"


def is_grant(opportunity: Opportunity) -> bool:
    return (opportunity.route or "") in GRANT_ROUTES


def _pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else Decimal(pence) / 100


def _org_ref(settings: Settings, authority: Authority) -> OrgRef:
    """The council as OCDS names it: its org-id when the setting gives one."""
    found = settings.org_id_of(authority.slug)
    if not found or found.count("-") < 2:
        return OrgRef(authority.name)
    first, second, rest = found.split("-", 2)
    return OrgRef(authority.name, scheme=f"{first}-{second}", identifier=rest)


def _method(route: str | None) -> ProcurementMethod | None:
    if not route:
        return None
    return ProcurementMethod.DIRECT if route == Route.DIRECT_AWARD else ProcurementMethod.OPEN


def _above_threshold(opportunity: Opportunity) -> bool | None:
    """Whether the contract is above the Act's threshold (the UK extension): None for
    grants, an unknown value or a date the legal data does not cover."""
    route = opportunity.route or ""
    value = _pounds(opportunity.value_max_pence or opportunity.value_min_pence)
    started = opportunity.procurement_starts_on or (
        opportunity.published_at.astimezone(LONDON).date() if opportunity.published_at else None
    )
    if route in GRANT_ROUTES or not route or value is None or started is None:
        return None
    kind: ContractKind = "light_touch" if route in LIGHT_TOUCH_ROUTES else "goods_services"
    try:
        return is_above_threshold(value, kind, started)
    except LawError:
        return None


def _links(opportunity: Opportunity) -> tuple[Document, ...]:
    """Its notices and documents (only web addresses: anything else is not published)."""
    return tuple(
        Document(url=link, title="Notice or document")
        for link in opportunity.notice_links
        if link.startswith(("https://", "http://"))
    )


def tender_releases(
    opportunity: Opportunity,
    lots: list[OpportunityLot],
    amendments: list[OpportunityAmendment],
    authority: Authority,
    settings: Settings,
) -> list[TenderRelease]:
    """Every release of a published opportunity, oldest first."""
    o = opportunity
    published = o.published_at
    assert published is not None
    first_deadline = next(
        (a.old_deadline for a in amendments if a.old_deadline is not None),
        o.submission_deadline,
    )
    key = f"OPP-{o.id}"
    current = TenderRelease(
        ocid_prefix=settings.ocid_prefix,
        opportunity_id=key,
        release_id=f"{key}-tender",
        date=published,
        tag=ReleaseTag.TENDER,
        buyer=_org_ref(settings, authority),
        title=o.title,
        description=o.purpose,
        value_min=_pounds(o.value_min_pence),
        value_max=_pounds(o.value_max_pence),
        procurement_method=_method(o.route),
        procurement_method_details=_route_name(o.route),
        above_threshold=_above_threshold(o),
        cpv_codes=tuple(o.cpv_codes),
        lots=tuple(
            Lot(
                id=str(lot.number),
                title=lot.title,
                description=lot.description,
                value=_pounds(lot.value_max_pence or lot.value_min_pence),
            )
            for lot in lots
        ),
        tender_start=published,
        tender_end=first_deadline,
        clarification_deadline=o.clarification_deadline,
        documents=_links(o),
        areas=tuple(o.area_served),
    )
    releases = [current]
    for amendment in amendments:
        changes: dict[str, Any] = {}
        if amendment.new_deadline is not None:
            changes["tender_end"] = amendment.new_deadline
        current = amendment_release(
            current,
            Amendment(date=amendment.made_at, rationale=amendment.what_changed),
            **changes,
        )
        releases.append(current)
    if o.state == OpportunityState.WITHDRAWN and o.withdrawn_at is not None:
        releases.append(
            dataclasses.replace(
                current,
                tag=ReleaseTag.TENDER_CANCELLATION,
                release_id=f"{key}-cancellation",
                date=o.withdrawn_at,
                status=None,
            )
        )
    return releases


def ocds_path(opportunity_id: int) -> str:
    return f"/opportunities/{opportunity_id}/ocds.json"


def grants_path(slug: str, kind: str) -> str:
    return f"/grants/{slug}/360giving.{kind}"


def address(settings: Settings, door: Door, path: str) -> str:
    """A web address as a door links to it: the path on the web, in full from chat."""
    return path if door == Door.WEB else f"{settings.base_url}{path}"


def ocds_button(settings: Settings, door: Door, opportunity: Opportunity) -> Button:
    return Button(
        label="Open data (OCDS)",
        action=LINK_ACTION,
        url=address(settings, door, ocds_path(opportunity.id)),
    )


def grants_buttons(settings: Settings, door: Door, slug: str) -> list[Button]:
    return [
        Button(
            label=f"Grants open data ({kind.upper()})",
            action=LINK_ACTION,
            url=address(settings, door, grants_path(slug, kind)),
        )
        for kind in ("csv", "xlsx", "json")
    ]


async def opportunity_package(
    session: AsyncSession, settings: Settings, opportunity: Opportunity
) -> dict[str, Any]:
    """The OCDS release package of one published opportunity. Raises OpenDataRefused."""
    authority = await session.get(Authority, opportunity.authority_id)
    assert authority is not None
    amendments = list(
        (
            await session.scalars(
                select(OpportunityAmendment)
                .where(OpportunityAmendment.opportunity_id == opportunity.id)
                .order_by(OpportunityAmendment.made_at, OpportunityAmendment.id)
            )
        ).all()
    )
    releases = tender_releases(
        opportunity, await lots_of(session, opportunity.id), amendments, authority, settings
    )
    buyer = _org_ref(settings, authority)
    return release_package(
        releases,
        publisher=Publisher(name=authority.name, scheme=buyer.scheme, uid=buyer.identifier),
        uri=f"{settings.base_url}{ocds_path(opportunity.id)}",
        published_date=max(r.date for r in releases),
    )


NO_SUCH = PageRefusal(
    404, "Page not found", ["There is no published opportunity with that number."]
)


async def ocds_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/opportunities/{id}/ocds.json`, for anyone: drafts are never published."""
    opportunity_id = row_id(request.params["id"])
    async with services.db.session() as session:
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
        if (
            opportunity is None
            or opportunity.state == OpportunityState.DRAFT
            or opportunity.published_at is None
        ):
            return NO_SUCH
        try:
            package = await opportunity_package(session, services.settings, opportunity)
        except OpenDataRefused as refused:
            return PageRefusal(
                409, "This opportunity can't be published as open data yet", [refused.message]
            )
    return PageContent(
        title=f"{opportunity.title}: open data",
        data=package,
        download_name=f"opportunity-{opportunity.id}-ocds.json",
    )


# --- 360Giving ---------------------------------------------------------------------------------


def recipient_id(organisation: Organisation) -> str | None:
    """The organisation's org-id from the first register number it has, or None."""
    for register, column in _REGISTERS:
        number = getattr(organisation, column)
        if number:
            try:
                return org_id(register, number)
            except OpenDataRefused:
                continue
    return None


def as_grant(
    settings: Settings,
    authority: Authority,
    funder_id: str,
    award: GrantAward,
    opportunity: Opportunity,
    organisation: Organisation,
) -> Grant | None:
    """One award as a 360Giving grant, or None when the recipient has no org-id yet."""
    recipient = recipient_id(organisation)
    if recipient is None:
        return None
    modified: datetime | None = award.updated_at
    return Grant(
        identifier=f"{settings.grants_prefix}-{authority.slug}-{award.id}",
        title=opportunity.title,
        description=opportunity.purpose or opportunity.title,
        amount_awarded=Decimal(award.amount_pence) / 100,
        award_date=award.awarded_on,
        recipient=GrantOrg(
            name=organisation.name,
            identifier=recipient,
            charity_number=organisation.charity_number,
            company_number=organisation.company_number,
        ),
        funder=GrantOrg(name=authority.name, identifier=funder_id),
        beneficiary_areas=tuple(opportunity.area_served),
        url=f"{settings.base_url}{ocds_path(opportunity.id)}",
        date_modified=modified,
    )


CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def grants_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/grants/{council}/360giving.json|csv|xlsx`, for anyone: the council's awarded grants."""
    settings = services.settings
    slug, kind = request.params["slug"], request.params["kind"]
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == slug))
        if authority is None:
            return PageRefusal(404, "Page not found", ["There is no council with that name."])
        rows = await awarded_grants(session, authority.id)
    funder_id = settings.org_id_of(slug)
    if funder_id is None:
        return PageRefusal(
            409,
            "No grants file yet",
            [
                f"360Giving needs {authority.name}'s own organisation identifier, and it is "
                "not set yet.",
                "Whoever runs Convene sets it in CONVENE_OPEN_DATA_ORG_IDS "
                f"(for example {slug}=GB-LAE-ABC).",
            ],
        )
    grants = [
        made
        for award, opportunity, organisation in rows
        if (made := as_grant(settings, authority, funder_id, award, opportunity, organisation))
    ]
    try:
        if kind == "json":
            body = json.dumps(
                grants_json(
                    grants,
                    publisher=GrantsPublisher(name=authority.name, identifier=funder_id),
                    title=f"Grants awarded by {authority.name}",
                    issued=services.clock.now().astimezone(LONDON).date(),
                ),
                indent=2,
                ensure_ascii=False,
            ).encode("utf-8")
        elif kind == "csv":
            body = grants_csv(grants)
        else:
            body = grants_xlsx(grants)
    except OpenDataRefused as refused:
        return PageRefusal(404 if not grants else 409, "No grants file yet", [refused.message])
    return PageContent(
        title=f"Grants awarded by {authority.name}",
        data={},
        body=body,
        content_type=CONTENT_TYPES[kind],
        download_name=f"{slug}-grants-360giving.{kind}",
    )


PAGES = (
    WebPage("/opportunities/{id:\\d+}/ocds.json", "json", ocds_page, public=True),
    WebPage("/grants/{slug}/360giving.{kind:json|csv|xlsx}", "file", grants_page, public=True),
)
