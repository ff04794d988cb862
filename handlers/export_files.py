"""Making the export files: readiness answers and the provider directory, as CSV or XLSX.

This is the exports feature's service (which rows a file holds, after `can_export`) and
its file view (a `Table` written as CSV or XLSX). The rows come from `storage.exports`,
whose queries read answers through `responses_visible_to`, so a file can never hold more
than the person asking may see, whichever door asked for it. Files are built when they
are downloaded, from the database as it is then, and never stored: a stale copy of
providers' answers lying on a server is exactly what the domain rules warn against.

Spreadsheets are a known way to attack the person who opens them: a cell starting with
=, +, - or @ runs as a formula in Excel. Every text cell we write is checked and, if it
starts like that, gets a leading apostrophe so it is shown as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON
from bot.core.forms import Field, FieldType, FormDefinition, is_blank
from bot.core.forms.kinds import CellKind, kind_of
from bot.core.opendata.cells import neutralise
from bot.core.turn import Actor
from bot.services import Services
from storage.exports import (
    PROFILE_FORM,
    READINESS_FORM,
    all_organisations,
    latest_readiness,
    organisations_answering,
    organisations_count,
)
from storage.forms import definition_at, latest_definition
from storage.models import Authority, Organisation
from storage.visibility import Refusal, can_export

#: Said to anyone who may not export. Handlers add what the person *can* do instead.
NOT_FOR_YOU = (
    "Exports are for the council's commissioning team, because they hold every provider's "
    "own answers and details."
)
#: What the file says about itself, so a copy that travels still carries the rule.
WHO_MAY_SEE = (
    "Only {authority}'s commissioning team may see this file. Providers gave these answers "
    "to help plan services. They are not a score and must not be used to rank bids."
)
WHO_MAY_SEE_PROFILES = (
    "Only {authority}'s commissioning team may see this file. It has details providers "
    "share only with councils, like their income and registration numbers."
)


WHO_MAY_SEE_ENGAGEMENT = (
    "Only {authority}'s commissioning team may see this file. Providers gave these answers "
    "to help plan the work. Ideas marked commercially confidential must not be shared "
    "outside the team. The answers are not a score and must not be used to rank bids."
)
WHO_MAY_SEE_SUMMARY = (
    "Only {authority}'s commissioning team may see this file. It has counts only, never "
    "anyone's answers, and feedback from too few people to stay anonymous is left out."
)


def who_may_see(kind: ExportKind, authority: str) -> str:
    """The line every export carries (in the file and the message) about who may see it."""
    rule = {
        ExportKind.READINESS: WHO_MAY_SEE,
        ExportKind.DIRECTORY: WHO_MAY_SEE_PROFILES,
        ExportKind.ENGAGEMENT_ANSWERS: WHO_MAY_SEE_ENGAGEMENT,
        ExportKind.ENGAGEMENT_SUMMARY: WHO_MAY_SEE_SUMMARY,
    }[kind]
    return rule.format(authority=authority)


MONEY_FORMAT = '"£"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
LIST_SEPARATOR = "; "
MIN_WIDTH, MAX_WIDTH = 10, 60


class ExportKind(StrEnum):
    READINESS = "readiness"
    DIRECTORY = "directory"
    #: One engagement's answers, one row per organisation (the ticket names the engagement).
    ENGAGEMENT_ANSWERS = "engagement_answers"
    #: One engagement's summary: counts only, with the summary's own suppression.
    ENGAGEMENT_SUMMARY = "engagement_summary"


#: Kinds made for one engagement: their ticket carries its number.
ENGAGEMENT_KINDS = frozenset({ExportKind.ENGAGEMENT_ANSWERS, ExportKind.ENGAGEMENT_SUMMARY})


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


Cell = str | int | float | Decimal | date | None


@dataclass(frozen=True)
class Column:
    label: str
    kind: CellKind = CellKind.TEXT


@dataclass(frozen=True)
class Table:
    """What goes in a file, before it is a file: the same table becomes CSV or XLSX."""

    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    about: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes
    rows: int


# --- cell values -----------------------------------------------------------------------------


def _kind_of(field_: Field) -> CellKind:
    return kind_of(field_.type).cell


def cell_value(field_: Field, value: Any) -> Cell:
    """A stored answer as a spreadsheet value: pounds for money (stored as pence), labels for
    choices (several joined with "; "), numbers as numbers. Never raises: an answer given
    under an older form version is written as it was rather than breaking the file."""
    if is_blank(value):
        return None
    try:
        cell = kind_of(field_.type).export_value(field_, value)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    if isinstance(cell, tuple):
        return LIST_SEPARATOR.join(cell)
    result: Cell = cell
    return result


def london_iso(moment: datetime | None, tz: ZoneInfo = LONDON) -> str | None:
    """A time as ISO 8601 in UK time (with its offset), e.g. 2026-03-06T17:00:00+00:00."""
    return None if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


# --- the tables ------------------------------------------------------------------------------


def _profile_columns(profile: FormDefinition) -> list[Field]:
    """Every profile question that is kept on the organisation row (so new profile fields,
    such as contacts, appear in exports without a change here)."""
    return [
        f
        for f in profile.all_fields()
        if f.id in ("service_areas", "areas_served") or hasattr(Organisation, f.id)
    ]


def _profile_cells(org: Organisation, fields: Sequence[Field]) -> list[Cell]:
    cells: list[Cell] = []
    for f in fields:
        if f.id == "service_areas":
            cells.append(cell_value(f, [a.value for a in org.service_areas]))
        elif f.id == "areas_served":
            cells.append(LIST_SEPARATOR.join(a.value for a in org.areas_served) or None)
        else:
            cells.append(cell_value(f, getattr(org, f.id)))
    return cells


async def _profile_definition(session: AsyncSession) -> FormDefinition:
    profile = await latest_definition(session, PROFILE_FORM)
    if profile is None:
        raise LookupError("the organisation profile form is not stored yet")
    return profile


async def count_rows(
    session: AsyncSession, actor: Actor, kind: ExportKind, authority_id: int
) -> int:
    """How many organisations a file would have (to tell the person before they download)."""
    if not can_export(actor, authority_id):
        return 0
    if kind == ExportKind.DIRECTORY:
        return await organisations_count(session)
    return await organisations_answering(session, actor, authority_id)


def _as_asked(asked: Field, newest: Field, value: Any) -> tuple[Field, Any]:
    """Places given to an older version, when the question was free text, were turned
    into codes by migration 0012: show them as the newest version does, by name."""
    if newest.type == FieldType.AREA and asked.type != FieldType.AREA and isinstance(value, list):
        return newest, value
    return asked, value


async def readiness_table(
    session: AsyncSession, actor: Actor, authority: Authority, tz: ZoneInfo = LONDON
) -> Table:
    """Profiles and readiness answers: organisation, profile, form version, when sent, then
    one column per question (the newest form's questions, then any only older versions asked)."""
    profile_fields = _profile_columns(await _profile_definition(session))
    found = await latest_readiness(session, actor, authority.id)
    latest = await latest_definition(session, READINESS_FORM)
    versions: dict[int, FormDefinition] = {}
    for response, _ in found:
        if response.form_version not in versions:
            loaded = await definition_at(session, READINESS_FORM, response.form_version)
            if loaded is not None:
                versions[response.form_version] = loaded
    newest = latest.version if latest is not None else None
    questions: dict[str, tuple[Field, str]] = {}
    for definition in [d for d in (latest,) if d is not None] + [
        versions[v] for v in sorted(versions, reverse=True)
    ]:
        for f in definition.all_fields():
            if f.id not in questions:
                old = definition.version != newest
                questions[f.id] = (
                    f,
                    f"{f.label} (version {definition.version})" if old else f.label,
                )
    columns = [
        *(Column(f.label, _kind_of(f)) for f in profile_fields),
        Column("Form version", CellKind.NUMBER),
        Column("Answers sent (UK time)"),
        *(Column(label, _kind_of(f)) for f, label in questions.values()),
    ]
    rows: list[list[Cell]] = []
    for response, org in found:
        own = versions.get(response.form_version)
        row: list[Cell] = _profile_cells(org, profile_fields)
        row += [response.form_version, london_iso(response.submitted_at, tz)]
        for field_id, (newest_field, _) in questions.items():
            try:
                asked = own.field(field_id) if own is not None else newest_field
            except KeyError:  # this version did not ask it
                row.append(None)
                continue
            row.append(cell_value(*_as_asked(asked, newest_field, response.answers.get(field_id))))
        rows.append(row)
    return Table(title="Readiness answers", columns=columns, rows=rows)


async def directory_table(session: AsyncSession) -> Table:
    """Every organisation's profile, as the directory shows it, plus registration numbers."""
    profile_fields = _profile_columns(await _profile_definition(session))
    organisations = await all_organisations(session)
    return Table(
        title="Provider directory",
        columns=[Column(f.label, _kind_of(f)) for f in profile_fields],
        rows=[_profile_cells(org, profile_fields) for org in organisations],
    )


# --- files -----------------------------------------------------------------------------------


def _csv_text(column: Column, value: Cell) -> str:
    if value is None:
        return ""
    if column.kind == CellKind.MONEY and isinstance(value, Decimal):
        return f"{value:.2f}"
    if column.kind == CellKind.PERCENT and isinstance(value, Decimal):
        return f"{_plain(value)}%"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark, so Excel reads £ and accents correctly on a double click."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(c, v) for c, v in zip(table.columns, row, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_value(column: Column, value: Cell) -> tuple[Any, str | None]:
    """(value, number format) for one XLSX cell."""
    if value is None:
        return None, None
    if column.kind == CellKind.MONEY and isinstance(value, Decimal):
        return float(value), MONEY_FORMAT
    if column.kind == CellKind.PERCENT and isinstance(value, Decimal):
        fraction = value / 100
        return float(fraction), "0%" if value == value.to_integral_value() else "0.00%"
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, str):
        return neutralise(value), None
    if isinstance(value, Decimal):
        return float(value), None
    return value, None


