"""`engagements answers N`: what each organisation told the commissioning team.

For the team of the council running the engagement only. Ideas a provider marked
commercially confidential are flagged on every one, so nobody passes them on by mistake.
Organisations are listed by name, never in any order that could read as a ranking.

`engagements export N [answers|summary] [xlsx|csv]` offers the answers, or the summary,
as a spreadsheet through the exports feature's machinery (a short-lived ticket for the
person who asked, the file made when it is fetched, every step on the record). The rules
are checked again when the file is made: only the team, and the summary's suppression.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_when
from bot.core.forms import FormDefinition, format_answer
from bot.core.forms.kinds import CellKind, kind_of
from bot.core.reply import Button, Fact, Message, Reply, Section
from bot.core.turn import Actor, Turn, parse_command
from bot.services import Services
from handlers.engagements.closing import build_summary
from handlers.engagements.common import runs_it, team_engagement
from handlers.export_files import (
    Cell,
    Column,
    ExportFormat,
    ExportKind,
    Table,
    cell_value,
    london_iso,
)
from handlers.exports import file_offer, ready_export
from handlers.organisations import profile_button
from storage.engagement_tables import Engagement
from storage.forms import definition_at
from storage.models import Authority, FormResponse, Organisation, ResponseState
from storage.visibility import Refusal

CONFIDENTIAL = "Commercially confidential: do not share outside your team."


async def show_answers(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    assert turn.actor is not None
    async with services.db.session() as session:
        engagement = await team_engagement(
            session,
            turn,
            engagement_id,
            "answers",
            "Only the commissioning team of the council running it can read the answers.",
        )
        if not isinstance(engagement, Engagement):
            return engagement
        latest = await latest_answers_of(session, engagement)
        definition = await questions_of(session, engagement)
    sections: list[Section] = []
    for name, slug, response in latest:
        confidential = response.answers.get("ideas_confidential") is True
        facts = [
            Fact(label=field.label, value=format_answer(field, response.answers.get(field.id)))
            for field in (definition.all_fields() if definition else [])
            if field.id != "ideas_confidential"
        ]
        sent = (
            format_when(response.submitted_at, turn.actor.timezone) if response.submitted_at else ""
        )
        sections.append(
            Section(
                heading=name,
                text=f"Sent {sent}." + (f"\n{CONFIDENTIAL}" if confidential else ""),
                facts=facts,
                buttons=[profile_button(name, slug)],
            )
        )
    return [
        Message(
            title=f"Answers: {engagement.title}",
            text=None if latest else "No organisation has sent answers yet.",
            sections=sections[:40],
            buttons=download_buttons(engagement, "answers") if latest else [],
            who_sees="Only your commissioning team sees these, and your internal auditors may "
            "check them. Your council promised providers not to use them to score bids.",
        )
    ]


async def latest_answers(
    session: AsyncSession, engagement: Engagement
) -> list[tuple[str, FormResponse]]:
    """(organisation name, its newest sent answers), by name: never an order that ranks."""
    return [(name, response) for name, _, response in await latest_answers_of(session, engagement)]


async def latest_answers_of(
    session: AsyncSession, engagement: Engagement
) -> list[tuple[str, str, FormResponse]]:
    """(organisation name, its short name, its newest sent answers), by name."""
    responses = (
        await session.execute(
            select(FormResponse, Organisation.name, Organisation.slug)
            .join(Organisation, Organisation.id == FormResponse.organisation_id)
            .where(
                FormResponse.engagement_id == engagement.id,
                FormResponse.form_key == engagement.form_key,
                FormResponse.state == ResponseState.SUBMITTED,
            )
            .order_by(Organisation.name, FormResponse.submitted_at)
        )
    ).all()
    latest: dict[tuple[str, str], FormResponse] = {}
    for response, name, slug in responses:
        latest[(name, slug)] = response  # the newest answers each organisation sent
    return [(name, slug, response) for (name, slug), response in latest.items()]


async def questions_of(session: AsyncSession, engagement: Engagement) -> FormDefinition | None:
    """The questions the engagement asked (its own form, stored when it was published)."""
    return await definition_at(session, engagement.form_key, 1) if engagement.form_key else None


# --- Spreadsheets ------------------------------------------------------------------------

FORMAT_NAMES = {ExportFormat.XLSX: "Excel", ExportFormat.CSV: "CSV"}


def download_buttons(engagement: Engagement, what: str) -> list[Button]:
    """Buttons for the answers (or the summary) as Excel and as CSV."""
    return [
        Button(
            label=f"Download ({name})",
            action="cmd.engagements",
            value=f"export {engagement.id} {what} {fmt.value}",
        )
        for fmt, name in FORMAT_NAMES.items()
    ]


async def answers_table(
    session: AsyncSession, engagement: Engagement, tz: ZoneInfo = LONDON
) -> Table:
    """One row per organisation (by name): when it sent its answers, whether it marked its
    ideas commercially confidential, then one column per question."""
    latest = await latest_answers(session, engagement)
    definition = await questions_of(session, engagement)
    fields = [
        f for f in (definition.all_fields() if definition else []) if f.id != "ideas_confidential"
    ]
    columns = [
        Column("Organisation"),
        Column("Answers sent (UK time)"),
        Column("Ideas are commercially confidential"),
        *(Column(f.label, kind_of(f.type).cell) for f in fields),
    ]
    rows: list[list[Cell]] = []
    for name, response in latest:
        confidential = response.answers.get("ideas_confidential") is True
        row: list[Cell] = [
            name,
            london_iso(response.submitted_at, tz),
            "Yes: do not share outside your team" if confidential else "No",
        ]
        row += [cell_value(f, response.answers.get(f.id)) for f in fields]
        rows.append(row)
    return Table(title="Engagement answers", columns=columns, rows=rows)


def summary_table(summary: Message) -> Table:
    """The summary page as rows (part, what, figure): the same counts and the same
    suppression, because it is made from the same view."""
    rows: list[list[Cell]] = []
    for section in summary.sections:
        if section.text:
            rows.append([section.heading, "", section.text])
        rows += [[section.heading, fact.label, fact.value] for fact in section.facts]
    return Table(
        title="Engagement summary",
        columns=[Column("Part"), Column("What"), Column("Figure", CellKind.TEXT)],
        rows=rows,
    )


async def engagement_table(
    session: AsyncSession,
    actor: Actor,
    kind: ExportKind,
    engagement_id: int | None,
    authority_id: int,
    services: Services,
) -> tuple[Table, str] | Refusal:
    """An engagement's file, checked again as it is made: only the team of the council
    running it, and only for the council the ticket names."""
    engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None or engagement.authority_id != authority_id:
        return Refusal("That engagement is no longer on Convene, so there is nothing to export.")
    if not runs_it(actor, engagement):
        return Refusal(ONLY_THE_TEAM)
    if kind == ExportKind.ENGAGEMENT_SUMMARY:
        # Made from the summary page itself: the same counts, the same suppression.
        summary = await build_summary(session, engagement, services)
        return summary_table(summary), f"Summary of the engagement: {engagement.title}"
    answers = await answers_table(session, engagement, services.tz)
    return answers, f"Answers to: {engagement.title}"


ONLY_THE_TEAM = "Only the commissioning team of the council running it can download these."


async def export_file(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """`engagements export N [answers|summary] [xlsx|csv]`: a download link for the team."""
    assert turn.actor is not None
    words = parse_command(turn.text or "")[0]
    kind = ExportKind.ENGAGEMENT_SUMMARY if "summary" in words else ExportKind.ENGAGEMENT_ANSWERS
    fmt = ExportFormat.CSV if "csv" in words else ExportFormat.XLSX
    async with services.db.session() as session:
        engagement = await team_engagement(session, turn, engagement_id, "export", ONLY_THE_TEAM)
        if not isinstance(engagement, Engagement):
            return engagement
        authority = await session.get(Authority, engagement.authority_id)
        assert authority is not None
        rows = (
            len(await latest_answers(session, engagement))
            if kind == ExportKind.ENGAGEMENT_ANSWERS
            else 1
        )
        ready = await ready_export(
            session, turn, services, authority, kind, fmt, rows, engagement_id=engagement.id
        )
    offer = file_offer(ready, turn, services.settings)
    return [offer]
