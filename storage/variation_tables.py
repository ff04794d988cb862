"""Variations to an agreement (issue 15): a change either side asks for, the other side's
answer, and the council approvers' decision, each with its reasons, all kept.

`value_change_pence` and `term_change_days` are signed. A variation that gives a new end
date keeps it in `new_ends_on` and the days it moves the end in `term_change_days`. When
an approved variation needs a contract change notice (UK10, s.75), `change_notice_required`
is set until the team records the notice's identifier.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import Pence


class Side(StrEnum):
    """Who asked for a variation. The values are stored: never rename one."""

    COUNCIL = "council"
    PROVIDER = "provider"


class VariationState(StrEnum):
    """Where a variation is. The values are stored: never rename one."""

    #: Asked for; waiting for the other side.
    REQUESTED = "requested"
    #: The other side agreed; waiting for the council's approvers.
    AGREED = "agreed"
    #: The other side disagreed; the approvers may still reject it (not approve it).
    DISAGREED = "disagreed"
    APPROVED = "approved"
    REJECTED = "rejected"


class AgreementVariation(Base):
    """One requested change to an agreement, and what became of it."""

    __tablename__ = "agreement_variations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: A `Side` value.
    side: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: The provider organisation that asked, when a provider asked.
    requested_for_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    what_changes: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    value_change_pence: Mapped[int] = mapped_column(Pence, default=0)
    term_change_days: Mapped[int] = mapped_column(default=0)
    new_ends_on: Mapped[date | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    #: A `VariationState` value.
    state: Mapped[str] = mapped_column(String(16), default=VariationState.REQUESTED)
    #: The other side's answer: agreed (True) or disagreed (False); None until it answers.
    other_side_agreed: Mapped[bool | None]
    response_reason: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    change_notice_required: Mapped[bool] = mapped_column(default=False)
    change_notice_id: Mapped[str | None] = mapped_column(String(100))
    change_notice_recorded_at: Mapped[datetime | None]
    change_notice_recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
