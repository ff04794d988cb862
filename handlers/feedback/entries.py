"""Reading feedback and answering it: `feedback show N` (the point, a summary, the entries),
`feedback hide REF reason` (moderation, on the record) and `feedback yousaid N` ("you said,
we did", shown on the point's public page).

The provider whose service it is sees every entry, as soon as it arrives, as a prompt for a
conversation. The council's team is beyond the service: it sees the summary and the entries
only once at least `CONVENE_SUPPRESSION_MINIMUM` people have answered, and "fewer than N"
until then. Hidden entries stay out of every view except the owners' note that they exist.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.feedback import chosen
from bot.core.feedback.questions import SCALE
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import number_at, words_of
from handlers.feedback import helped, testimony
from handlers.feedback.common import (
    COMMAND,
    NEVER_FOR,
    NotYours,
    Standing,
    base_of,
    load_for_owner,
    refuse,
)
from handlers.feedback.points import point_message
from handlers.forms import FormPurpose, Subject, form_step
from handlers.steps import Refused, refusal_replies
from storage import audit
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, FeedbackPost, PointState
from storage.models import FormResponse
from storage.testimony_tables import FeedbackTestimony
from storage.visibility import Refusal

#: Shown entries at most, newest day first; the rest are counted.
SHOWN_ENTRIES = 50
MAX_REASON = 500


def who_sees(where: Standing, minimum: int) -> str:
    return (
        "The provider whose service it is sees every answer first. The council's team sees "
        f"them once at least {minimum} people have answered. Nobody can see who wrote what. "
        + NEVER_FOR
    )


async def visible_entries(session: AsyncSession, point_id: int) -> list[FeedbackEntry]:
    return list(
        (
            await session.scalars(
                select(FeedbackEntry)
                .where(FeedbackEntry.point_id == point_id, FeedbackEntry.hidden_at.is_(None))
                .order_by(FeedbackEntry.given_on.desc(), FeedbackEntry.id)
            )
        ).all()
    )


def summary_section(point: FeedbackPoint, entries: list[FeedbackEntry]) -> Section:
    """How many chose each answer, per scale question."""
    lines = []
    for q in chosen(point.question_keys):
        if q.kind != "scale":
            continue
        counts = Counter(e.answers.get(q.key) for e in entries if e.answers.get(q.key))
        parts = [f"{p.label} {counts.get(p.value, 0)}" for p in SCALE]
        lines.append(f"{q.text} {', '.join(parts)}")
    return Section(heading=f"What {len(entries)} people said", text="\n".join(lines) or None)


def entry_section(
    point: FeedbackPoint,
    entry: FeedbackEntry,
    *,
    owner: bool,
    files: list[FeedbackTestimony] | None = None,
    base: str = "",
) -> Section:
    labels = {p.value: p.label for p in SCALE}
    lines = [
        f"{q.text} {labels.get(entry.answers.get(q.key, ''), 'No answer')}"
        for q in chosen(point.question_keys)
        if q.kind == "scale" and entry.answers.get(q.key)
    ]
    lines += [
        f"{q.text}\n{entry.comments[q.key]}"
        for q in chosen(point.question_keys)
        if q.kind == "text" and entry.comments.get(q.key)
    ]
    notes = []
    if entry.with_help:
        notes.append("given with help")
    if entry.safeguarding:
        notes.append("flagged to the safeguarding lead")
    lines += [testimony.file_words(f) for f in files or []]
    heading = format_date(entry.given_on) + (f" ({', '.join(notes)})" if notes else "")
    buttons = testimony.file_buttons(files or [], base)
    if owner:
        buttons.append(
            Button(
                label="Hide this",
                action=f"cmd.{COMMAND}",
                value=f"hide {entry.id}",
                style="danger",
            )
        )
    return Section(heading=heading, text="\n".join(lines), buttons=buttons)


async def show(turn: Turn, services: Services, point_id: int | None) -> list[Reply]:
    """`feedback show N`: the point's links, then what people said, as this person may see it."""
    minimum = services.settings.suppression_minimum
    async with services.db.session() as session:
        try:
            point, where = await load_for_owner(session, turn, point_id, "show")
        except NotYours as refusal:
            return refusal_replies(refusal)
        entries = await visible_entries(session, point.id)
        hidden = len(
            (
                await session.scalars(
                    select(FeedbackEntry.id).where(
                        FeedbackEntry.point_id == point.id,
                        FeedbackEntry.hidden_at.is_not(None),
                    )
                )
            ).all()
        )
        links = await point_message(session, turn, services, point, created=False)
        posts = await posts_of(session, point.id)
        files = await testimony.files_of(session, [e.id for e in entries[:SHOWN_ENTRIES]])
    replies: list[Reply] = [links]
    if point.state == PointState.OPEN:
        replies.append(helped.helper_message(turn, services, point))
    beyond = not where.is_provider and point.organisation_id is None and point.agreement_id
    if beyond and len(entries) < minimum:
        replies.append(
            Message(
                title=f"What people said: {point.service_name}",
                text=(
                    f"Fewer than {minimum} people have answered, so we show no details to the "
                    "council yet: with so few, someone could be picked out. The provider sees "
                    "them now, as a prompt to talk."
                    if entries
                    else "Nobody has answered yet."
                ),
                who_sees=who_sees(where, minimum),
            )
        )
    else:
        sections = [summary_section(point, entries)] if entries else []
        sections += [
            entry_section(
                point,
                e,
                owner=where.looks_after,
                files=[
                    f
                    for f in files.get(e.id, [])
                    if testimony.may_see(f, provider=where.is_provider)
                ],
                base=base_of(turn, services),
            )
            for e in entries[:SHOWN_ENTRIES]
        ]
        more = len(entries) - SHOWN_ENTRIES
        text = "Nobody has answered yet." if not entries else None
        if more > 0:
            text = f"The newest {SHOWN_ENTRIES} are shown; {more} more are in the summary."
        if hidden:
            text = (text + " " if text else "") + f"{hidden} hidden by moderation."
        replies.append(
            Message(
                title=f"What people said: {point.service_name}",
                text=text,
                sections=sections,
                buttons=[
                    Button(
                        label='Post "you said, we did"',
                        action=f"cmd.{COMMAND}",
                        value=f"yousaid {point.id}",
                    )
                ],
                who_sees=who_sees(where, minimum),
            )
        )
    if posts:
        replies.append(
            Message(
                title="You said, we did",
                sections=[
                    Section(heading=format_date(p.posted_at.astimezone(LONDON).date()), text=p.text)
                    for p in posts
                ],
                who_sees="Anyone who opens the feedback page can read these.",
            )
        )
    return replies


