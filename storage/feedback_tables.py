"""Feedback points and what people who use services tell them (issue 16).

A feedback point belongs to an agreement, an engagement or a provider's named service. Its
link (a short unguessable slug) and QR code open a public page that needs no account.

A feedback entry is anonymous by construction: it has no name, no address, no IP address
or browser, no link to a person, and only the day it was given (never a time). Its id is
random, so ids do not give away the order entries came in. Free text is kept only after
`bot.core.feedback.scrub` has taken out phone numbers, email addresses and postcodes; the
original is never stored. Moderation (hiding with a reason) is on the entry and on the
record, and records who hid it: the moderator is staff, not the person who wrote it.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType

#: The letters of a short code: no look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, U/V), capitals only,
#: so a code read off a poster or an SMS can be typed in any case on any phone.
SHORT_CODE_ALPHABET = "346789ABCDEFGHJKMNPQRTWXY"
SHORT_CODE_LENGTH = 6


def new_short_code() -> str:
    """A random short code: 25 letters, 6 of them, about 244 million codes."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def read_short_code(typed: str) -> str | None:
    """What someone typed, as a code to look up (any case, spaces and dashes ignored), or
    None when it cannot be one."""
    code = typed.replace(" ", "").replace("-", "").upper()
    if len(code) != SHORT_CODE_LENGTH or any(c not in SHORT_CODE_ALPHABET for c in code):
        return None
    return code


class PointState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class FeedbackPoint(Base):
    """Somewhere people who use a service can tell us what they think of it."""

    __tablename__ = "feedback_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The short unguessable part of the link (`/f/<slug>`) and the QR code.
    slug: Mapped[str] = mapped_column(String(24), unique=True)
    #: The short link's code (`/s/<code>`), easy to type from an SMS or a poster. Made with
    #: the point and backfilled by migration 0032; empty only for a row written by hand.
    short_code: Mapped[str | None] = mapped_column(
        String(SHORT_CODE_LENGTH), unique=True, default=new_short_code
    )
    #: The service's name as people know it, for the page and the poster.
    service_name: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16), default=PointState.OPEN)
    #: Keys of `bot.core.feedback.BANK`, in the order asked.
    question_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: What it is for: one of an agreement, an engagement, or an organisation's own service.
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    #: The provider whose service it is (for a service point; for an agreement, its parties).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    #: The council whose agreement or engagement it is, if any.
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    #: The Convene person told at once when an entry looks like someone telling us of harm.
    safeguarding_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class FeedbackEntry(Base):
    """What one person said at a feedback point. See the module's note: nothing here can
    lead back to them."""

    __tablename__ = "feedback_entries"

    #: Random (`secrets.token_hex`), never a sequence.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_points.id", ondelete="CASCADE"), index=True
    )
    #: The day only, in the council's time zone.
    given_on: Mapped[date] = mapped_column(Date)
    #: Question key -> a scale value (`bot.core.feedback.questions.SCALE`).
    answers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    #: Question key -> the written answer, already scrubbed of personal details.
    comments: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    #: A support worker entered it with, or for, the person.
    with_help: Mapped[bool] = mapped_column(default=False)
    #: The words looked like someone telling us about harm; the safeguarding lead was told.
    safeguarding: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None]


class FeedbackPost(Base):
    """A "you said, we did" post: what changed because of the feedback, shown on the
    point's public page."""

    __tablename__ = "feedback_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_points.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
