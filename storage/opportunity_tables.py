"""Opportunities: the tables that show a council told every fitting provider the same thing
at the same moment, and what each provider said back.

An opportunity belongs to one authority. It is drafted, previewed, then published; at
publishing every provider whose service areas or areas served match is told at once (one
`OpportunityAnnouncement` per person or channel, tied to the outbox message that carried
it). Every amendment and a withdrawal go to everyone told plus everyone interested, and
are announcements too, so the record shows who heard what and when. Interest is one row
per organisation: names are for the council's team only, never for other providers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType, Pence


class OpportunityState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class InterestState(StrEnum):
    INTERESTED = "interested"
    WITHDRAWN = "withdrawn"


class AnnouncementKind(StrEnum):
    """Why a person was told: it was published, it changed, it was withdrawn, or its
    deadline is near (a reminder to those interested)."""

    PUBLISHED = "published"
    AMENDED = "amended"
    WITHDRAWN = "withdrawn"
    REMINDED = "reminded"
    #: A clarification (an answered question) sent to everyone taking part.
    CLARIFICATION = "clarification"


class Opportunity(Base):
    """A chance to bid for or be funded to do work: seed 002's figure ten, in plain words."""

    __tablename__ = "opportunities"
    __table_args__ = (Index("ix_opportunities_state", "state", "authority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Purpose
    purpose: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    needs_and_strengths: Mapped[str | None] = mapped_column(Text)
    funding_sources: Mapped[str | None] = mapped_column(Text)
    # Requirement
    outcomes: Mapped[str | None] = mapped_column(Text)
    people_served: Mapped[str | None] = mapped_column(Text)
    standards_and_duties: Mapped[str | None] = mapped_column(Text)
    #: Kinds of work (the profile's service list), matched against providers' service areas.
    service_areas: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Common Procurement Vocabulary codes; filled by the CPV picker once it exists.
    cpv_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: ONS GSS codes of the places it covers; empty means everywhere the council covers.
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)
    value_min_pence: Mapped[int | None] = mapped_column(Pence)
    value_max_pence: Mapped[int | None] = mapped_column(Pence)
    payment_model: Mapped[str | None] = mapped_column(String(40))
    length_months: Mapped[int | None]
    extensions: Mapped[str | None] = mapped_column(Text)
    #: Whether staff may move to the new provider (TUPE): a yes / no / not sure key.
    tupe: Mapped[str | None] = mapped_column(String(16))
    pensions: Mapped[str | None] = mapped_column(Text)
    assets: Mapped[str | None] = mapped_column(Text)
    # Process
    timeline: Mapped[str | None] = mapped_column(Text)
    how_to_submit: Mapped[str | None] = mapped_column(Text)
    clarification_process: Mapped[str | None] = mapped_column(Text)
    assessment_criteria: Mapped[str | None] = mapped_column(Text)
    #: Weights in per cent. Quality first by default; never price-led by default.
    quality_weight: Mapped[int] = mapped_column(default=70)
    price_weight: Mapped[int] = mapped_column(default=20)
    social_value_weight: Mapped[int] = mapped_column(default=10)
    pass_fail_criteria: Mapped[str | None] = mapped_column(Text)
    contacts: Mapped[str | None] = mapped_column(Text)
    submission_formats: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notice_links: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The route key (rules live in the legal data, chosen by procurement start date).
    route: Mapped[str | None] = mapped_column(String(40))
    procurement_starts_on: Mapped[date | None]
    submission_deadline: Mapped[datetime | None]
    clarification_deadline: Mapped[datetime | None]
    #: A briefing event for providers, if there is one: when, and where or how to join.
    briefing_at: Mapped[datetime | None]
    briefing_where: Mapped[str | None] = mapped_column(Text)
    partners_wanted: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default=OpportunityState.DRAFT)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    #: The pre-market engagement it came from, if any. Publishing it closes that
    #: engagement's private conversations (Procurement Act 2023 s.16: equal treatment
    #: once the tender is out). An engagement id, checked against the team's own engagements
    #: when set; not a database foreign key, because adding one to this table on SQLite
    #: copies it, and dropping the old copy cascades into every lot, interest and
    #: announcement. Engagements are never deleted, and a missing one is read as none.
    engagement_id: Mapped[int | None] = mapped_column(index=True)


class OpportunityLot(Base):
    """One part of an opportunity that can be bid for on its own."""

    __tablename__ = "opportunity_lots"
    __table_args__ = (UniqueConstraint("opportunity_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    value_min_pence: Mapped[int | None] = mapped_column(Pence)
    value_max_pence: Mapped[int | None] = mapped_column(Pence)
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)


class OpportunityInterest(Base):
    """An organisation saying it is interested (or no longer). One row per organisation."""

    __tablename__ = "opportunity_interest"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=InterestState.INTERESTED)
    registered_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class OpportunityFollower(Base):
    """A person following an opportunity: they hear every change and answered question,
    without saying their organisation is interested. Nobody else sees who follows."""

    __tablename__ = "opportunity_followers"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    followed_at: Mapped[datetime]


class OpportunityAmendment(Base):
    """What changed after publishing, in words, by whom and when (sent to everyone)."""

    __tablename__ = "opportunity_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    what_changed: Mapped[str] = mapped_column(Text)
    old_deadline: Mapped[datetime | None]
    new_deadline: Mapped[datetime | None]
    made_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    made_at: Mapped[datetime]


class OpportunityAnnouncement(Base):
    """One message about an opportunity to one person (or one channel post), and the outbox
    message carrying it, like `EngagementInvitation`."""

    __tablename__ = "opportunity_announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default=AnnouncementKind.PUBLISHED)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    door: Mapped[str] = mapped_column(String(16))
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
