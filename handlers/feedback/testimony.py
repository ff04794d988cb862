"""Testimony with feedback (issue 16): a photo or a voice note someone adds to their answers
on the public page, with a tick for each use, and its download for the point's owners.

Checking reuses the evidence pieces: `bot.core.uploads.check_upload` recognises the bytes
(size first, then type, then whether the name agrees), and `strip_metadata` takes EXIF
(with any GPS location), XMP and text chunks out of a photo before it is kept. Only photos
and voice notes are taken here, never documents.

Consent is one tick for each use:
- "the service can see this": needed to keep a file at all. A file without it is not kept,
  and nor is anything else from that form: the person is told kindly, their answers come
  back, and they choose (tick it, or send without the file). Nothing is half saved.
- "the council may quote it without my name": the only way the council's team sees or
  hears a file. The provider whose service it is sees every kept file, first (as with the
  entries), and the council's team sees an agreement's entries only once enough people
  answered; on top of that a file needs this tick.

A hidden entry's files are hidden with it (not listed, not downloadable).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from gettext import NullTranslations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.feedback import FeedbackProblem
from bot.core.feedback.words import N_
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Button
from bot.core.turn import Attachment, AttachmentProblem, Door, Turn, row_id
from bot.core.uploads import (
    ACCEPTED,
    JPEG,
    PNG,
    WEBP,
    Checked,
    EvidenceKind,
    FileType,
    Problem,
    check_upload,
    size_words,
    sniff,
    strip_metadata,
    types_in_words,
)
from bot.services import Services
from handlers.feedback.common import COMMAND, refuse, standing
from storage import audit
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from storage.testimony_tables import FeedbackTestimony

FILE_FIELD = "testimony"
SERVICE_TICK = "service_may_see"
COUNCIL_TICK = "council_may_quote"
#: The photo and voice note types, for the file input's `accept=` (no documents here).
KINDS = (EvidenceKind.PHOTO, EvidenceKind.VOICE)

#: Every sentence a person sees about testimony, in one place, marked for the feedback
#: catalogue (`bot/core/feedback/words.py`: Welsh beside English). `%(service)s`,
#: `%(size)s`, `%(photos)s` and `%(voices)s` are filled in after translating.
WORDS: dict[str, str] = {
    "heading": N_("Add a photo or a voice note (you do not have to)"),
    "hint": N_(
        "You can add one photo or one voice note. It can be up to %(size)s. We take photos as "
        "%(photos)s, and voice notes as %(voices)s. We take out where and when a photo was "
        "taken before we keep it."
    ),
    "file_label": N_("Photo or voice note"),
    "ticks_legend": N_("Who can see or hear it"),
    "service_tick": N_(
        "The people who run %(service)s can see or hear this. We only keep your photo or voice "
        "note if you tick this."
    ),
    "council_tick": N_(
        "The council may use it, without your name, to show what people think (for example "
        "in a report). If you do not tick this, the council will not see or hear it."
    ),
    "no_service_tick": N_(
        "You added a photo or voice note, but did not tick that the people who run the "
        "service can see or hear it. We only keep it if you tick that box. We have not saved "
        "anything yet. Tick the box, or take the file off, and send again."
    ),
    "too_big": N_(
        "Your photo or voice note is too big. It can be up to %(size)s. Try a smaller photo or "
        "a shorter voice note, or send your answers without it. We have not saved anything yet."
    ),
    "not_taken": N_(
        "We can only take a photo or a voice note. We take photos as %(photos)s, and voice "
        "notes as %(voices)s. Try another file, or send your answers without it. We have not "
        "saved anything yet."
    ),
    "unsafe": N_(
        "That file is a kind that can run code, like a web page or a program, so we cannot "
        "take it. Send a photo or a voice note instead. We have not saved anything yet."
    ),
    "mismatch": N_(
        "That file's name does not match what is inside it. Please choose the photo or voice "
        "note again, or send your answers without it. We have not saved anything yet."
    ),
    "empty": N_(
        "That file is empty. Check it is the right one and send it again. We have not saved "
        "anything yet."
    ),
    "one_only": N_("Please add just one photo or one voice note. We have not saved anything yet."),
    "again": N_("We did not keep the file, so please choose it again before you send."),
}

#: The photos we can take metadata out of (`strip_metadata`); HEIC is not one.
_PHOTOS_WE_CLEAN: tuple[FileType, ...] = (JPEG, PNG, WEBP)


def _accepted() -> tuple[FileType, ...]:
    """Photos we can clean and every voice note type: never documents."""
    return _PHOTOS_WE_CLEAN + tuple(t for t in ACCEPTED if t.kind is EvidenceKind.VOICE)


def accept_list() -> str:
    """The file input's `accept=`: photos we can clean and voice notes, nothing else."""
    types = _accepted()
    items = [f".{ext}" for t in types for ext in t.extensions]
    return ",".join(items + sorted({t.content_type for t in types}))


