"""Evidence for a check-in (issue 15): a provider answers in its own way, with its own report
(PDF, Word, spreadsheet) instead of the form, or with photos and voice notes (PhotoVoice),
from a Slack file, a Teams attachment or a web upload.

Steps of `agreements`:
- `upload C team=yes quote=yes people_agreed=yes report=yes`, with files attached (on the
  web: the upload page, `/agreements/checkins/C/upload`): keeps the files against check-in
  C, for its reporting organisation only (the sole provider, or a consortium's lead).
  `team=yes` (the council's commissioning team may see the files) is needed to send
  anything; `quote=yes` lets the council quote them without anyone's name;
  `people_agreed=yes` says the people shown or heard agreed. `report=yes` answers the
  check-in with the report sent (as `answer` does: see `monitoring.mark_answered`).
- `evidence C`: the check-in's files with download links, for the team and the reporting
  organisation only.

Every file is checked from its bytes (`bot.core.uploads`): too big, empty, a type we do not
take, bytes that do not match the name, or anything a browser could run are refused with a
clear message; nothing of that turn is kept, and the attempt is on the record. Downloads
(`/agreements/evidence/E`) go to the team and the reporting organisation only; anyone else
is told the page was not found, and that is on the record too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date, format_when
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Attachment, AttachmentProblem, Door, Turn, parse_command, row_id
from bot.core.uploads import (
    BY_EXTENSION,
    Checked,
    EvidenceKind,
    FileType,
    Problem,
    accept_list,
    check_upload,
    claimed_extension,
    safe_filename,
    size_words,
    sniff,
    types_in_words,
)
from bot.services import Services
from handlers.agreements.common import COMMAND, Refused, refuse, runs_it
from handlers.agreements.monitoring import answer, load_checkin, mark_answered
from storage import audit
from storage.agreement_tables import Agreement
from storage.evidence_tables import EvidenceRow
from storage.models import Organisation
from storage.monitoring_tables import CheckinRow

#: At most this many files in one turn.
MAX_FILES = 10
YES = frozenset({"yes", "y", "true", "on", "1"})

EVIDENCE_SEES = (
    "Only the council's commissioning team and your organisation can see or download these "
    "files. No other provider can, and they are never shown beside other providers."
)

KIND_WORDS = {
    EvidenceKind.REPORT: "report",
    EvidenceKind.PHOTO: "photo",
    EvidenceKind.VOICE: "voice note",
}


def _plain(text: str) -> list[Reply]:
    return [Notice(text=text, level="warning")]


def upload_path(checkin_id: int) -> str:
    return f"/agreements/checkins/{checkin_id}/upload"


def download_path(evidence_id: int) -> str:
    return f"/agreements/evidence/{evidence_id}"


def _base(turn: Turn, services: Services) -> str:
    """Web links: the same site on the web, the full address from chat."""
    return "" if turn.door == Door.WEB else services.settings.base_url


def _flag(args: dict[str, str], *names: str) -> bool:
    return any(args.get(name, "").strip().lower() in YES for name in names)


@dataclass(frozen=True)
class Consent:
    """What the sender agreed to, for every file sent in the turn."""

    service_may_see: bool
    council_may_quote: bool
    people_shown_agreed: bool
    answers_checkin: bool


def consent_of(turn: Turn) -> Consent:
    """The flags typed after the command (chat) or ticked on the upload page (web)."""
    _, typed = parse_command(turn.text or "")
    args = {**typed, **turn.args}
    return Consent(
        service_may_see=_flag(args, "team", "service"),
        council_may_quote=_flag(args, "quote"),
        people_shown_agreed=_flag(args, "people_agreed", "people"),
        answers_checkin=_flag(args, "report"),
    )


# --- checking each file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One file not kept: its name (made safe to show), why, and the words for the person."""

    filename: str
    problem: Problem
    words: str


def accepted_words() -> str:
    return (
        f"We take reports as {types_in_words(EvidenceKind.REPORT)}; photos as "
        f"{types_in_words(EvidenceKind.PHOTO)}; voice notes as "
        f"{types_in_words(EvidenceKind.VOICE)}."
    )


