"""Neutral replies: what a handler says, before any door decides how it looks.

Renderers in `bot/` turn these into Block Kit, Adaptive Cards or HTML. They are
pydantic models so a reply can be queued in the outbox as JSON and rendered
later, on whichever door the person uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from bot.core.forms import Field as FormField

#: A command in a reply's words, kept as a marker until a door words it (see `command_ref`).
REF_OPEN, REF_SPLIT, REF_CLOSE = "\u27e6", "\u00a6", "\u27e7"
_REF = re.compile(
    f"{REF_OPEN}([^{REF_OPEN}{REF_SPLIT}{REF_CLOSE}]+){REF_SPLIT}([^{REF_OPEN}{REF_SPLIT}{REF_CLOSE}]+){REF_CLOSE}"
)
_SENTENCE_END = (".", "?", "!", "\n")


def command_ref(words: str, label: str) -> str:
    """A command, pointed at in a sentence: the only way a feature says "type <command>".

    Put it where the sentence says what to do: f"See the open ones: {command_ref(...)}."
    Chat doors word it "type `engagements update 4`" (Slack in code formatting); plain
    text (notifications, email) says "type engagements update 4"; the web, where there is
    nowhere to type, makes a link to the page that does it ("go to *label*"), or a button
    that posts it when the step changes things ("press *label*"). `label` names where the
    link goes, in words that make sense on their own ("the open engagements", "your
    profile"), since a screen reader may list the links of a page out of context.
    """
    for part in (words, label):
        if not part.strip() or any(c in part for c in (REF_OPEN, REF_SPLIT, REF_CLOSE, "\n")):
            raise ValueError(f"a command reference needs plain words and a label: {part!r}")
    return f"{REF_OPEN}{words.strip()}{REF_SPLIT}{label.strip()}{REF_CLOSE}"


@dataclass(frozen=True)
class CommandRef:
    """A command reference read back out of text, for a door to word."""

    words: str
    label: str
    #: It starts a sentence, so its first word takes a capital ("Type", "Go to").
    starts_sentence: bool


def split_refs(text: str) -> list[str | CommandRef]:
    """Text as plain pieces and the command references between them, in order."""
    pieces: list[str | CommandRef] = []
    at = 0
    for match in _REF.finditer(text):
        before = text[at : match.start()]
        if before:
            pieces.append(before)
        so_far = text[: match.start()].rstrip(" ")
        starts = not so_far or so_far.endswith(_SENTENCE_END)
        pieces.append(CommandRef(match.group(1), match.group(2), starts))
        at = match.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces


def has_refs(text: str | None) -> bool:
    return bool(text) and _REF.search(text or "") is not None


def capital(words: str, starts_sentence: bool) -> str:
    return words[:1].upper() + words[1:] if starts_sentence else words


def chat_words(text: str, code: Callable[[str], str] = lambda words: words) -> str:
    """Text with each command reference as chat says it: "type engagements update 4".
    `code` formats the command itself (Slack wraps it in backticks)."""
    if REF_OPEN not in text:
        return text
    return "".join(
        piece
        if isinstance(piece, str)
        else f"{capital('type', piece.starts_sentence)} {code(piece.words)}"
        for piece in split_refs(text)
    )


class Fact(BaseModel):
    """A label and a value, shown side by side ("Legal form: Charity").

    ``url``, when set, makes the value a link: a charity number opens its public register
    entry, so a commissioner can check it in one click on any door.
    """

    label: str
    value: str
    url: str | None = None


class Button(BaseModel):
    """A button that sends an action back (or opens a link when `url` is set)."""

    label: str
    action: str
    value: str = ""
    style: Literal["primary", "danger", "default"] = "default"
    url: str | None = None


class Section(BaseModel):
    heading: str | None = None
    text: str | None = None
    facts: list[Fact] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)


class Message(BaseModel):
    """Something to read, with optional sections and buttons."""

    kind: Literal["message"] = "message"
    title: str | None = None
    text: str | None = None
    sections: list[Section] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    who_sees: str | None = None

    def plain_text(self) -> str:
        """The whole message as text, for notifications, chat fallbacks and logs."""
        lines: list[str] = []
        if self.title:
            lines.append(self.title)
        if self.text:
            lines.append(self.text)
        for section in self.sections:
            if section.heading:
                lines.append(section.heading)
            if section.text:
                lines.append(section.text)
            lines.extend(f"{fact.label}: {fact.value}" for fact in section.facts)
        if self.who_sees:
            lines.append(self.who_sees)
        return chat_words("\n".join(lines))


class Notice(BaseModel):
    """A short confirmation, warning or error."""

    kind: Literal["notice"] = "notice"
    text: str
    level: Literal["info", "success", "warning", "error"] = "info"
    buttons: list[Button] = Field(default_factory=list)


class FormView(BaseModel):
    """One page of a form to fill in, with the person's current answers and any errors."""

    kind: Literal["form"] = "form"
    form_key: str
    form_version: int
    response_id: int
    title: str
    intro: str | None = None
    who_sees: str | None = None
    page_index: int
    page_count: int
    page_title: str
    page_intro: str | None = None
    fields: list[FormField]
    values: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)

    @property
    def is_last_page(self) -> bool:
        return self.page_index >= self.page_count - 1

    @property
    def progress(self) -> str:
        return f"Page {self.page_index + 1} of {self.page_count}"


