"""The agreements register, the check-in history and the variations as files (CSV or
Excel), made with the exports' machinery (`handlers/export_files.py`: one `Table`, written
as CSV or XLSX, every text cell made safe for spreadsheets).

The register is for the council's commissioning team only. Its columns hold what a
contract details notice (UK7, Procurement Act 2023 s.53) asks for that Convene records
(with the suppliers' identifiers), and how each agreement ended: see the README ("The
agreements register").

The check-in history and the variations are for the team (`/agreements/{council}/...`,
its council's rows) and for providers (`/agreements/files/yours/...`): a provider's file
holds only the agreements its own organisations are party to, and of the check-ins only
those its organisation was asked (so a consortium member never gets the lead's answers,
and no provider ever gets another provider's rows, even on the same council). Every
download, and every refusal, is on the record.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms.kinds import CellKind
from bot.core.law import LawError, contract_details_notice_days
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Button, Message, command_ref
from bot.core.turn import Actor
from bot.services import Services
from handlers.agreements.common import COMMAND, kpi_shortfall, today
from handlers.agreements.details import load_details
from handlers.agreements.monitoring import QUESTIONS
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
from storage.agreements import (
    agreements_of_councils,
    agreements_of_organisations,
    kpis_of,
    parties_of,
)
from storage.assessment_tables import AgreementEnding
from storage.models import Authority, Organisation
from storage.monitoring_tables import CheckinRow
from storage.variation_tables import AgreementVariation, Side, VariationState

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
    Column("Supplier identifiers"),
    Column("Ended on", CellKind.DATE),
    Column("Why it ended"),
    Column("Contract termination notice (s.80)"),
)


def supplier_identifiers(organisation: Organisation) -> str:
    """The numbers a notice identifies a supplier by (PPON first), those recorded."""
    numbers = [
        ("PPON", organisation.ppon),
        ("Company", organisation.company_number),
        ("Charity (England and Wales)", organisation.charity_number),
        ("Charity (Scotland)", organisation.oscr_number),
        ("Charity (Northern Ireland)", organisation.ccni_number),
        ("Mutual", organisation.mutuals_number),
    ]
    found = ", ".join(f"{label} {value}" for label, value in numbers if value)
    return f"{organisation.name}: {found or 'none recorded'}"


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
        ending = await session.scalar(
            select(AgreementEnding).where(AgreementEnding.agreement_id == a.id)
        )
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
                "; ".join(supplier_identifiers(o) for _, o in parties),
                None if ending is None else ending.ended_on,
                None if ending is None else ENDED_WORDS.get(ending.reason, ending.reason),
                _termination_notice(ending),
            ]
        )
    return rows


ENDED_WORDS = {
    "expired": "Reached its end date",
    "terminated_early": "Ended early",
    "completed": "Work finished",
}


def _termination_notice(ending: AgreementEnding | None) -> str | None:
    if ending is None:
        return None
    if not ending.notice_required:
        return "Not needed"
    return ending.notice_id or "Needed, not recorded yet"


NOT_YOURS = PageRefusal(
    403,
    "This file is not yours to download",
    [
        "Only the council's own commissioning team can download its agreements register.",
        f"Providers can see their own agreements: {command_ref('agreements', 'your agreements')}.",
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


# --- check-in history and variations -------------------------------------------------------

CHECKIN_COLUMNS = (
    Column("Convene reference"),
    Column("Agreement"),
    Column("Organisation asked"),
    Column("Due", CellKind.DATE),
    Column("Sent (UK time)"),
    Column("Answered (UK time)"),
    Column("Minutes spent", CellKind.NUMBER),
    Column("RAG rating"),
    *(Column(words) for words in QUESTIONS.values()),
    Column("Notes"),
)

VARIATION_COLUMNS = (
    Column("Convene reference"),
    Column("Agreement"),
    Column("Asked for by"),
    Column("Asked (UK time)"),
    Column("What changes"),
    Column("Why"),
    Column("Value change (GBP)", CellKind.MONEY),
    Column("Term change (days)", CellKind.NUMBER),
    Column("New end date", CellKind.DATE),
    Column("Where it is"),
    Column("The other side's answer"),
    Column("Decided (UK time)"),
    Column("Decision reason"),
    Column("Contract change notice needed"),
    Column("Contract change notice"),
)

STATE_WORDS = {
    VariationState.REQUESTED: "Asked for",
    VariationState.AGREED: "Both sides agree",
    VariationState.DISAGREED: "The other side disagreed",
    VariationState.APPROVED: "Approved",
    VariationState.REJECTED: "Rejected",
}


async def checkin_rows(
    session: AsyncSession, agreements: list[Agreement], organisation_ids: set[int] | None
) -> list[list[Cell]]:
    """Each check-in of these agreements; only those asked of `organisation_ids` when given
    (a provider's own), every one for the team (None)."""
    by_id = {a.id: a for a in agreements}
    if not by_id:
        return []
    query = select(CheckinRow, Organisation).join(
        Organisation, Organisation.id == CheckinRow.organisation_id
    )
    query = query.where(CheckinRow.agreement_id.in_(by_id))
    if organisation_ids is not None:
        query = query.where(CheckinRow.organisation_id.in_(organisation_ids or {0}))
    rows: list[list[Cell]] = []
    for checkin, organisation in (
        await session.execute(query.order_by(CheckinRow.agreement_id, CheckinRow.due_on))
    ).all():
        answers = checkin.answers or {}
        rows.append(
            [
                f"convene-checkin-{checkin.id}",
                by_id[checkin.agreement_id].title,
                organisation.name,
                checkin.due_on,
                london_iso(checkin.sent_at),
                london_iso(checkin.answered_at),
                checkin.minutes_spent,
                checkin.rag,
                *(answers.get(key) for key in QUESTIONS),
                answers.get("notes"),
            ]
        )
    return rows


async def variation_rows(session: AsyncSession, agreements: list[Agreement]) -> list[list[Cell]]:
    """Each variation of these agreements, as asked, answered and decided."""
    by_id = {a.id: a for a in agreements}
    if not by_id:
        return []
    found = (
        await session.scalars(
            select(AgreementVariation)
            .where(AgreementVariation.agreement_id.in_(by_id))
            .order_by(AgreementVariation.agreement_id, AgreementVariation.id)
        )
    ).all()
    rows: list[list[Cell]] = []
    for v in found:
        answer = None
        if v.responded_at is not None:
            answer = "Agreed" if v.other_side_agreed else "Disagreed"
            if v.response_reason:
                answer += f": {v.response_reason}"
        rows.append(
            [
                f"convene-variation-{v.id}",
                by_id[v.agreement_id].title,
                "The council" if v.side == Side.COUNCIL else "The provider",
                london_iso(v.created_at),
                v.what_changes,
                v.why,
                Decimal(v.value_change_pence) / 100,
                v.term_change_days,
                v.new_ends_on,
                STATE_WORDS.get(VariationState(v.state), v.state),
                answer,
                london_iso(v.decided_at),
                v.decision_reason,
                _yes(v.change_notice_required),
                v.change_notice_id,
            ]
        )
    return rows


FILES = {
    "checkins": ("Check-in history", CHECKIN_COLUMNS),
    "variations": ("Variations", VARIATION_COLUMNS),
}

NOT_YOUR_FILE = PageRefusal(
    403,
    "This file is not yours to download",
    [
        "Only the council's own commissioning team can download its agreements' files.",
        f"Providers can download their own: "
        f"{command_ref('agreements', 'your agreements')} and use the links there.",
    ],
)


async def _rows(
    session: AsyncSession, what: str, agreements: list[Agreement], organisations: set[int] | None
) -> list[list[Cell]]:
    if what == "checkins":
        return await checkin_rows(session, agreements, organisations)
    return await variation_rows(session, agreements)


def _file(title: str, table: Table, kind: str, name: str) -> PageContent:
    fmt = ExportFormat(kind)
    return PageContent(
        title=title,
        data={},
        body=to_csv(table) if fmt == ExportFormat.CSV else to_xlsx(table),
        content_type=CONTENT_TYPES[fmt],
        download_name=f"{name}.{fmt.value}",
    )


async def team_file_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/agreements/{slug}/checkins.csv` (or `variations`, `.xlsx`): the council's own."""
    actor = request.actor
    assert actor is not None
    slug, what, kind = request.params["slug"], request.params["what"], request.params["kind"]
    title, columns = FILES[what]
    now = services.clock.now()
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == slug))
        if authority is None or authority.id not in actor.commissioner_for():
            await _refused(session, actor, what, authority.id if authority else None, now)
            return NOT_YOUR_FILE
        agreements = await agreements_of_councils(session, {authority.id})
        table = Table(
            title=title,
            columns=list(columns),
            rows=await _rows(session, what, agreements, None),
            about=[
                ("What this is", f"{title} of {authority.name}'s agreements"),
                ("Who may see it", f"Only {authority.name}'s commissioning team."),
                ("Made for", actor.name),
                ("Made at (UK time)", london_iso(now) or ""),
            ],
        )
        await _downloaded(session, actor, what, kind, len(table.rows), now, authority.id)
    return _file(title, table, kind, f"{slug}-{what}-{today(services).isoformat()}")


async def provider_file_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/agreements/files/yours/checkins.csv` (or `variations`, `.xlsx`): only the rows of
    agreements the person's organisations are party to (check-ins: only those asked of them)."""
    actor = request.actor
    assert actor is not None
    what, kind = request.params["what"], request.params["kind"]
    title, columns = FILES[what]
    now = services.clock.now()
    mine = set(actor.member_of())
    async with services.db.session() as session:
        if not mine:
            await _refused(session, actor, what, None, now)
            return NOT_YOUR_FILE
        agreements = await agreements_of_organisations(session, mine)
        table = Table(
            title=title,
            columns=list(columns),
            rows=await _rows(session, what, agreements, mine),
            about=[
                ("What this is", f"{title} of the agreements your organisation is party to"),
                (
                    "Who may see it",
                    "Your organisation and the council's commissioning team. No other provider.",
                ),
                ("Made for", actor.name),
                ("Made at (UK time)", london_iso(now) or ""),
            ],
        )
        await _downloaded(session, actor, what, kind, len(table.rows), now, None)
    return _file(title, table, kind, f"your-{what}-{today(services).isoformat()}")


async def _refused(
    session: AsyncSession, actor: Actor, what: str, authority_id: int | None, now: datetime
) -> None:
    await audit.record(
        session,
        "agreement.refused",
        actor_id=actor.person_id,
        door="web",
        object_type=f"agreements_{what}",
        object_id=authority_id,
        at=now,
        attempted=f"{what} file",
        reason="not the team" if authority_id is not None else "not theirs",
    )


async def _downloaded(
    session: AsyncSession,
    actor: Actor,
    what: str,
    kind: str,
    rows: int,
    now: datetime,
    authority_id: int | None,
) -> None:
    await audit.record(
        session,
        f"agreement.{what}_downloaded",
        actor_id=actor.person_id,
        door="web",
        object_type=f"agreements_{what}",
        object_id=authority_id,
        authority_id=authority_id,
        at=now,
        format=kind,
        rows=rows,
    )


def files_message(links: str, authority: Authority | None) -> Message:
    """The links to the check-in history and variations files, under the `agreements` list:
    the council's for its team (`authority`), or a provider's own (None)."""
    base = (
        f"{links}/agreements/{authority.slug}" if authority else f"{links}/agreements/files/yours"
    )
    whose = f"{authority.name}'s agreements" if authority else "the agreements you are party to"
    return Message(
        title="Files to download",
        text=f"The check-in history and the variations of {whose}, as CSV or Excel. To end an "
        f"agreement or assess its performance, open it from the list: "
        f"{command_ref(COMMAND, 'your agreements')}."
        if authority
        else f"The check-in history and the variations of {whose}, as CSV or Excel.",
        buttons=[
            Button(label="Check-ins (CSV)", action="agreements.link", url=f"{base}/checkins.csv"),
            Button(
                label="Check-ins (Excel)", action="agreements.link", url=f"{base}/checkins.xlsx"
            ),
            Button(
                label="Variations (CSV)", action="agreements.link", url=f"{base}/variations.csv"
            ),
            Button(
                label="Variations (Excel)", action="agreements.link", url=f"{base}/variations.xlsx"
            ),
        ],
        who_sees="Only your council's commissioning team gets its council's files."
        if authority
        else "Your files hold only your organisation's own rows. No other provider sees them.",
    )


PAGES = (
    WebPage("/agreements/{slug}/register.{kind:csv|xlsx}", "file", register_page),
    WebPage(
        "/agreements/files/yours/{what:checkins|variations}.{kind:csv|xlsx}",
        "file",
        provider_file_page,
    ),
    WebPage(
        "/agreements/{slug}/{what:checkins|variations}.{kind:csv|xlsx}", "file", team_file_page
    ),
)