def _fill(services: Services, service_name: str) -> dict[str, str]:
    """What fills the gaps in `WORDS`."""
    return {
        "service": service_name,
        "size": size_words(services.settings.upload_max_bytes),
        "photos": ", ".join(t.words for t in _PHOTOS_WE_CLEAN),
        "voices": types_in_words(EvidenceKind.VOICE),
    }


def page_words(
    services: Services, service_name: str, words: NullTranslations | None = None
) -> dict[str, str]:
    """The testimony block's words for the page template, in the page's language."""
    _ = (words or NullTranslations()).gettext
    fill = _fill(services, service_name)
    return {key: _(text) % fill for key, text in WORDS.items()}


@dataclass(frozen=True)
class Testimony:
    """A file fit to keep with an entry: the cleaned bytes, what they are, and the ticks."""

    checked: Checked
    data: bytes
    council_may_quote: bool


@dataclass(frozen=True)
class TestimonyRefused:
    """Why the file (and so the whole form) was not kept: words for the person, and a
    reason for the record."""

    problem: FeedbackProblem
    reason: str


def _ticked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name, "") == "yes"


def _refused(
    services: Services, key: str, reason: str, kept: dict[str, str], service_name: str
) -> TestimonyRefused:
    fill = _fill(services, service_name)
    gaps = {name: value for name, value in fill.items() if f"%({name})s" in WORDS[key]}
    return TestimonyRefused(FeedbackProblem(WORDS[key], FILE_FIELD, kept, gaps), reason)


def check_testimony(
    services: Services,
    point: FeedbackPoint,
    files: tuple[Attachment, ...],
    form: Mapping[str, str],
    kept: dict[str, str],
) -> Testimony | TestimonyRefused | None:
    """The file sent with the answers, checked and cleaned; None when there is none. `kept`
    is what to put back in the form if it is refused."""
    if not files:
        return None

    def no(key: str, reason: str) -> TestimonyRefused:
        return _refused(services, key, reason, kept, point.service_name)

    if len(files) > 1:
        return no("one_only", "more than one file")
    (attachment,) = files
    limit = services.settings.upload_max_bytes
    if attachment.problem is AttachmentProblem.TOO_BIG:
        return no("too_big", Problem.TOO_BIG)
    if attachment.problem is not None:
        return no("empty", Problem.UNREADABLE)
    checked = check_upload(attachment.filename, attachment.data, max_bytes=limit)
    if isinstance(checked, Problem):
        key = {
            Problem.TOO_BIG: "too_big",
            Problem.EMPTY: "empty",
            Problem.UNSAFE: "unsafe",
            Problem.MISMATCH: "mismatch",
        }.get(checked, "not_taken")
        return no(key, checked)
    found = sniff(attachment.data)
    if checked.kind not in KINDS or not isinstance(found, FileType) or found not in _accepted():
        return no("not_taken", Problem.NOT_ACCEPTED)
    cleaned = strip_metadata(attachment.data, found)
    if isinstance(cleaned, Problem):
        return no("not_taken", "photo metadata could not be removed")
    if not _ticked(form, SERVICE_TICK):
        return no("no_service_tick", "no consent for the service to see it")
    return Testimony(
        checked=Checked(
            kind=checked.kind,
            content_type=checked.content_type,
            extension=checked.extension,
            size=len(cleaned),
            sha256=hashlib.sha256(cleaned).hexdigest(),
            filename=f"{checked.kind}.{checked.extension}",
        ),
        data=cleaned,
        council_may_quote=_ticked(form, COUNCIL_TICK),
    )


async def record_refused(
    session: AsyncSession, services: Services, point: FeedbackPoint, reason: str
) -> None:
    """On the record: a file was refused at this point, and why. Nothing about the person,
    and the day only, like the entries."""
    day = services.clock.now().astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    await audit.record(
        session,
        "feedback.testimony_refused",
        actor_id=None,
        door=Door.WEB,
        object_type="feedback_point",
        object_id=point.id,
        authority_id=point.authority_id,
        at=day,
        reason=str(reason),
    )