class FileOffer(BaseModel):
    """A file a person can take (an export), described without saying how it is made.

    `ticket` is opaque to the doors: a door that can hand the file over itself (Slack
    uploads it to the person's direct messages) redeems it at the app's `FileDesk` (see
    bot/core/files.py); every door can show `url`, where a browser gets the file. The file
    is made when it is fetched, so `name` and `content_type` describe it, not its bytes.
    """

    kind: Literal["file"] = "file"
    name: str
    content_type: str
    ticket: str
    url: str
    title: str | None = None
    text: str | None = None
    label: str = "Download"
    #: The action a chat door reports if the person presses the link (Slack does).
    action: str = "file.open"
    who_sees: str | None = None

    def as_message(self) -> Message:
        """The offer as a message with a link button: how every door shows it."""
        return Message(
            title=self.title,
            text=self.text,
            buttons=[
                Button(
                    label=self.label,
                    action=self.action,
                    value=self.ticket,
                    url=self.url,
                    style="primary",
                )
            ],
            who_sees=self.who_sees,
        )


class FilterOption(BaseModel):
    value: str
    label: str


class Filter(BaseModel):
    name: str
    label: str
    options: list[FilterOption]
    selected: str = ""


class FilterBar(BaseModel):
    """Filters for a list (e.g. the directory); choosing one re-runs `command` with arguments."""

    kind: Literal["filters"] = "filters"
    command: str
    filters: list[Filter]


class ChartRow(BaseModel):
    """One bar of a chart and one row of the table beside it.

    `shown` is the value as words ("12", "fewer than 5"); `amount` is what the bar is drawn
    to, None when the number is hidden to protect a small group (no bar is drawn, and the
    number itself is not kept). `action` and `value`, when set, are the command that lists
    the rows behind the number, so every number links to its list on every door."""

    label: str
    shown: str
    amount: float | None = None
    action: str | None = None
    value: str = ""


class Chart(BaseModel):
    """A chart with its data: a title, a sentence saying what it shows, and the table it
    is drawn from, so a screen reader, a chat door or a printout gets the same numbers.

    `image_url` is the picture for the web (an SVG, usually a `data:` URL made on the
    server). `chat_image_url` is the seam for chat doors: a PNG of the same chart that
    Slack and Teams can show; until it is set they show the table as text."""

    kind: Literal["chart"] = "chart"
    #: Short and unique on its page ("interest-by-size"): the web names the figure by it.
    key: str
    title: str
    description: str
    label_heading: str = "What"
    value_heading: str = "Number"
    rows: list[ChartRow] = Field(default_factory=list)
    image_url: str | None = None
    chat_image_url: str | None = None
    note: str | None = None

    def as_message(self) -> Message:
        """The chart's table as a message: how a door without pictures shows it."""
        return Message(
            sections=[
                Section(
                    heading=self.title,
                    text="\n".join(t for t in (self.description, self.note) if t),
                    facts=[Fact(label=row.label, value=row.shown) for row in self.rows],
                    buttons=[
                        Button(
                            label=f"{row.label}: {row.shown}", action=row.action, value=row.value
                        )
                        for row in self.rows
                        if row.action
                    ],
                )
            ]
        )


Reply = Annotated[
    Message | Notice | FormView | FilterBar | FileOffer | Chart, Field(discriminator="kind")
]


class ReplyList(BaseModel):
    """What the outbox stores as a message's payload: replies, and how to deliver them.

    `op` is "post" (a new message) or "update" (replace the message `ref`, e.g. a Teams
    card, in place).
    """

    replies: list[Reply]
    op: Literal["post", "update"] = "post"
    ref: str | None = None


def plain_text(replies: list[Reply] | tuple[Reply, ...]) -> str:
    """Replies as plain text: notifications, screen-reader summaries, chat fallbacks."""
    parts: list[str] = []
    for reply in replies:
        if isinstance(reply, Message):
            parts.append(reply.plain_text())
        elif isinstance(reply, FileOffer | Chart):
            parts.append(reply.as_message().plain_text())
        elif isinstance(reply, Notice):
            parts.append(chat_words(reply.text))
        elif isinstance(reply, FormView):
            parts.append(f"{reply.title}: {reply.page_title}")
    return "\n".join(p for p in parts if p)


def file_offer_in(replies: Iterable[Reply]) -> FileOffer | None:
    """The first file offered in these replies, for doors that can send a file itself."""
    return next((r for r in replies if isinstance(r, FileOffer)), None)
