"""An agreement's details (issue 15): the people named on each side with their role, the
dates the parties set themselves (signing, reviews, price uplifts, a TUPE transfer), and
the payment schedule with each instalment's invoice and payment.

A named person is a Convene person (`person_id`) when they are on Convene; someone not yet
on Convene is kept by name and email and shown, but never sent a reminder. A yearly date
repeats on the same day each year until the agreement ends. A payment is from the council
to the provider (or the consortium's lead), or from the lead to a member (s.73).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import Pence


class Side(StrEnum):
    """Which side a named person is on. The values are stored: never rename one."""

    COUNCIL = "council"
    PROVIDER = "provider"


class PersonRole(StrEnum):
    """What a named person does on the agreement. The values are stored: never rename one."""

    CONTRACT_MANAGER = "contract_manager"
    FINANCE = "finance"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    MONITORING_CONTACT = "monitoring_contact"
    SERVICE_MANAGER = "service_manager"


class DatedItemKind(StrEnum):
    """A date the parties set themselves. The values are stored: never rename one."""

    SIGNED = "signed"
    REVIEW = "review"
    PRICE_UPLIFT = "price_uplift"
    TUPE_TRANSFER = "tupe_transfer"


class Payer(StrEnum):
    """Who pays an instalment. The values are stored: never rename one."""

    #: The council pays the provider (or the consortium's lead), s.68.
    COUNCIL = "council"
    #: The consortium's lead pays a member, s.73.
    LEAD = "lead"


class AgreementPerson(Base):
    """One person named on an agreement, on one side, with their role."""

    __tablename__ = "agreement_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    #: A `Side` value.
    side: Mapped[str] = mapped_column(String(16))
    #: A `PersonRole` value.
    role: Mapped[str] = mapped_column(String(32))
    #: The Convene person, when they are on Convene (only they get reminders).
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    #: For the provider side: the party organisation they act for.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class AgreementDate(Base):
    """One date the parties set themselves: signing, a review, a price uplift, a TUPE
    transfer. `yearly` ones repeat on the same day each year until the agreement ends."""

    __tablename__ = "agreement_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: A `DatedItemKind` value.
    kind: Mapped[str] = mapped_column(String(32))
    on: Mapped[date]
    yearly: Mapped[bool] = mapped_column(default=False)


class AgreementPayment(Base):
    """One instalment of the payment schedule: how much, when it is due, who pays whom, and
    (when known) when the invoice came and when it was paid."""

    __tablename__ = "agreement_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date]
    amount_pence: Mapped[int] = mapped_column(Pence)
    #: A `Payer` value.
    payer: Mapped[str] = mapped_column(String(16))
    #: Who is paid: the provider or lead (council payments), or the member (lead payments).
    payee_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    invoice_received_on: Mapped[date | None]
    paid_on: Mapped[date | None]
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    paid_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