async def keep_testimony(
    session: AsyncSession, entry: FeedbackEntry, testimony: Testimony
) -> FeedbackTestimony:
    """Keep the file with its entry, in the entry's unit of work (both or neither)."""
    row = FeedbackTestimony(
        entry_id=entry.id,
        kind=testimony.checked.kind,
        content_type=testimony.checked.content_type,
        extension=testimony.checked.extension,
        size=testimony.checked.size,
        sha256=testimony.checked.sha256,
        data=testimony.data,
        service_may_see=True,
        council_may_quote=testimony.council_may_quote,
    )
    session.add(row)
    await session.flush()
    return row


# --- the owners' side -------------------------------------------------------------------------


def download_path(testimony_id: int) -> str:
    return f"/feedback/testimony/{testimony_id}"


async def files_of(
    session: AsyncSession, entry_ids: list[str]
) -> dict[str, list[FeedbackTestimony]]:
    """The files of these entries (the bytes are not loaded)."""
    found: dict[str, list[FeedbackTestimony]] = {}
    if not entry_ids:
        return found
    rows = await session.scalars(
        select(FeedbackTestimony)
        .where(FeedbackTestimony.entry_id.in_(entry_ids))
        .order_by(FeedbackTestimony.id)
    )
    for row in rows:
        found.setdefault(row.entry_id, []).append(row)
    return found


def may_see(row: FeedbackTestimony, *, provider: bool) -> bool:
    """The provider sees every kept file; the council's team only those it may quote."""
    return row.service_may_see and (provider or row.council_may_quote)


def file_words(row: FeedbackTestimony) -> str:
    what = "A photo" if row.kind == EvidenceKind.PHOTO else "A voice note"
    quote = (
        "the council may quote it without a name"
        if row.council_may_quote
        else "only the service may see or hear it"
    )
    return f"{what} ({size_words(row.size)}): {quote}."


def file_buttons(rows: list[FeedbackTestimony], base: str) -> list[Button]:
    return [
        Button(
            label="Download the photo"
            if r.kind == EvidenceKind.PHOTO
            else "Download the voice note",
            action=f"{COMMAND}.testimony_download",
            value=str(r.id),
            url=f"{base}{download_path(r.id)}",
        )
        for r in rows
    ]


NOT_FOUND_PAGE = PageRefusal(
    404,
    "We could not find that file",
    ["It may have been hidden, or it is not one you can see. Go back to the feedback point."],
)


async def download(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/feedback/testimony/{id}`: the file, as a download only, for the point's owners who
    may see it (see the module's note); anyone else is told it was not found (on the
    record)."""
    actor = request.actor
    assert actor is not None
    testimony_id = row_id(request.params["testimony_id"])
    turn = Turn(door=Door.WEB, actor=actor)
    async with services.db.session() as session:
        row = await session.get(FeedbackTestimony, testimony_id) if testimony_id else None
        entry = await session.get(FeedbackEntry, row.entry_id) if row else None
        point = await session.get(FeedbackPoint, entry.point_id) if entry else None
        allowed = False
        if row is not None and entry is not None and point is not None:
            where = await standing(session, turn, point)
            if where.looks_after and entry.hidden_at is None:
                allowed = may_see(row, provider=where.is_provider)
                beyond = point.organisation_id is None and point.agreement_id is not None
                if allowed and not where.is_provider and beyond:
                    shown = await session.scalar(
                        select(func.count())
                        .select_from(FeedbackEntry)
                        .where(
                            FeedbackEntry.point_id == point.id, FeedbackEntry.hidden_at.is_(None)
                        )
                    )
                    allowed = (shown or 0) >= services.settings.suppression_minimum
        if not allowed or row is None or point is None:
            await refuse(
                session,
                turn,
                point,
                "download testimony",
                "no such file" if row is None else "may not see it",
                testimony=testimony_id,
            )
            return NOT_FOUND_PAGE
        data = (
            await session.scalars(
                select(FeedbackTestimony.data).where(FeedbackTestimony.id == row.id)
            )
        ).one()
        await audit.record(
            session,
            "feedback.testimony_downloaded",
            actor_id=actor.person_id,
            door=Door.WEB,
            object_type="feedback_point",
            object_id=point.id,
            authority_id=point.authority_id,
            at=services.clock.now(),
            testimony=row.id,
        )
        name = f"feedback-{row.kind}-{row.id}.{row.extension}"
        return PageContent(
            title=name, data={}, body=bytes(data), content_type=row.content_type, download_name=name
        )


PAGES = (WebPage("/feedback/testimony/{testimony_id}", "file", download),)