def problem_words(problem: Problem, name: str, attachment: Attachment, limit: int) -> str:
    """What went wrong with one file, in plain words, with what to do about it."""
    if problem is Problem.TOO_BIG:
        return (
            f"{name} is too big. Files can be up to {size_words(limit)}. Try a smaller photo, "
            "a shorter voice note, or save the report as a PDF."
        )
    if problem is Problem.EMPTY:
        return f"{name} is empty. Check it is the right file and send it again."
    if problem is Problem.UNREADABLE:
        return f"We could not get {name} from your app. Please send it again."
    if problem is Problem.UNSAFE:
        return (
            f"{name} is a kind of file that can run code (like a web page or a program), so "
            "we can't keep it. Send a PDF, Word or spreadsheet file instead."
        )
    if problem is Problem.MISMATCH:
        found = sniff(attachment.data)
        inside = f"a {found.words} file" if isinstance(found, FileType) else "another kind of file"
        named = BY_EXTENSION.get(claimed_extension(attachment.filename))
        said = f"a {named.words} file" if named else "another kind of file"
        return (
            f"{name} does not match its name: its name says {said}, but inside it is "
            f"{inside}. Save it again as the right type, or rename it, then send it."
        )
    return f"{name} is not a kind of file we take. {accepted_words()}"


def shown_name(claimed: str) -> str:
    """The sender's name for a file, made safe to show back to them."""
    extension = claimed_extension(claimed)
    if extension:
        return safe_filename(claimed, extension)
    return safe_filename(claimed, "x").removesuffix(".x")


def check_files(
    attachments: tuple[Attachment, ...], limit: int
) -> tuple[list[tuple[Attachment, Checked]], list[Refusal]]:
    """Each file checked from its bytes; the ones to keep, and the ones refused."""
    kept: list[tuple[Attachment, Checked]] = []
    refused: list[Refusal] = []
    for attachment in attachments:
        shown = shown_name(attachment.filename)
        result: Checked | Problem
        if attachment.problem is AttachmentProblem.TOO_BIG:
            result = Problem.TOO_BIG
        elif attachment.problem is not None:
            result = Problem.UNREADABLE
        else:
            result = check_upload(attachment.filename, attachment.data, max_bytes=limit)
        if isinstance(result, Problem):
            refused.append(
                Refusal(shown, result, problem_words(result, f'"{shown}"', attachment, limit))
            )
        else:
            kept.append((attachment, result))
    return kept, refused


# --- the steps ------------------------------------------------------------------------------


def how_to_send(turn: Turn, services: Services, checkin_id: int, title: str) -> Message:
    """No file came with the turn: how to send one from this door."""
    link = f"{_base(turn, services)}{upload_path(checkin_id)}"
    if turn.door == Door.WEB:
        how = "Use the upload page: choose your files, tick what you agree to, and send them."
    elif turn.door == Door.SLACK:
        how = (
            "In Slack, attach the files to a message to Convene that says "
            f"{COMMAND} upload {checkin_id} team=yes. Or use the upload page on the web."
        )
    else:
        how = (
            "In Teams, attach the files to a message to Convene that says "
            f"{COMMAND} upload {checkin_id} team=yes. Or use the upload page on the web."
        )
    return Message(
        title=f"Send files for your check-in: {title}",
        text=(
            f"{how} You can send your own report instead of answering the questions (add "
            "report=yes), or photos and voice notes. Add quote=yes if the council may quote "
            "them without anyone's name, and people_agreed=yes if the people shown or heard "
            f"agreed. {accepted_words()} Each file can be up to "
            f"{size_words(services.settings.upload_max_bytes)}."
        ),
        buttons=[
            Button(
                label="Open the upload page",
                action="agreements.upload_page",
                value=str(checkin_id),
                url=link,
                style="primary",
            )
        ],
        who_sees=EVIDENCE_SEES,
    )