async def posts_of(session: AsyncSession, point_id: int) -> list[FeedbackPost]:
    return list(
        (
            await session.scalars(
                select(FeedbackPost)
                .where(FeedbackPost.point_id == point_id)
                .order_by(FeedbackPost.posted_at.desc(), FeedbackPost.id.desc())
            )
        ).all()
    )


# --- moderation ------------------------------------------------------------------------------


async def hide_entry(
    session: AsyncSession, turn: Turn, services: Services, ref: str, reason: str
) -> str:
    """Take an entry out of every view, with the reason, on the record; what to say. For
    the point's owners only (anyone else: "not found", on the record)."""
    entry = await session.get(FeedbackEntry, ref) if ref and len(ref) <= 32 else None
    if entry is None:
        await refuse(session, turn, None, "hide", "no such entry")
        raise NotYours(
            f"We couldn't find that answer. See your points: {command_ref('feedback', 'your feedback points')}."
        )
    point, _ = await load_for_owner(session, turn, entry.point_id, "hide", lock=True)
    if entry.hidden_at is not None:
        return "That answer is already hidden. Nothing changed."
    now = services.clock.now()
    entry.hidden_reason = reason[:MAX_REASON]
    entry.hidden_by = turn.actor.person_id if turn.actor else None
    entry.hidden_at = now
    await audit.record_turn(
        session,
        turn,
        "feedback.entry_hidden",
        object_type="feedback_entry",
        object_id=entry.id,
        authority_id=point.authority_id,
        organisation_id=point.organisation_id,
        reason=entry.hidden_reason,
        at=now,
    )
    return (
        "Hidden. Nobody sees that answer now, and the reason is on the record: "
        + entry.hidden_reason
    )


