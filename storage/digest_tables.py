"""Weekly digests of new opportunities: which week each person had one, and what was in it.

A digest is one message per person listing the open opportunities that fit them and that
they had not heard of. `opportunity_digests` holds one row per person per digest day (the
claim that makes building them again in the same week add nothing); each opportunity in it
is an `opportunity_digest_items` row, so the record shows who was told what, and when, as
`OpportunityAnnouncement` does for messages sent at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class OpportunityDigest(Base):
    """One person's weekly digest: the local day it was for and the outbox message."""

    __tablename__ = "opportunity_digests"
    __table_args__ = (UniqueConstraint("person_id", "week_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    #: The day, in the person's own time zone, the digest was for.
    week_of: Mapped[date]
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    opportunities: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpportunityDigestItem(Base):
    """One opportunity told to one person in a digest (never told twice)."""

    __tablename__ = "opportunity_digest_items"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    outbox_key: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
