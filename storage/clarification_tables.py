"""Clarifications, shared by engagements and opportunities: a question a provider asked
(answered for everyone at once, never naming the asker), or an update the council posted.

Each row is about exactly one subject: an engagement or an opportunity (a check constraint
says so). `About` names the subject for the shared queries and the shared steps
(`handlers/clarifications.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ClarificationKind(StrEnum):
    QUESTION = "question"
    UPDATE = "update"


class Audience(StrEnum):
    """Who an answer went to: everyone taking part (the rule), or only the asker's
    organisation, when the question was genuinely about them alone (with the reason kept)."""

    EVERYONE = "everyone"
    ASKER = "asker"


class Clarification(Base):
    """A question a provider asked (answered for everyone), or an update the council posted.

    Who asked is kept for the commissioning team only; what is published never names them.
    """

    __tablename__ = "clarifications"
    __table_args__ = (
        CheckConstraint("(engagement_id IS NULL) <> (opportunity_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str | None] = mapped_column(Text)
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    asked_for: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: When the answer (or update) went out, to everyone or, for a private answer, the asker.
    published_at: Mapped[datetime | None]
    #: The question as the provider asked it, kept when the team edited it to keep the asker
    #: anonymous (None when published as asked). Team and audit only; never published.
    original_question: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(
        String(16), default=Audience.EVERYONE, server_default=Audience.EVERYONE.value
    )
    #: Why an answer went only to the asker (the team's words, on the record).
    private_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def edited_for_anonymity(self) -> bool:
        return self.original_question is not None

    @property
    def answered_privately(self) -> bool:
        return self.audience == Audience.ASKER


@dataclass(frozen=True)
class About:
    """What a clarification is about: one engagement or one opportunity."""

    kind: Literal["engagement", "opportunity"]
    id: int

    def condition(self) -> ColumnElement[bool]:
        column = (
            Clarification.engagement_id
            if self.kind == "engagement"
            else Clarification.opportunity_id
        )
        return column == self.id

    def columns(self) -> dict[str, Any]:
        """The subject's column, for a new row (and for the audit record)."""
        return {f"{self.kind}_id": self.id}
