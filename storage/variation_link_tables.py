"""What variations need beyond their own rows (issue 15): which earlier variations a new
one is "one of a series" with, and the agreement's value and term as first agreed.

Links: s.75(4)-(5) of the Procurement Act 2023 adds a small change to the earlier changes it
"could reasonably have been made together" with; if together they would have needed a
contract change notice, this one does. That is a person's judgement, so it is asked on the
variation form and kept here, one row per (variation, earlier variation).

Originals: an approved variation writes its change to the agreement's current value and
end date (`agreements.value_pence`, `agreements.ends_on`). The limits of s.74 and s.75 are
percentages of the value and the longest term *on award*, so those are kept here, written
once, the first time a variation is approved.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import Pence


class VariationLink(Base):
    """This variation is one of a series with an earlier one of the same agreement."""

    __tablename__ = "agreement_variation_links"

    variation_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_variations.id", ondelete="CASCADE"), primary_key=True
    )
    linked_variation_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_variations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AgreementOriginal(Base):
    """An agreement's value and end date as first agreed, kept once it is varied."""

    __tablename__ = "agreement_originals"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    value_pence: Mapped[int | None] = mapped_column(Pence)
    ends_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
