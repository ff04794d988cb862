"""Monitoring plans and check-ins (issue 15): what both sides of an agreement agreed about
how it is monitored, each check-in sent under it, and a person's "away until" date.

A plan is proposed by one side (the council's team or a provider party) and agreed when the
other side accepts it. Check-ins are only scheduled for an agreed plan. A check-in goes to
the organisation that reports (the sole provider, or a consortium's lead only) and its
answers are seen by the team and that organisation, never by other providers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType


class PlanState(StrEnum):
    """The values are stored: never rename one."""

    PROPOSED = "proposed"
    AGREED = "agreed"


class Side(StrEnum):
    """Who proposed or accepted a plan. The values are stored: never rename one."""

    TEAM = "team"
    PROVIDER = "provider"


class MonitoringPlanRow(Base):
    """One agreement's monitoring plan (one per agreement; a new proposal replaces it)."""

    __tablename__ = "monitoring_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), unique=True
    )
    #: A `PlanState` value.
    state: Mapped[str] = mapped_column(String(16))
    #: A `bot.core.monitoring.Frequency` value, or None when dates were chosen.
    frequency: Mapped[str | None] = mapped_column(String(20))
    every_weeks: Mapped[int | None]
    #: Chosen dates, "YYYY-MM-DD", when there is no frequency.
    dates: Mapped[list[str]] = mapped_column(JSONType, default=list)
    method: Mapped[str] = mapped_column(Text)
    #: Keys of the chosen questions, in order (see handlers/agreements/monitoring.py).
    questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    rag: Mapped[bool] = mapped_column(default=False)
    #: The reporting timeline in words ("within 10 working days of each check-in").
    timeline: Mapped[str | None] = mapped_column(Text)
    #: Targets where relevant, in words ("40 young people a week by June").
    targets: Mapped[str | None] = mapped_column(Text)
    #: A `Side` value.
    proposed_by_side: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]


class CheckinRow(Base):
    """One check-in sent to the reporting organisation, and its answer when it comes."""

    __tablename__ = "monitoring_checkins"
    __table_args__ = (
        # The dashboard's due and overdue counts: for each agreement, the unanswered
        # check-ins (answered_at IS NULL) in order of due date, without reading the
        # answered ones (years of them).
        Index("ix_monitoring_checkins_unanswered", "agreement_id", "answered_at", "due_on"),
        # Each agreement's latest check-in (its RAG colour): read backwards from the
        # newest due date, usually one row.
        Index("ix_monitoring_checkins_latest", "agreement_id", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("monitoring_plans.id", ondelete="CASCADE"))
    #: The organisation asked (the sole provider or the consortium's lead).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    due_on: Mapped[date]
    sent_at: Mapped[datetime]
    questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: "red", "amber" or "green", only when the plan has a RAG rating.
    rag: Mapped[str | None] = mapped_column(String(8))
    #: Minutes from opening the check-in to sending the answer (the burden meter).
    minutes_spent: Mapped[int | None]
    team_told_at: Mapped[datetime | None]


class AwayUntil(Base):
    """A person's "away until" date: chases for their check-ins wait until after it."""

    __tablename__ = "monitoring_away"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    away_until: Mapped[date]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
