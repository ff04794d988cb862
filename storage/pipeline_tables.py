"""The pipeline (what a council plans to fund or buy in the coming months) and grants awarded.

A `PipelineEntry` is one planned opportunity: rough words and figures, the route it is
expected to take, and when it is expected to be published and to start. Providers see an
entry only after the team publishes the pipeline (`published_at`), and only while its
publication date is within the pipeline window (18 months, from the legal data). Each
"publish pipeline" is a `PipelinePublication`, so the record shows what was shown and when.

A `GrantAward` is a grant given to one organisation from a grant-route opportunity: the
amount, the day, and who recorded it. The 360Giving files are made from these rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType


class PipelineEntry(Base):
    """One planned opportunity in a council's pipeline."""

    __tablename__ = "pipeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    value_min_pence: Mapped[int | None]
    value_max_pence: Mapped[int | None]
    #: A `bot.core.law.Route` key, or None when not decided yet.
    route: Mapped[str | None] = mapped_column(String(40))
    #: When the council expects to publish the tender or grant round.
    publication_on: Mapped[date]
    #: When the council expects the contract or grant to start.
    contract_start_on: Mapped[date | None]
    #: ONS GSS codes; empty means everywhere the council covers.
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cpv_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Set when the team publishes the pipeline with this entry in it.
    published_at: Mapped[datetime | None]
    #: The draft opportunity made from this entry, once the team makes one.
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PipelinePublication(Base):
    """One time a team published its pipeline as advance notice to providers."""

    __tablename__ = "pipeline_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    published_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    entries: Mapped[int]


class GrantAward(Base):
    """A grant from a grant-route opportunity to one organisation (one row each)."""

    __tablename__ = "grant_awards"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    amount_pence: Mapped[int]
    awarded_on: Mapped[date]
    awarded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