def _width(texts: Iterable[str]) -> float:
    longest = max((len(t) for t in texts), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))


def to_xlsx(table: Table) -> bytes:
    """A workbook people can open and filter at once: bold, frozen header row (and the
    organisation name column), sensible widths, money in pounds, and a sheet saying what
    the file is and who may see it."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = table.title[:31]
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=neutralise(column.label))
        cell.font = bold
        cell.alignment = wrap
    for row_number, row in enumerate(table.rows, start=2):
        for index, (column, raw) in enumerate(zip(table.columns, row, strict=True), start=1):
            value, number_format = _xlsx_value(column, raw)
            cell = sheet.cell(row=row_number, column=index, value=value)
            if number_format:
                cell.number_format = number_format
    for index, column in enumerate(table.columns, start=1):
        shown = [_csv_text(column, row[index - 1]) for row in table.rows]
        # Long questions wrap in the header; the width follows the answers, within limits.
        header = column.label if len(column.label) <= 30 else column.label[:30]
        sheet.column_dimensions[get_column_letter(index)].width = _width([header, *shown])
    sheet.freeze_panes = "B2"
    if table.columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    if table.about:
        about = workbook.create_sheet("About this file")
        for label, text in table.about:
            about.append([neutralise(label), neutralise(text)])
            about.cell(row=about.max_row, column=1).font = bold
        about.column_dimensions["A"].width = 22
        about.column_dimensions["B"].width = 90
    workbook.properties.creator = "Convene"
    workbook.properties.title = table.title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- one call for doors ----------------------------------------------------------------------


async def build_export(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: ExportKind,
    fmt: ExportFormat,
    authority_id: int,
    now: datetime,
    tz: ZoneInfo = LONDON,
    engagement_id: int | None = None,
    services: Services | None = None,
) -> ExportFile | Refusal:
    """The file, made now from the database, or why this person may not have it.

    An engagement's files name the engagement (``engagement_id``) and are made with the
    app's ``services`` (its summary leaves out feedback from too few people, as the summary
    page does).
    """
    if not can_export(actor, authority_id):
        return Refusal(NOT_FOR_YOU)
    authority = await session.get(Authority, authority_id)
    if authority is None:
        return Refusal("That council is no longer on Convene, so there is nothing to export.")
    if kind in ENGAGEMENT_KINDS:
        if services is None:
            raise ValueError("an engagement's file needs the app's services")
        # Imported here: the engagements feature offers its files through this module.
        from handlers.engagements.answers import engagement_table

        made = await engagement_table(session, actor, kind, engagement_id, authority_id, services)
        if isinstance(made, Refusal):
            return made
        table, what = made
    elif kind == ExportKind.READINESS:
        table = await readiness_table(session, actor, authority, tz)
        what = f"Readiness answers given to {authority.name}"
    else:
        table = await directory_table(session)
        what = "Provider directory: every organisation's profile"
    about = [
        ("What this is", what),
        ("Who may see it", who_may_see(kind, authority.name)),
        ("Made for", actor.name),
        ("Made at (UK time)", london_iso(now, tz) or ""),
        ("Organisations", str(len(table.rows))),
        ("Money", "In pounds. Blank means the question was not answered."),
    ]
    if kind == ExportKind.ENGAGEMENT_SUMMARY:
        about = about[:4]
    table = Table(title=table.title, columns=table.columns, rows=table.rows, about=about)
    data = to_csv(table) if fmt == ExportFormat.CSV else to_xlsx(table)
    day = now.astimezone(tz).date().isoformat()
    return ExportFile(
        filename=f"convene-{kind.value.replace('_', '-')}-{authority.slug}"
        + (f"-{engagement_id}" if engagement_id is not None else "")
        + f"-{day}.{fmt.value}",
        content_type=CONTENT_TYPES[fmt],
        data=data,
        rows=len(table.rows),
    )
