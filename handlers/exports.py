"""`export`: a council's commissioning team downloads readiness answers or the directory.

The handler never sends a file itself: it answers, like every handler, with a neutral
`FileOffer`. Its ticket is short-lived, signed with the app's key and bound to the person
who asked; the file is made from the database when it is fetched, never stored. Doors
redeem tickets through `ExportFiles`, registered at the app's `FileDesk`, so no door
knows this feature. Each door does the best its platform allows:

- web: the link downloads the file at once (for the signed-in person only);
- Slack: the sender redeems the ticket and uploads the file itself to the person's direct
  messages, falling back to the link if Slack refuses the upload;
- Teams: bots cannot attach files to a chat without a consent flow, so the message says
  so and the link opens the file on the web.

Every export asked for is audited (`export.created`), so is every refusal
(`export.refused`) and every file handed over (`export.downloaded`): readiness answers
are confidential, and the council must be able to show who took a copy.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feature import Command, Feature, NavLink, link_pressed
from bot.core.files import FileRefused, TakenFile, TicketExpired, TicketInvalid
from bot.core.reply import Button, FileOffer, Message, Notice, Reply, command_ref
from bot.core.turn import Door, Turn, parse_command
from bot.services import Services
from bot.settings import Settings
from handlers.export_files import (
    CONTENT_TYPES,
    NOT_FOR_YOU,
    ExportFile,
    ExportFormat,
    ExportKind,
    build_export,
    count_rows,
    who_may_see,
)
from storage import audit
from storage.exports import all_authorities
from storage.models import Authority
from storage.people import load_actor
from storage.visibility import Refusal, can_export

LINK_MINUTES = 15
LINK_SECONDS = LINK_MINUTES * 60
#: The action Slack reports when somebody presses the download link (see `bot.core.feature.link_pressed`).
DOWNLOAD_ACTION = "export.download"
SALT = "convene.export"

KIND_WORDS = {
    "readiness": ExportKind.READINESS,
    "answers": ExportKind.READINESS,
    "directory": ExportKind.DIRECTORY,
    "profiles": ExportKind.DIRECTORY,
}
FORMAT_WORDS = {
    "csv": ExportFormat.CSV,
    "xlsx": ExportFormat.XLSX,
    "excel": ExportFormat.XLSX,
}
KIND_NAMES = {
    ExportKind.READINESS: "readiness answers",
    ExportKind.DIRECTORY: "provider directory",
    ExportKind.ENGAGEMENT_ANSWERS: "engagement answers",
    ExportKind.ENGAGEMENT_SUMMARY: "engagement summary",
}
FORMAT_NAMES = {ExportFormat.XLSX: "Excel", ExportFormat.CSV: "CSV"}


#: What a person is told when a link is too old: on the download page, and in chat when
#: the file could not be sent in time.
EXPIRED_LINES = [
    f"Download links work for {LINK_MINUTES} minutes, to keep providers' answers safe.",
    f"Ask Convene for the file again: {command_ref('export', 'the exports page')}.",
]
TOO_LATE = (
    f"That file took too long to send, so we did not send it. To ask for it again, "
    f"{command_ref('export', 'the exports page')}."
)


@dataclass(frozen=True)
class ExportTicket:
    """What a download link stands for: one export, for one person."""

    export_id: str
    person_id: int
    kind: ExportKind
    fmt: ExportFormat
    authority_id: int
    #: For an engagement's answers or summary: which engagement.
    engagement_id: int | None = None


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=SALT)


def sign_ticket(settings: Settings, ticket: ExportTicket) -> str:
    data: dict[str, Any] = {
        "e": ticket.export_id,
        "p": ticket.person_id,
        "k": ticket.kind.value,
        "f": ticket.fmt.value,
        "a": ticket.authority_id,
    }
    if ticket.engagement_id is not None:
        data["g"] = ticket.engagement_id
    return str(_serializer(settings).dumps(data))


def read_ticket(settings: Settings, token: str, *, max_age: int = LINK_SECONDS) -> ExportTicket:
    """The ticket behind a link. Raises TicketExpired or TicketInvalid."""
    if not token or len(token) > 500:
        raise TicketInvalid("no ticket")
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TicketExpired(EXPIRED_LINES, TOO_LATE) from exc
    except BadSignature as exc:
        raise TicketInvalid("bad signature") from exc
    try:
        return ExportTicket(
            export_id=str(data["e"]),
            person_id=int(data["p"]),
            kind=ExportKind(data["k"]),
            fmt=ExportFormat(data["f"]),
            authority_id=int(data["a"]),
            engagement_id=int(data["g"]) if data.get("g") is not None else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TicketInvalid("not an export ticket") from exc


def download_path(token: str) -> str:
    return f"/downloads/{token}"


def _audit_fields(ticket: ExportTicket, door: Door, via: str, services: Services) -> dict[str, Any]:
    return {
        "object_type": "export",
        "object_id": ticket.export_id,
        "door": door,
        "authority_id": ticket.authority_id,
        "kind": ticket.kind.value,
        "format": ticket.fmt.value,
        "via": via,
        "at": services.clock.now(),
    }


async def file_for_ticket(
    services: Services,
    ticket: ExportTicket,
    *,
    person_id: int,
    door: Door,
    via: str,
    record: bool = True,
) -> ExportFile | Refusal:
    """Make the file a ticket stands for, for the person fetching it.

    The rules are checked again now, not only when the link was made: somebody who has
    left the commissioning team since cannot use a link they kept. Refusals are always
    audited; the handover is too, unless the caller records it once the file has really
    been handed over (`record=False`, then `record_handover`).
    """
    fields = _audit_fields(ticket, door, via, services)
    async with services.db.session() as session:
        if person_id != ticket.person_id:
            await audit.record(
                session,
                "export.refused",
                actor_id=person_id,
                reason="someone else's link",
                **fields,
            )
            return Refusal(
                "This download link was made for someone else, so it does not work for you. "
                f"Ask Convene for your own: {command_ref('export', 'the exports page')}."
            )
        actor = await load_actor(session, person_id, services.tz)
        made: ExportFile | Refusal = Refusal(NOT_FOR_YOU)
        if actor is not None:
            made = await build_export(
                session,
                actor,
                kind=ticket.kind,
                fmt=ticket.fmt,
                authority_id=ticket.authority_id,
                now=services.clock.now(),
                tz=services.tz,
                engagement_id=ticket.engagement_id,
                services=services,
            )
        if isinstance(made, Refusal):
            await audit.record(
                session, "export.refused", actor_id=person_id, reason="not allowed now", **fields
            )
            return made
        if record:
            await audit.record(
                session, "export.downloaded", actor_id=person_id, rows=made.rows, **fields
            )
        return made


async def record_handover(
    services: Services, ticket: ExportTicket, *, person_id: int, door: Door, via: str, rows: int
) -> None:
    """Audit that the file reached the person (for doors that send it themselves)."""
    async with services.db.session() as session:
        await audit.record(
            session,
            "export.downloaded",
            actor_id=person_id,
            rows=rows,
            **_audit_fields(ticket, door, via, services),
        )


class ExportFiles:
    """Exports as a file source at the app's `FileDesk`: doors redeem export tickets here
    without knowing what an export is."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def read(self, token: str) -> object:
        return read_ticket(self._settings, token)

    async def take(
        self,
        services: Any,
        ticket: object,
        *,
        person_id: int,
        door: str,
        via: str,
        record: bool = True,
    ) -> TakenFile | FileRefused:
        assert isinstance(ticket, ExportTicket)
        made = await file_for_ticket(
            services, ticket, person_id=person_id, door=Door(door), via=via, record=record
        )
        if isinstance(made, Refusal):
            return FileRefused(made.message)
        return TakenFile(made.filename, made.content_type, made.data, made.rows)

    async def handed_over(
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        assert isinstance(ticket, ExportTicket)
        await record_handover(
            services, ticket, person_id=person_id, door=Door(door), via=via, rows=rows
        )


def _refusal_text(turn: Turn) -> str:
    assert turn.actor is not None
    if turn.actor.member_of():
        return (
            f"{NOT_FOR_YOU} You can see and change your own organisation's answers: "
            f"{command_ref('readiness', 'your readiness answers')}."
        )
    return (
        f"{NOT_FOR_YOU} If you work in a council's commissioning team, ask your Convene "
        "contact to add you."
    )


def _kind(words: list[str], given: str | None) -> ExportKind | None:
    for word in [*words, (given or "").lower()]:
        if word in KIND_WORDS:
            return KIND_WORDS[word]
    return None


def _format(words: list[str], given: str | None) -> ExportFormat:
    """Excel unless CSV is asked for: most commissioners open files in Excel."""
    for word in [*words, (given or "").lower()]:
        if word in FORMAT_WORDS:
            return FORMAT_WORDS[word]
    return ExportFormat.XLSX


@dataclass(frozen=True)
class ExportAsked:
    """What the person asked for: a kind of file (None: not said yet), a format, and the
    council's short name when they named one (`for=`)."""

    kind: ExportKind | None
    fmt: ExportFormat
    council: str | None


def export_asked(turn: Turn) -> ExportAsked:
    """`export [readiness|directory] [xlsx|csv] [for=council]`, typed or from a button."""
    words = parse_command(turn.text or "")[0][1:]
    return ExportAsked(
        kind=_kind(words, turn.args.get("what")),
        fmt=_format(words, turn.args.get("format")),
        council=turn.args.get("for"),
    )


class ExportRefused(Exception):
    """The person may not export what they asked for (the attempt is on the record)."""


class NotACommissioner(ExportRefused):
    """They are in no council's commissioning team."""


class NotThatCouncil(ExportRefused):
    """They named a council whose commissioning team they are not in."""

    def __init__(self, councils: tuple[Authority, ...]) -> None:
        super().__init__("not that council")
        self.councils = councils


@dataclass(frozen=True)
class ChooseCouncil:
    """A commissioner for more than one council, who did not say which."""

    councils: tuple[Authority, ...]
    asked: ExportAsked


@dataclass(frozen=True)
class ChooseFile:
    """The council is known, the kind of file is not."""

    authority: Authority


@dataclass(frozen=True)
class ExportReady:
    """A file is ready to fetch: `ticket` is the signed download ticket."""

    authority: Authority
    kind: ExportKind
    fmt: ExportFormat
    rows: int
    ticket: str


async def prepare_export(
    session: AsyncSession, turn: Turn, services: Services, asked: ExportAsked
) -> ChooseCouncil | ChooseFile | ExportReady:
    """Which council's file, checked against the person's teams; once the kind is known too,
    a signed ticket for it (on the record as `export.created`). The file itself is made
    when the ticket is fetched. Raises `NotACommissioner` or `NotThatCouncil` (audited)."""
    assert turn.actor is not None
    actor = turn.actor
    kind, fmt, wanted = asked.kind, asked.fmt, asked.council
    everyone = await all_authorities(session)
    mine = tuple(a for a in everyone if can_export(actor, a.id))
    authority = next((a for a in mine if a.slug == wanted), None) if wanted else None
    if authority is None and not wanted and len(mine) == 1:
        authority = mine[0]
    if not mine or (wanted and authority is None):
        await audit.record_turn(
            session,
            turn,
            "export.refused",
            object_type="export",
            kind=kind.value if kind else None,
            format=fmt.value,
            reason="not a commissioner" if not mine else f"not a commissioner for {wanted}",
            at=services.clock.now(),
        )
        if not mine:
            raise NotACommissioner("not a commissioner")
        raise NotThatCouncil(mine)
    if authority is None:
        return ChooseCouncil(mine, asked)
    if kind is None:
        return ChooseFile(authority)
    rows = await count_rows(session, actor, kind, authority.id)
    return await ready_export(session, turn, services, authority, kind, fmt, rows)


async def ready_export(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    authority: Authority,
    kind: ExportKind,
    fmt: ExportFormat,
    rows: int,
    *,
    engagement_id: int | None = None,
) -> ExportReady:
    """Put the export on the record (who, which council, what, how many rows) and sign the
    ticket the file is fetched with; the file itself is made when fetched. Every export
    (readiness, directory, an engagement's answers) goes through here."""
    assert turn.actor is not None
    export_id = secrets.token_hex(8)
    about = {} if engagement_id is None else {"engagement_id": engagement_id}
    await audit.record_turn(
        session,
        turn,
        "export.created",
        object_type="export",
        object_id=export_id,
        authority_id=authority.id,
        kind=kind.value,
        format=fmt.value,
        rows=rows,
        at=services.clock.now(),
        **about,
    )
    ticket = sign_ticket(
        services.settings,
        ExportTicket(
            export_id=export_id,
            person_id=turn.actor.person_id,
            kind=kind,
            fmt=fmt,
            authority_id=authority.id,
            **about,
        ),
    )
    return ExportReady(authority, kind, fmt, rows, ticket)


async def export(turn: Turn, services: Services) -> list[Reply]:
    """`export [readiness|directory] [xlsx|csv] [for=council]`."""
    async with services.db.session() as session:
        try:
            prepared = await prepare_export(session, turn, services, export_asked(turn))
        except ExportRefused as refusal:
            return refused_replies(refusal, turn)
    if isinstance(prepared, ChooseCouncil):
        return [_which_council(prepared)]
    if isinstance(prepared, ChooseFile):
        return [_menu(prepared.authority)]
    return [file_offer(prepared, turn, services.settings)]


def refused_replies(refusal: ExportRefused, turn: Turn) -> list[Reply]:
    if isinstance(refusal, NotThatCouncil):
        choices = " ".join(
            f"For {a.name}, {command_ref(f'export for={a.slug}', f'the {a.name} export')}."
            for a in refusal.councils
        )
        return [
            Notice(
                text=f"You can only export answers given to your own council. {choices}",
                level="warning",
            )
        ]
    return [Notice(text=_refusal_text(turn), level="warning")]


def _which_council(choice: ChooseCouncil) -> Message:
    kind, fmt = choice.asked.kind, choice.asked.fmt
    asked = " ".join(p for p in (kind.value if kind else "", fmt.value) if p)
    return Message(
        title="Which council is this for?",
        buttons=[
            Button(label=a.name[:60], action="cmd.export", value=f"{asked} for={a.slug}")
            for a in choice.councils
        ],
    )


def file_offer(ready: ExportReady, turn: Turn, settings: Settings) -> FileOffer:
    """The view of a ready file: what is in it, how this door gets it, and who may see it."""
    kind, fmt, authority = ready.kind, ready.fmt, ready.authority
    path = download_path(ready.ticket)
    url = path if turn.door == Door.WEB else f"{settings.base_url}{path}"
    return FileOffer(
        name=f"{authority.name} {KIND_NAMES[kind]} ({FORMAT_NAMES[fmt]})",
        content_type=CONTENT_TYPES[fmt],
        ticket=ready.ticket,
        url=url,
        title=f"Your {KIND_NAMES[kind]} file is ready",
        text=f"{_contents(kind, ready.rows, authority)}\n{_how_to_get_it(turn.door)}",
        label=f"Download ({FORMAT_NAMES[fmt]})",
        action=DOWNLOAD_ACTION,
        who_sees=who_may_see(kind, authority.name),
    )


def _contents(kind: ExportKind, rows: int, authority: Authority) -> str:
    if kind == ExportKind.ENGAGEMENT_SUMMARY:
        return "It has the engagement's summary: counts only, never anyone's answers."
    if kind == ExportKind.ENGAGEMENT_ANSWERS:
        if rows == 0:
            return "No organisation has sent answers yet, so the file only has the headings."
        return (
            f"It has the latest answers {rows} organisation{'s' if rows != 1 else ''} sent, "
            "one row each, with ideas marked commercially confidential flagged."
        )
    if kind == ExportKind.DIRECTORY:
        return f"It has the profiles of {rows} organisation{'s' if rows != 1 else ''}."
    if rows == 0:
        return (
            f"No organisation has sent readiness answers to {authority.name} yet, so the file "
            "only has the headings."
        )
    return (
        f"It has the latest answers {rows} organisation{'s' if rows != 1 else ''} sent to "
        f"{authority.name}, one row each."
    )


def _how_to_get_it(door: Door) -> str:
    lasts = f"The link works for {LINK_MINUTES} minutes, and only for you."
    if door == Door.TEAMS:
        return (
            "Teams does not let Convene attach files to a chat, so the button opens the file "
            f"on the Convene website. Sign in there if it asks you to. {lasts}"
        )
    if door == Door.SLACK:
        return (
            "Slack could not take the file, so the button downloads it from the Convene "
            f"website instead. Sign in there if it asks you to. {lasts}"
        )
    return f"The file is made when you download it, so it is up to date. {lasts}"


def _menu(authority: Authority) -> Message:
    options = [
        (ExportKind.READINESS, ExportFormat.XLSX),
        (ExportKind.READINESS, ExportFormat.CSV),
        (ExportKind.DIRECTORY, ExportFormat.XLSX),
        (ExportKind.DIRECTORY, ExportFormat.CSV),
    ]
    return Message(
        title="What would you like to download?",
        text="Readiness answers: what providers told "
        f"{authority.name} about costs, risk and capacity. Provider directory: every "
        "organisation's profile.",
        buttons=[
            Button(
                label=f"{KIND_NAMES[k].capitalize()} ({FORMAT_NAMES[f]})",
                action="cmd.export",
                value=f"{k.value} {f.value} for={authority.slug}",
            )
            for k, f in options
        ],
        who_sees=f"Only {authority.name}'s commissioning team may see these files.",
    )


FEATURE = Feature(
    name="exports",
    nav=(NavLink("Exports", "export", "commissioners", order=80),),
    commands=(
        Command(
            "export",
            "download readiness answers or the directory as a spreadsheet",
            export,
            "commissioners",
            # Teams lists at most 10 commands a scope; a team channel is where
            # commissioners work together. It can still be typed in a personal chat.
            teams_scopes=frozenset({"team", "groupChat"}),
        ),
    ),
    actions={"export.": link_pressed},
    exports=(ExportFiles,),
)
