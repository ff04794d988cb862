"""Each person's notification preferences (see `bot.core.quiet_hours`).

A person with no row has the defaults: new opportunities at once, 8am to 8pm.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.quiet_hours import DAY_ENDS, DAY_STARTS, HowOften
from storage.models import Base, utcnow


class NotificationPreference(Base):
    """How and when one person hears from Convene."""

    __tablename__ = "notification_preferences"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    opportunities: Mapped[str] = mapped_column(String(16), default=HowOften.IMMEDIATELY)
    digest_weekday: Mapped[int] = mapped_column(SmallInteger, default=0)
    quiet_hours: Mapped[bool] = mapped_column(default=True)
    day_starts: Mapped[time] = mapped_column(default=DAY_STARTS)
    day_ends: Mapped[time] = mapped_column(default=DAY_ENDS)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
