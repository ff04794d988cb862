"""A `Turn`: one thing a person did, on any door, in platform-neutral terms.

Doors (Slack, Teams, web) turn their payloads into a `Turn`; handlers never see a
platform type. A turn carries exactly one of: text (a command or a chat answer),
an action (a button), or a form submission.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.clock import LONDON
from bot.core.enums import Door, Role

__all__ = [
    "Action",
    "Actor",
    "Attachment",
    "AttachmentProblem",
    "Door",
    "Grant",
    "Intent",
    "Submission",
    "Turn",
    "parse_command",
]


@dataclass(frozen=True)
class Grant:
    """One role held by a person, in an organisation or an authority."""

    role: Role
    organisation_id: int | None = None
    authority_id: int | None = None


@dataclass(frozen=True)
class Actor:
    """The person behind a turn, with the roles that decide what they may see and do."""

    person_id: int
    name: str
    timezone: ZoneInfo = LONDON
    grants: tuple[Grant, ...] = ()
    email: str | None = None

    def member_of(self) -> set[int]:
        return {
            g.organisation_id
            for g in self.grants
            if g.organisation_id is not None
            and g.role in (Role.PROVIDER_MEMBER, Role.PROVIDER_ADMIN)
        }

    def admin_of(self) -> set[int]:
        return {
            g.organisation_id
            for g in self.grants
            if g.organisation_id is not None and g.role == Role.PROVIDER_ADMIN
        }

    def commissioner_for(self) -> set[int]:
        return {
            g.authority_id
            for g in self.grants
            if g.authority_id is not None and g.role == Role.COMMISSIONER
        }

    @property
    def is_commissioner(self) -> bool:
        return bool(self.commissioner_for())

    @property
    def is_admin(self) -> bool:
        return any(g.role == Role.ADMIN for g in self.grants)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class Intent(StrEnum):
    """What the person asked for when they sent a form page."""

    NEXT = "next"
    BACK = "back"
    SAVE = "save"
    SUBMIT = "submit"


@dataclass(frozen=True)
class Action:
    """A button press. `id` names the action (e.g. `profile.edit`); `value` carries its argument."""

    id: str
    value: str = ""

    @property
    def number(self) -> int | None:
        """The value as a row id (buttons carry ids as text), or None if it isn't one.

        Row ids are positive and fit the databases' integer column; a bigger number from a
        forged button would only make the database fail, so it is no id at all."""
        return row_id(self.value)


#: The largest row id: PostgreSQL's `integer` (and so every id Convene hands out).
MAX_ROW_ID = 2**31 - 1


def row_id(text: str | None) -> int | None:
    """`text` as a row id, or None when it is not a whole number from 1 to `MAX_ROW_ID`."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None


@dataclass(frozen=True)
class Submission:
    """A page of a form, sent from a web form, a Slack modal or a Teams card."""

    response_id: int
    page: int
    values: Mapping[str, str | list[str]]
    intent: Intent = Intent.NEXT


class AttachmentProblem(StrEnum):
    """Why a door could not hand over a file the person sent; the feature words the reply."""

    TOO_BIG = "too_big"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Attachment:
    """A file the person sent with their turn: a Slack file, a Teams attachment, a web upload.

    The door has already fetched the bytes (refusing anything over the size limit before
    fetching it, and saying so in `problem` with no bytes). The name and type are only what
    the sender claimed: features check the bytes themselves before keeping anything."""

    filename: str
    content_type: str
    data: bytes = b""
    problem: AttachmentProblem | None = None


@dataclass(frozen=True)
class Turn:
    """One thing a person did. `conversation` identifies the chat (or `web`) for chat-mode state."""

    door: Door
    actor: Actor | None
    conversation: str = "web"
    text: str | None = None
    action: Action | None = None
    submission: Submission | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    prefers_chat: bool = False
    #: Files sent with the turn (a chat message with a file, a web form with an upload).
    attachments: tuple[Attachment, ...] = ()
    #: Other people read this conversation (a Teams channel or group chat), so commands
    #: whose answers are private are not answered here (see `Command.private`).
    shared: bool = False

    @property
    def wants_chat(self) -> bool:
        """Questions one at a time in chat: the door can't show forms, or the person asked."""
        if self.prefers_chat:
            return True
        words, _ = parse_command(self.text or "")
        return "chat" in words[1:]

    @property
    def command(self) -> str | None:
        """The first word of the text, lower-cased: what the person asked for."""
        if not self.text:
            return None
        words, _ = parse_command(self.text)
        return words[0] if words else None


QUOTING = ("'", '"', "\\")


def parse_command(text: str) -> tuple[list[str], dict[str, str]]:
    """Split `directory service=youth area="North Ward"` into words and key=value arguments."""
    if any(mark in text for mark in QUOTING):
        try:
            parts = shlex.split(text.strip())
        except ValueError:
            parts = text.strip().split()
    else:  # the usual case, and exactly what shlex gives without quotes, for a fraction the cost
        parts = text.split()
    words: list[str] = []
    args: dict[str, str] = {}
    for part in parts:
        if "=" in part and not part.startswith("="):
            key, _, value = part.partition("=")
            args[key.strip().lower()] = value.strip()
        else:
            words.append(part.lower())
    return words, args
