"""Awarded grants in the 360Giving Data Standard: a JSON package, and CSV or XLSX rows.

UK grant-makers publish their grants in 360Giving so anyone can see who funds what, where
(GrantNav reads it). A council's grant route publishes here once the grant is awarded.
The JSON follows the 360Giving package schema shipped beside this module (``schema/``,
CC BY 4.0, 360Giving); the spreadsheet uses the standard's column titles, the ones its
own templates use ("Recipient Org:Identifier"), so 360Giving's tools read it as is.
The first beneficiary place is in the rolled-up columns ("Beneficiary Location:Name");
each further place gets numbered ones ("Beneficiary Location:1:Name").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.core.areas import area
from bot.core.opendata import checks
from bot.core.opendata.cells import neutralise
from bot.core.opendata.identifiers import looks_like_org_id
from bot.core.opendata.model import Grant, GrantOrg, OpenDataRefused
from bot.core.opendata.ocds import OPEN_GOVERNMENT_LICENCE

__all__ = [
    "GRANTS_VERSION",
    "GRANT_COLUMNS",
    "GrantsPublisher",
    "geo_code_type",
    "grants_csv",
    "grants_json",
    "grants_rows",
    "grants_schema",
    "grants_xlsx",
]

GRANTS_VERSION = "1.4"
Cell = str | Decimal | date | int | None

#: The columns every file has, in the standard's titles.
GRANT_COLUMNS: tuple[str, ...] = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Planned Dates:Duration (months)",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Recipient Org:Charity Number",
    "Recipient Org:Company Number",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Title",
    "URL",
    "Last Modified",
)
_LOCATION_FIELDS = ("Name", "Country Code", "Geographic Code", "Geographic Code Type")

#: ONS entity (the first 3 characters of a GSS code) -> 360Giving ``geoCodeType``.
#: Nations (E92, W92...) and Northern Ireland's councils (N09) have no code in its list.
_GEO_CODE_TYPES = {
    "E05": "WD",
    "E06": "UA",
    "E07": "NMD",
    "E08": "MD",
    "E09": "LONB",
    "E10": "CTY",
    "E12": "RGN",
    "W05": "WD",
    "W06": "UA",
    "S12": "CA",
    "S13": "WD",
}


def geo_code_type(code: str) -> str | None:
    """The 360Giving geographic code type of an ONS code, or None where its list has none."""
    return _GEO_CODE_TYPES.get(code[:3])


@cache
def grants_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(package schema, grant schema), as shipped in this package for validators."""
    folder = resources.files("bot.core.opendata") / "schema"
    package = json.loads((folder / "360-giving-package-schema.json").read_text("utf-8"))
    grant = json.loads((folder / "360-giving-schema.json").read_text("utf-8"))
    return package, grant


@dataclass(frozen=True)
class GrantsPublisher:
    """Who publishes the grants: a name, and the org-id and website if known."""

    name: str
    identifier: str | None = None
    website: str | None = None


# --- checks ----------------------------------------------------------------------------------


def _org(org: GrantOrg, who: str) -> dict[str, Any]:
    name = checks.words(org.name, f"{who}'s name")
    identifier = checks.words(org.identifier, f"{who}'s identifier").strip()
    if not looks_like_org_id(identifier):
        raise OpenDataRefused(
            f"The {who}'s identifier, '{identifier}', is not an organisation identifier. "
            "They look like GB-CHC-1123456: a register's prefix, then its number."
        )
    entry: dict[str, Any] = {"id": identifier, "name": name}
    if org.charity_number:
        entry["charityNumber"] = org.charity_number.strip()
    if org.company_number:
        entry["companyNumber"] = org.company_number.strip()
    return entry


def _location(code: str) -> dict[str, Any]:
    found = area(code)
    entry: dict[str, Any] = {
        "geoCode": code,
        "name": found.label if found else code,
        "countryCode": "GB",
    }
    if kind := geo_code_type(code):
        entry["geoCodeType"] = kind
    return entry


def _day(value: date) -> str:
    """'1 January 2027', as a message shows a day."""
    return f"{value.day} {value:%B %Y}"


def _grant(grant: Grant) -> dict[str, Any]:
    """One grant as 360Giving JSON, after every check."""
    identifier = checks.words(grant.identifier, "grant's identifier")
    amount = checks.money(grant.amount_awarded, "amount awarded")
    if amount is None:
        raise OpenDataRefused(f"Grant {identifier} has no amount awarded.")
    if not isinstance(grant.award_date, date):
        raise OpenDataRefused(
            f"Grant {identifier} has no award date. It is published once awarded."
        )
    entry: dict[str, Any] = {
        "id": identifier,
        "title": checks.words(grant.title, "grant's title"),
        "description": checks.words(grant.description, "grant's description"),
        "currency": checks.currency(grant.currency),
        "amountAwarded": checks.number(amount),
        "awardDate": checks.day(grant.award_date, "award date"),
        "recipientOrganization": [_org(grant.recipient, "recipient")],
        "fundingOrganization": [_org(grant.funder, "funder")],
    }
    if grant.planned_start and grant.planned_end and grant.planned_end < grant.planned_start:
        raise OpenDataRefused(
            f"Grant {identifier} is planned to end ({_day(grant.planned_end)}) before it "
            f"starts ({_day(grant.planned_start)}). Check the dates and try again."
        )
    if grant.planned_months is not None and grant.planned_months < 0:
        raise OpenDataRefused(f"Grant {identifier} can't last less than 0 months.")
    planned = {
        key: value
        for key, value in (
            ("startDate", checks.day(grant.planned_start, "planned start")),
            ("endDate", checks.day(grant.planned_end, "planned end")),
            ("duration", grant.planned_months),
        )
        if value is not None
    }
    if planned:
        # 360Giving: every event should have a start date.
        if "startDate" not in planned:
            raise OpenDataRefused(f"Grant {identifier} has planned dates but no start date.")
        entry["plannedDates"] = [planned]
    if grant.beneficiary_areas:
        codes = list(dict.fromkeys(checks.area_code(c) for c in grant.beneficiary_areas))
        entry["beneficiaryLocation"] = [_location(code) for code in codes]
    if programme := checks.optional_words(grant.programme):
        entry["grantProgramme"] = [{"title": programme}]
    if grant.url:
        if not grant.url.startswith(("https://", "http://")):
            raise OpenDataRefused(f"The address of grant {identifier} should start with https://.")
        entry["url"] = grant.url
    if grant.date_modified is not None:
        entry["dateModified"] = checks.when(grant.date_modified, "last modified time")
    return entry


