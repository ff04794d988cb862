"""Check-in conversations (issue 15): what the team and the reporting organisation say to
each other after a check-in, the calls they arrange, the indicator values each check-in
gave, and who on the team opened an indicator (for the burden meter).

Only the commissioning team and the organisation that reports (the sole provider, or a
consortium's lead) ever see these rows: the monitoring steps check that before reading.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType


class CallState(StrEnum):
    """The values are stored: never rename one."""

    OFFERED = "offered"
    AGREED = "agreed"
    NONE_SUIT = "none_suit"


class CheckinMessage(Base):
    """One message on a check-in's thread, from the team or the reporting organisation."""

    __tablename__ = "checkin_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_checkins.id", ondelete="CASCADE"), index=True
    )
    #: A `storage.monitoring_tables.Side` value: who wrote it.
    side: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckinCall(Base):
    """A call the team offered after a check-in: one to three times, then the provider's
    pick (or that none suit, with a note)."""

    __tablename__ = "checkin_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_checkins.id", ondelete="CASCADE"), index=True
    )
    offered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The times offered, as ISO date-times with their offset.
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: A `CallState` value.
    state: Mapped[str] = mapped_column(String(16), default=CallState.OFFERED)
    agreed_for: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class IndicatorValue(Base):
    """The value the reporting organisation gave for one indicator in one check-in."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_checkins.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("outcome_items.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndicatorOpened(Base):
    """Someone on the team opened an indicator's values: who and when (the burden meter
    asks which indicators nobody has opened in a year)."""

    __tablename__ = "indicator_opens"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("outcome_items.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
