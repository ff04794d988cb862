"""Outcomes frameworks (issue 15): per agreement, the outcomes (the change that matters),
each outcome's indicators, and the outputs (counts of activity), kept as separate kinds.

Nothing here changes except through a proposal that the other side accepted: either side
(the council's team, or a member of a provider party) proposes adding, changing or removing
one item; the other side accepts or declines it with a reason. Every proposal and decision
stays on the record, with who and when, and with the words as they were, so the record
still reads when the item itself has gone.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ItemKind(StrEnum):
    """What an item of a framework is. The values are stored: never rename one."""

    OUTCOME = "outcome"
    INDICATOR = "indicator"
    OUTPUT = "output"


class ProposalAction(StrEnum):
    """What a proposal would do. The values are stored: never rename one."""

    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"


class ProposalStatus(StrEnum):
    """Where a proposal is. The values are stored: never rename one."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Side(StrEnum):
    """Which side of the agreement someone acted for. The values are stored."""

    TEAM = "team"
    PROVIDER = "provider"


class OutcomeItem(Base):
    """One agreed outcome, indicator (of an outcome) or output of an agreement."""

    __tablename__ = "outcome_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: An `ItemKind` value.
    kind: Mapped[str] = mapped_column(String(16))
    #: An indicator's outcome (removing the outcome removes its indicators).
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcome_items.id", ondelete="CASCADE"), index=True
    )
    #: Its order among its kind (and, for indicators, within its outcome).
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutcomeProposal(Base):
    """One proposed change to a framework, and the other side's decision on it."""

    __tablename__ = "outcome_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: A `ProposalAction` value.
    action: Mapped[str] = mapped_column(String(16))
    #: An `ItemKind` value.
    kind: Mapped[str] = mapped_column(String(16))
    #: The item changed or removed (empty once that item has gone).
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcome_items.id", ondelete="SET NULL"), index=True
    )
    #: For a new indicator: the outcome it belongs to.
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcome_items.id", ondelete="SET NULL"), index=True
    )
    #: The proposed words (none for a removal).
    text: Mapped[str | None] = mapped_column(Text)
    #: The item's words when proposed (a change or removal), kept for the record.
    was_text: Mapped[str | None] = mapped_column(Text)
    #: A `ProposalStatus` value.
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING)
    #: A `Side` value: who proposed it.
    proposed_side: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)
