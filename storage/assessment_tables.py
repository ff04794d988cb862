"""Contract performance assessments (Procurement Act 2023 s.71) and the ending of an
agreement (s.80), issue 15.

An assessment is the team's: a draft of a rating and a note for each of the agreement's
KPIs, shared with the provider first, then decided by a named person with a reason. It is
never drafted from check-in answers: these ratings can lead to a supplier's exclusion.
An ending says when and why an agreement ended, and keeps the contract termination
notice's identifier once the team records it. Only the council's team and the
agreement's own parties see either.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class AssessmentState(StrEnum):
    """The values are stored: never rename one."""

    #: Saved by the team; nobody else sees it yet.
    DRAFT = "draft"
    #: Shown to the provider, who may respond until `respond_by`.
    SHARED = "shared"
    #: Decided by a named person of the team.
    FINAL = "final"


class EndReason(StrEnum):
    """Why an agreement ended. The values are stored: never rename one."""

    EXPIRED = "expired"
    TERMINATED_EARLY = "terminated_early"
    COMPLETED = "completed"


class PerformanceAssessment(Base):
    """One assessment of an agreement's performance against its KPIs."""

    __tablename__ = "performance_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: An `AssessmentState` value.
    state: Mapped[str] = mapped_column(String(16), default=AssessmentState.DRAFT)
    #: The assessment owed when the agreement ends (s.71), not a yearly one.
    on_termination: Mapped[bool] = mapped_column(default=False)
    #: Whether s.71 made it a duty (so a contract performance notice follows).
    required_by_law: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str | None] = mapped_column(Text)
    drafted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    shared_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime | None]
    #: The last day the provider may respond before the team decides.
    respond_by: Mapped[date | None]
    provider_response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    #: Whether a contract performance notice (UK9) must be published, and by when.
    notice_required: Mapped[bool] = mapped_column(default=False)
    notice_due_on: Mapped[date | None]
    notice_id: Mapped[str | None] = mapped_column(String(100))
    notice_recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    notice_recorded_at: Mapped[datetime | None]


class AssessmentRating(Base):
    """The rating and note given for one KPI in an assessment (the KPI's words are kept, so
    a later change to the KPIs leaves the record as it was decided)."""

    __tablename__ = "performance_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("performance_assessments.id", ondelete="CASCADE"), index=True
    )
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_kpis.id", ondelete="SET NULL"))
    position: Mapped[int]
    kpi_name: Mapped[str] = mapped_column(String(200))
    kpi_target: Mapped[str | None] = mapped_column(Text)
    #: A `bot.core.law.performance.Rating` value.
    rating: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)


class AgreementEnding(Base):
    """How and when an agreement ended (one per agreement)."""

    __tablename__ = "agreement_endings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), unique=True
    )
    ended_on: Mapped[date]
    #: An `EndReason` value.
    reason: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str | None] = mapped_column(Text)
    #: The end date the agreement had before it was ended.
    planned_ends_on: Mapped[date]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Whether a contract termination notice (UK11, s.80) must be published, and by when.
    notice_required: Mapped[bool] = mapped_column(default=False)
    notice_due_on: Mapped[date | None]
    notice_id: Mapped[str | None] = mapped_column(String(100))
    notice_recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    notice_recorded_at: Mapped[datetime | None]