def _checked(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    built = [_grant(grant) for grant in grants]
    seen: set[str] = set()
    for entry in built:
        if entry["id"] in seen:
            raise OpenDataRefused(
                f"Two grants have the identifier {entry['id']}. Each grant needs its own."
            )
        seen.add(entry["id"])
    return built


# --- JSON ------------------------------------------------------------------------------------


def grants_json(
    grants: Iterable[Grant],
    *,
    publisher: GrantsPublisher | None = None,
    title: str | None = None,
    issued: date | None = None,
    license: str | None = OPEN_GOVERNMENT_LICENCE,
) -> dict[str, Any]:
    """A 360Giving data package of ``grants``, ready for ``json.dumps``.

    Raises OpenDataRefused, saying what to fix, for data the standard would not accept
    (no grants, a negative amount, an identifier that is not an org-id...).
    """
    built = _checked(grants)
    if not built:
        raise OpenDataRefused("There is nothing to publish yet: no grant has been awarded.")
    package: dict[str, Any] = {"grants": built, "version": GRANTS_VERSION}
    if title := checks.optional_words(title):
        package["title"] = title
    if issued is not None:
        package["issued"] = checks.day(issued, "issue date")
    if publisher is not None:
        about: dict[str, Any] = {"name": checks.words(publisher.name, "publisher's name")}
        if publisher.identifier:
            about["identifier"] = publisher.identifier
        if publisher.website:
            about["website"] = publisher.website
        package["publisher"] = about
    if license:
        package["license"] = license
    return package


# --- rows, CSV and XLSX ----------------------------------------------------------------------


def _location_columns(count: int) -> list[str]:
    columns = [f"Beneficiary Location:{name}" for name in _LOCATION_FIELDS]
    for index in range(1, count):
        columns += [f"Beneficiary Location:{index}:{name}" for name in _LOCATION_FIELDS]
    return columns


def grants_rows(grants: Iterable[Grant]) -> list[list[Cell]]:
    """The grants as a table: the column titles first, then one row a grant.

    Money is a ``Decimal`` in pounds and dates are ``date``s, so a writer can give each its
    own cell type; text is as given (the CSV and XLSX writers make it safe to open).
    """
    built = _checked(grants)
    places = max((len(g.get("beneficiaryLocation", ())) for g in built), default=0)
    header: list[Cell] = [*GRANT_COLUMNS, *_location_columns(places)]
    rows: list[list[Cell]] = [header]
    for entry in built:
        recipient = entry["recipientOrganization"][0]
        funder = entry["fundingOrganization"][0]
        planned = entry.get("plannedDates", [{}])[0]
        programme = entry.get("grantProgramme", [{}])[0]
        row: list[Cell] = [
            entry["id"],
            entry["title"],
            entry["description"],
            entry["currency"],
            Decimal(str(entry["amountAwarded"])).quantize(Decimal("0.01")),
            date.fromisoformat(entry["awardDate"]),
            date.fromisoformat(planned["startDate"]) if "startDate" in planned else None,
            date.fromisoformat(planned["endDate"]) if "endDate" in planned else None,
            planned.get("duration"),
            recipient["id"],
            recipient["name"],
            recipient.get("charityNumber"),
            recipient.get("companyNumber"),
            funder["id"],
            funder["name"],
            programme.get("title"),
            entry.get("url"),
            entry.get("dateModified"),
        ]
        locations = entry.get("beneficiaryLocation", [])
        for index in range(places):
            place = locations[index] if index < len(locations) else {}
            row += [
                place.get("name"),
                place.get("countryCode"),
                place.get("geoCode"),
                place.get("geoCodeType"),
            ]
        rows.append(row)
    return rows


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def grants_csv(grants: Iterable[Grant]) -> bytes:
    """The grants as CSV: UTF-8 with a byte order mark, so Excel reads £ and accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in grants_rows(grants):
        writer.writerow([_text(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_row(row: Sequence[Cell]) -> list[Any]:
    values: list[Any] = []
    for value in row:
        if isinstance(value, str):
            values.append(neutralise(value))
        elif isinstance(value, Decimal):
            values.append(float(value))
        else:
            values.append(value)
    return values


def grants_xlsx(grants: Iterable[Grant]) -> bytes:
    """The grants as an XLSX workbook, one sheet called ``grants`` as 360Giving's template has."""
    rows = grants_rows(grants)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "grants"
    for row in rows:
        sheet.append(_xlsx_row(row))
    header = rows[0]
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    money = header.index("Amount Awarded") + 1
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if cell.column == money:
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, date | datetime):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "B2"
    workbook.properties.creator = "Convene"
    workbook.properties.title = "360Giving grants"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
