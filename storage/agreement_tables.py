"""The agreements register (issue 15): grants and contracts a council has made with
providers, the organisations that are party to each, and each agreement's KPIs.

An `Agreement` belongs to one council. Its route is a `bot.core.law.Route` key; the regime
flags (light-touch, below-threshold, reserved, framework call-off, grant) are derived from
the route when it is saved and kept beside it, so the register and its exports can filter
on them. Its parties are one organisation, or a consortium's lead and members with their
shares. Only the council's commissioning team and the members of a party organisation
see an agreement.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType, Pence


class VatBasis(StrEnum):
    """How the agreement's value treats VAT. The values are stored: never rename one."""

    INCLUDING = "including"
    EXCLUDING = "excluding"
    NOT_APPLICABLE = "not_applicable"


class PartyRole(StrEnum):
    """A party's place in an agreement. The values are stored: never rename one."""

    #: The only provider organisation.
    SOLE = "sole"
    #: A consortium's lead: it signs the agreement and pays the members.
    LEAD = "lead"
    MEMBER = "member"


class Agreement(Base):
    """One grant or contract between a council and a provider (or a consortium)."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    #: The opportunity it came from, if any.
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    #: A `bot.core.law.Route` key.
    route: Mapped[str] = mapped_column(String(40))
    light_touch: Mapped[bool] = mapped_column(default=False)
    below_threshold: Mapped[bool] = mapped_column(default=False)
    reserved: Mapped[bool] = mapped_column(default=False)
    framework_call_off: Mapped[bool] = mapped_column(default=False)
    #: A grant (outside the Procurement Act), not a contract.
    grant_funded: Mapped[bool] = mapped_column(default=False)
    value_pence: Mapped[int | None] = mapped_column(Pence)
    #: A `VatBasis` value.
    vat_basis: Mapped[str] = mapped_column(String(16))
    #: ONS GSS codes of where the work is done.
    area_served: Mapped[list[str]] = mapped_column(JSONType, default=list)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: In words, e.g. "up to 2 x 12 months".
    extension_options: Mapped[str | None] = mapped_column(Text)
    #: Each break clause: {"on": "YYYY-MM-DD", "notice_days": n}.
    break_clauses: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    payment_terms_days: Mapped[int]
    #: Anything else about reviews, price rises and payments, in words. The people, dates
    #: and payments themselves are in `storage/agreement_detail_tables.py`.
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementParty(Base):
    """One provider organisation party to an agreement, with its share if agreed."""

    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    #: A `PartyRole` value.
    role: Mapped[str] = mapped_column(String(16))
    #: Its share of the money, in per cent, when shares were agreed.
    share_percent: Mapped[int | None]


class AgreementKpi(Base):
    """One key performance indicator of an agreement: what, how measured, the target."""

    __tablename__ = "agreement_kpis"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