async def hide(turn: Turn, services: Services) -> list[Reply]:
    """`feedback hide REF why`: hide an answer at once. Without a reason (the web's button),
    a short form asks for one first."""
    words = words_of(turn)
    ref = words[1] if len(words) > 1 else str(turn.args.get("id", ""))
    reason = " ".join(words[2:]).strip() or str(turn.args.get("reason", "")).strip()
    if not reason:
        from handlers.forms import open_form

        return await open_form(turn, services, HIDE)
    async with services.db.session() as session:
        try:
            said = await hide_entry(session, turn, services, ref, reason)
        except Refused as refusal:
            return refusal_replies(refusal)
    return [Notice(text=said, level="success" if said.startswith("Hidden") else "info")]


class HideEntry(FormPurpose):
    """The reason for hiding an answer, asked when none was typed."""

    form_key = "feedback_hide"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        words = words_of(turn)
        ref = words[1] if len(words) > 1 else ""
        entry = await session.get(FeedbackEntry, ref) if ref and len(ref) <= 32 else None
        try:
            if entry is None:
                await refuse(session, turn, None, "hide", "no such entry")
                raise NotYours(
                    f"We couldn't find that answer. See your points: "
                    f"{command_ref('feedback', 'your feedback points')}."
                )
            await load_for_owner(session, turn, entry.point_id, "hide")
        except Refused as refusal:
            return Refusal(refusal.message)
        return Subject(None, None, topic=f"feedback:hide:{entry.id}")

    def resume(self, response: FormResponse) -> str:
        return f"hide {_ref_of(response)}"

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        reason = str(response.answers["reason"]).strip()
        said = await hide_entry(session, turn, services, _ref_of(response), reason)
        await session.delete(response)
        return [Notice(text=said, level="success")]


def _ref_of(response: FormResponse) -> str:
    parts = (response.topic or "").split(":")
    return parts[2] if len(parts) > 2 else ""


HIDE = HideEntry()


# --- you said, we did ------------------------------------------------------------------------


class YouSaid(FormPurpose):
    """A "you said, we did" post for a point's public page, by someone who looks after it."""

    form_key = "feedback_you_said"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            point, _ = await load_for_owner(session, turn, number_at(turn, 1), "you said")
        except Refused as refusal:
            return Refusal(refusal.message)
        return Subject(None, None, topic=f"feedback:yousaid:{point.id}")

    def resume(self, response: FormResponse) -> str:
        return f"yousaid {_point_of(response)}"

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        now = services.clock.now()
        point, _ = await load_for_owner(session, turn, _point_of(response), "you said")
        post = FeedbackPost(
            point_id=point.id,
            text=str(response.answers["text"]).strip(),
            posted_by=turn.actor.person_id,
            posted_at=now,
        )
        session.add(post)
        await session.flush()
        await audit.record_turn(
            session,
            turn,
            "feedback.you_said_we_did",
            object_type="feedback_point",
            object_id=point.id,
            authority_id=point.authority_id,
            organisation_id=point.organisation_id,
            at=now,
        )
        await session.delete(response)
        return [
            Notice(
                text=f"Posted on the feedback page for {point.service_name}. Anyone who "
                "opens it, or scans the poster's QR code, can read it now.",
                level="success",
            )
        ]


def _point_of(response: FormResponse) -> int | None:
    parts = (response.topic or "").split(":")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None


YOU_SAID = YouSaid()
you_said = form_step(YOU_SAID)
