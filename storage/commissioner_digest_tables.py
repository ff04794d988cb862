"""The day each commissioner's weekly digest goes (see handlers/dashboard/digest.py).

A commissioner with no row gets it on Monday; a row with no weekday has turned it off.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class CommissionerDigestDay(Base):
    """One commissioner's choice: the weekday (0 is Monday), or None for "don't send"."""

    __tablename__ = "commissioner_digest_days"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
