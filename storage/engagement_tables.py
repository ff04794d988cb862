"""Pre-market engagement: the tables that show an engagement was open, equal and on the record.

An engagement belongs to one authority. Publishing it invites every matching provider at
the same moment (one `EngagementInvitation` per person, each tied to the outbox message
that carried it, so the record can show when each was delivered). Clarifications and
updates go to every participant at once and never name the asker. Feedback rows carry
no person, no organisation and no time, so nothing in the database links a comment to
whoever wrote it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# Clarifications are shared with opportunities (storage/clarification_tables.py).
from storage.clarification_tables import Clarification as Clarification
from storage.clarification_tables import ClarificationKind as ClarificationKind
from storage.models import Base, utcnow
from storage.types import JSONType


class EngagementState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Engagement(Base):
    """A conversation with the local sector before anything is designed or tendered."""

    __tablename__ = "engagements"
    __table_args__ = (Index("ix_engagements_state", "state", "authority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    outcomes: Mapped[str | None] = mapped_column(Text)
    service_area: Mapped[str | None] = mapped_column(String(80))
    #: ONS GSS codes of the places it covers; empty means everywhere the council covers.
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)
    budget_pence: Mapped[int | None]
    timeline: Mapped[str | None] = mapped_column(Text)
    funding_routes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    closes_at: Mapped[datetime]
    confidentiality: Mapped[str] = mapped_column(Text)
    #: Which of the default questions to ask, which must be answered, and the council's own.
    question_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    must_answer: Mapped[list[str]] = mapped_column(JSONType, default=list)
    own_questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The question set providers answer, frozen as a form definition when published.
    form_key: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(16), default=EngagementState.DRAFT)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    you_said_we_did: Mapped[str | None] = mapped_column(Text)
    you_said_at: Mapped[datetime | None]
    #: What a preliminary market engagement notice (UK2, Procurement Act 2023 s.17) needs:
    #: the Find a Tender unique identifier once known (it can be added after publishing),
    #: whether the contract is likely above threshold (a `Threshold` value), and the route.
    procurement_reference: Mapped[str | None] = mapped_column(String(100))
    above_threshold: Mapped[str | None] = mapped_column(String(16))
    intended_route: Mapped[str | None] = mapped_column(String(40))


class Threshold(StrEnum):
    """Whether the eventual contract is likely above the procurement threshold. Only above
    it does s.17 ask for a UK2 notice before the tender notice (or reasons in it)."""

    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class EngagementParticipant(Base):
    """An organisation taking part: invited when published (it matched) or joined itself."""

    __tablename__ = "engagement_participants"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]


class EngagementInvitation(Base):
    """One invitation to one person (or one channel post), and the outbox message carrying it."""

    __tablename__ = "engagement_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    door: Mapped[str] = mapped_column(String(16))
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EngagementEvent(Base):
    """A workshop, drop-in or webinar, with a capacity and a waiting list."""

    __tablename__ = "engagement_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BookingState(StrEnum):
    BOOKED = "booked"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class EventBooking(Base):
    """A place at an event, or a place on its waiting list."""

    __tablename__ = "event_bookings"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("engagement_events.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attended: Mapped[bool | None]


class MeetingState(StrEnum):
    REQUESTED = "requested"
    PROPOSED = "proposed"
    AGREED = "agreed"
    #: Closed before it happened: the tender it led to was published (s.16).
    CANCELLED = "cancelled"


class MeetingRequest(Base):
    """A provider asking to talk privately, away from competitors."""

    __tablename__ = "meeting_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    topic: Mapped[str | None] = mapped_column(Text)
    how: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16), default=MeetingState.REQUESTED)
    proposed: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    agreed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The team's record of the conversation, written after it: private to the team (and
    #: audit), so a private talk still leaves a record that the engagement was equal.
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    notes_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    notes_at: Mapped[datetime | None]


class ConflictDeclaration(Base):
    """One commissioning team member's conflict-of-interest declaration for one engagement
    (Procurement Act 2023 ss.81-83). What it says is for the team only; the record and
    providers only ever learn that declarations were made."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("engagement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    has_conflict: Mapped[bool]
    what: Mapped[str | None] = mapped_column(Text)
    how_managed: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime]


class EngagementFeedback(Base):
    """Anonymous feedback. Deliberately no person, organisation, time or sequential id."""

    __tablename__ = "engagement_feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    engagement_rating: Mapped[int | None]
    engagement_comment: Mapped[str | None] = mapped_column(Text)
    process_rating: Mapped[int | None]
    process_comment: Mapped[str | None] = mapped_column(Text)


class FeedbackGiven(Base):
    """That a person has given feedback (so they are asked once), never what they said."""

    __tablename__ = "feedback_given"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )


class AuthorityChannel(Base):
    """A Slack or Teams channel where an authority wants its open invitations posted too."""

    __tablename__ = "authority_channels"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