def not_kept(turn: Turn, services: Services, checkin_id: int, why: str) -> Message:
    """Why no file of the turn was kept, with the way back to the upload page: the next step."""
    return Message(
        title="We could not keep your files",
        text=why,
        buttons=[
            Button(
                label="Try again on the upload page",
                action="agreements.upload_page",
                value=str(checkin_id),
                url=f"{_base(turn, services)}{upload_path(checkin_id)}",
                style="primary",
            )
        ],
        who_sees=EVIDENCE_SEES,
    )


async def upload(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements upload C ...` with files: keep them for check-in C (the reporter only),
    and with `report=yes` answer the check-in with the report."""
    assert turn.actor is not None
    now = services.clock.now()
    limit = services.settings.upload_max_bytes
    consent = consent_of(turn)
    async with services.db.session() as session:
        try:
            checkin, agreement, reporter = await load_checkin(
                session, turn, checkin_id, "upload evidence"
            )
            if not reporter:
                await refuse(session, turn, agreement, "upload evidence", "not the reporter")
                raise Refused(
                    "Only the organisation asked for this check-in can send files for it. "
                    "Nothing was kept."
                )
        except Refused as refusal:
            return _plain(refusal.message)
        if not turn.attachments:
            return [how_to_send(turn, services, checkin.id, agreement.title)]
        try:
            rows = await keep_files(session, turn, checkin, agreement, consent, now, limit)
        except Refused as refusal:
            return [not_kept(turn, services, checkin.id, refusal.message)]
        listed = ", ".join(f"{r.filename} ({KIND_WORDS[EvidenceKind(r.kind)]})" for r in rows)
        if consent.answers_checkin:
            section = await files_section(session, checkin, services.settings.base_url)
            await mark_answered(session, turn, checkin, agreement, now, extra=[section])
            said = (
                f"Thank you: your report answers your check-in for {agreement.title}. We kept "
                f"{listed}. The council's commissioning team has been told and may get in "
                "touch to talk it through."
            )
        else:
            said = (
                f"Thank you: we kept {listed} for your check-in for {agreement.title} "
                f"(due {format_date(checkin.due_on)}). The council's commissioning team can "
                f"see them. See your files: "
                f"{command_ref(f'{COMMAND} evidence {checkin.id}', 'your files for this check-in')}."
            )
        quote = (
            " The council may quote them without anyone's name."
            if consent.council_may_quote
            else " The council will not quote them."
        )
        return [
            Notice(text=said + quote + " No other provider sees them.", level="success"),
        ]


async def keep_files(
    session: AsyncSession,
    turn: Turn,
    checkin: CheckinRow,
    agreement: Agreement,
    consent: Consent,
    now: datetime,
    limit: int,
) -> list[EvidenceRow]:
    """Check every file of the turn and keep them all for the check-in, or keep none and
    raise Refused with the words for the person (the refusal is on the record)."""
    assert turn.actor is not None
    kept, problem = await _check_turn(session, turn, agreement, checkin, consent, limit)
    if problem:
        raise Refused(problem)
    rows = [
        EvidenceRow(
            agreement_id=agreement.id,
            checkin_id=checkin.id,
            organisation_id=checkin.organisation_id,
            uploaded_by=turn.actor.person_id,
            kind=checked.kind.value,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            data=attachment.data,
            service_may_see=consent.service_may_see,
            council_may_quote=consent.council_may_quote,
            people_shown_agreed=consent.people_shown_agreed,
            answers_checkin=consent.answers_checkin and checked.kind == EvidenceKind.REPORT,
            created_at=now,
        )
        for attachment, checked in kept
    ]
    session.add_all(rows)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "agreement.evidence_sent",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        checkin_id=checkin.id,
        files=[{"id": r.id, "kind": r.kind, "sha256": r.sha256, "size": r.size} for r in rows],
        quote=consent.council_may_quote,
        people_agreed=consent.people_shown_agreed,
        report=consent.answers_checkin,
    )
    return rows


async def _check_turn(
    session: AsyncSession,
    turn: Turn,
    agreement: Agreement,
    checkin: CheckinRow,
    consent: Consent,
    limit: int,
) -> tuple[list[tuple[Attachment, Checked]], str | None]:
    """The files to keep, or why nothing of this turn can be kept (on the record)."""
    attempted = "upload evidence"
    if len(turn.attachments) > MAX_FILES:
        await refuse(
            session, turn, agreement, attempted, "too many files", count=len(turn.attachments)
        )
        return [], f"Send at most {MAX_FILES} files at a time. Nothing was kept."
    kept, refused = check_files(turn.attachments, limit)
    if refused:
        await refuse(
            session,
            turn,
            agreement,
            attempted,
            refused[0].problem.value,
            checkin=checkin.id,
            files=[{"name": r.filename, "problem": r.problem.value} for r in refused],
        )
        words = " ".join(r.words for r in refused)
        return [], f"{words} Nothing was kept, so please send all the files again."
    if not consent.service_may_see:
        await refuse(session, turn, agreement, attempted, "no consent", checkin=checkin.id)
        return [], (
            "Please say the council's commissioning team may see these files: tick the box on "
            f"the upload page, or add team=yes to your message ({COMMAND} upload "
            f"{checkin.id} team=yes). Nothing was kept."
        )
    if consent.answers_checkin:
        if checkin.answered_at is not None:
            await refuse(
                session, turn, agreement, attempted, "already answered", checkin=checkin.id
            )
            return [], (
                "This check-in has already been answered, so a report can't answer it again. "
                "Send the files without report=yes to add them. Nothing was kept."
            )
        if not any(checked.kind == EvidenceKind.REPORT for _, checked in kept):
            await refuse(session, turn, agreement, attempted, "no report", checkin=checkin.id)
            return [], (
                "To answer the check-in with your own report, send a report file "
                f"({types_in_words(EvidenceKind.REPORT)}). Nothing was kept."
            )
    return kept, None


async def evidence_of(session: AsyncSession, checkin_id: int) -> list[EvidenceRow]:
    return list(
        (
            await session.scalars(
                select(EvidenceRow)
                .where(EvidenceRow.checkin_id == checkin_id)
                .order_by(EvidenceRow.created_at, EvidenceRow.id)
            )
        ).all()
    )


def _file_line(row: EvidenceRow) -> str:
    consent = []
    consent.append("may be quoted without names" if row.council_may_quote else "not to be quoted")
    if row.kind != EvidenceKind.REPORT:
        consent.append(
            "the people shown agreed"
            if row.people_shown_agreed
            else "not said if the people shown agreed"
        )
    report = ", sent instead of the form" if row.answers_checkin else ""
    return (
        f"{row.filename}: {KIND_WORDS[EvidenceKind(row.kind)]}{report}, {size_words(row.size)}, "
        f"sent {format_when(row.created_at)}; {'; '.join(consent)}."
    )


async def files_section(session: AsyncSession, checkin: CheckinRow, base: str) -> Section:
    """The check-in's files, each with its download link."""
    rows = await evidence_of(session, checkin.id)
    if not rows:
        return Section(heading="Files", text="No files have been sent for this check-in.")
    return Section(
        heading="Files",
        text="\n".join(_file_line(r) for r in rows),
        buttons=[
            Button(
                label=f"Download {r.filename}",
                action="agreements.evidence_download",
                value=str(r.id),
                url=f"{base}{download_path(r.id)}",
            )
            for r in rows
        ],
    )


async def show_evidence(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements evidence C`: the check-in's files, for the team and the reporter only."""
    async with services.db.session() as session:
        try:
            checkin, agreement, reporter = await load_checkin(
                session, turn, checkin_id, "see evidence"
            )
        except Refused as refusal:
            return _plain(refusal.message)
        section = await files_section(session, checkin, _base(turn, services))
        buttons = []
        if reporter:
            buttons.append(
                Button(
                    label="Send more files",
                    action="agreements.upload_page",
                    value=str(checkin.id),
                    url=f"{_base(turn, services)}{upload_path(checkin.id)}",
                )
            )
        return [
            Message(
                title=f"Files for the check-in: {agreement.title}",
                text=f"The check-in due {format_date(checkin.due_on)}.",
                sections=[section],
                buttons=buttons,
                who_sees=EVIDENCE_SEES,
            )
        ]


# --- web pages ------------------------------------------------------------------------------

NOT_FOUND_PAGE = PageRefusal(404, "Page not found", ["Check the web address, or go to the start."])


async def upload_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/agreements/checkins/{checkin_id}/upload`: the form with files, for the reporter."""
    assert request.actor is not None
    checkin_id = row_id(request.params["checkin_id"])
    turn = Turn(door=Door.WEB, actor=request.actor, text=f"{COMMAND} upload {checkin_id}")
    async with services.db.session() as session:
        try:
            checkin, agreement, reporter = await load_checkin(
                session, turn, checkin_id, "upload page"
            )
            if not reporter:
                await refuse(session, turn, agreement, "upload page", "not the reporter")
                raise Refused("not the reporter")
        except Refused:
            return NOT_FOUND_PAGE
        organisation = await session.get(Organisation, checkin.organisation_id)
        return PageContent(
            title=f"Send files for your check-in: {agreement.title}",
            template="evidence_upload.html",
            data={
                "agreement_title": agreement.title,
                "organisation": organisation.name if organisation else "your organisation",
                "due": format_date(checkin.due_on),
                "answered": checkin.answered_at is not None,
                "command": COMMAND,
                "words": f"upload {checkin.id}",
                "accept": accept_list(),
                "limit": size_words(services.settings.upload_max_bytes),
                "max_files": MAX_FILES,
                "reports": types_in_words(EvidenceKind.REPORT),
                "photos": types_in_words(EvidenceKind.PHOTO),
                "voice": types_in_words(EvidenceKind.VOICE),
            },
        )


async def download_file(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/agreements/evidence/{evidence_id}`: the file, for the team and the reporting
    organisation only; anyone else is told it was not found (audited)."""
    actor = request.actor
    assert actor is not None
    evidence_id = row_id(request.params["evidence_id"])
    now = services.clock.now()
    async with services.db.session() as session:
        row = await session.get(EvidenceRow, evidence_id) if evidence_id else None
        agreement = await session.get(Agreement, row.agreement_id) if row else None
        turn = Turn(door=Door.WEB, actor=actor)
        allowed = (
            row is not None
            and agreement is not None
            and (row.organisation_id in actor.member_of() or runs_it(turn, agreement))
        )
        if not allowed or row is None:
            await refuse(
                session,
                turn,
                agreement,
                "download evidence",
                "no such file" if row is None else "not the team or the reporter",
                evidence=evidence_id,
            )
            return NOT_FOUND_PAGE
        data = (
            await session.scalars(select(EvidenceRow.data).where(EvidenceRow.id == row.id))
        ).one()
        await audit.record(
            session,
            "agreement.evidence_downloaded",
            actor_id=actor.person_id,
            door=Door.WEB,
            object_type="evidence",
            object_id=row.id,
            authority_id=agreement.authority_id if agreement else None,
            at=now,
        )
        return PageContent(
            title=row.filename,
            data={},
            body=bytes(data),
            content_type=row.content_type,
            download_name=row.filename,
        )


PAGES = (
    WebPage("/agreements/checkins/{checkin_id}/upload", "html", upload_page),
    WebPage("/agreements/evidence/{evidence_id}", "file", download_file),
)


#: Words typed after `answer C` that are about the files sent with it, not answers.
CONSENT_WORDS = frozenset({"team", "service", "quote", "people_agreed", "people", "report"})


async def answer_with_files(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements answer C effective="..."` with photos, voice notes or a report attached:
    the answers and the files kept in one unit of work, or neither. Attaching a file to an
    answer is sending it to the council's team, so that consent is taken as given; quoting
    and the people shown still need `quote=yes` and `people_agreed=yes`."""
    consent = replace(consent_of(turn), service_may_see=True, answers_checkin=False)
    now = services.clock.now()
    limit = services.settings.upload_max_bytes

    async def keep(
        session: AsyncSession, checkin: CheckinRow, agreement: Agreement
    ) -> list[Section]:
        await keep_files(session, turn, checkin, agreement, consent, now, limit)
        return [await files_section(session, checkin, services.settings.base_url)]

    return await answer(turn, services, checkin_id, files=keep, ignore=CONSENT_WORDS)
