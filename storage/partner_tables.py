"""Finding partners for an opportunity: "looking for partners" posts, introductions that
need both sides' yes before names are shared, and the consortium they record.

A post belongs to one organisation and one opportunity. Other providers the opportunity
fits see it without the poster's name. An introduction is one pair of organisations on one
opportunity (stored lowest id first, so a pair is one row however it was asked): it starts
when a provider says "we'd like to talk" about a post (its own side says yes at once) or
when a local infrastructure organisation (a CVS) suggests it (nobody has said yes yet).
Names and contact details are shown only once both sides have said yes. A consortium is
recorded by introduced providers; each member confirms its own part, and once all have, it
is shown to the commissioning team and kept for the agreement.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType


class PostState(StrEnum):
    OPEN = "open"
    TAKEN_DOWN = "taken_down"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


class IntroductionState(StrEnum):
    """Waiting for an answer, both said yes (names shared), or one said no."""

    ASKED = "asked"
    INTRODUCED = "introduced"
    DECLINED = "declined"


class ConsortiumState(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"


class PartnerPost(Base):
    """'We're looking for partners': what an organisation brings, what it needs, and where."""

    __tablename__ = "partner_posts"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    brings: Mapped[str] = mapped_column(Text)
    needs: Mapped[str] = mapped_column(Text)
    #: ONS GSS codes of where it wants to work together; empty: the opportunity's areas.
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The lot it is about (its number in the opportunity); None: all of it.
    lot_number: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(16), default=PostState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_down_at: Mapped[datetime | None]


class PartnerIntroduction(Base):
    """Two organisations that may talk about working together on one opportunity."""

    __tablename__ = "partner_introductions"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "first_organisation_id", "second_organisation_id"),
        CheckConstraint("first_organisation_id < second_organisation_id", name="pair_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    first_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    second_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    #: Each side's answer: yes, no, or not yet (None).
    first_answer: Mapped[str | None] = mapped_column(String(8))
    second_answer: Mapped[str | None] = mapped_column(String(8))
    #: The provider that said "we'd like to talk", or None when a CVS suggested it.
    asked_by_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    #: The infrastructure organisation (CVS) that suggested it, if one did.
    brokered_by_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=IntroductionState.ASKED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class Consortium(Base):
    """Providers bidding together for one opportunity: a lead and its members."""

    __tablename__ = "consortia"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    lead_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16), default=ConsortiumState.PROPOSED)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]


class ConsortiumMember(Base):
    """One organisation in a consortium: its part, its share if agreed, and its confirmation.
    An organisation is in at most one consortium for an opportunity."""

    __tablename__ = "consortium_members"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(
        ForeignKey("consortia.id", ondelete="CASCADE"), index=True
    )
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(Text)
    #: Its share of the money, in per cent, if the members agreed one.
    share_percent: Mapped[int | None]
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
