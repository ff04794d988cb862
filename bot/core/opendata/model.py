"""What the open data exporters read: plain, typed facts about a tender or a grant.

The opportunities feature owns the rows; the exporters own the standards. Between them sit
these frozen dataclasses, which name things as people in commissioning do (a buyer, a lot,
a clarification deadline) and carry no database or door types. A feature fills them from
its rows and hands them to :func:`bot.core.opendata.release_package` or the 360Giving
functions; the exporters check them and refuse, in plain English, what the standards or
common sense would not accept, before writing anything.

Money is in pounds as ``Decimal`` (never floats: a penny lost in a public record is a
question from an auditor). Times must carry a time zone; a plain date is a ``date``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class OpenDataRefused(ValueError):
    """Data the exporters will not publish. ``message`` says why, to a person, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReleaseTag(StrEnum):
    """The OCDS release tags an opportunity can produce (closed ``releaseTag`` codelist)."""

    PLANNING = "planning"
    TENDER = "tender"
    TENDER_AMENDMENT = "tenderAmendment"
    TENDER_CANCELLATION = "tenderCancellation"


class TenderStatus(StrEnum):
    """OCDS ``tenderStatus`` (closed codelist)."""

    PLANNING = "planning"
    PLANNED = "planned"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    UNSUCCESSFUL = "unsuccessful"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"


class ProcurementMethod(StrEnum):
    """OCDS ``method`` (closed codelist): how suppliers may take part."""

    OPEN = "open"
    SELECTIVE = "selective"
    LIMITED = "limited"
    DIRECT = "direct"


class ProcurementCategory(StrEnum):
    """OCDS ``procurementCategory`` (closed codelist). Most VCFSE work is services."""

    GOODS = "goods"
    WORKS = "works"
    SERVICES = "services"


@dataclass(frozen=True)
class OrgRef:
    """An organisation as open data names it: its name and an org-id.guide identifier.

    ``scheme`` is the register's org-id prefix (``GB-PPON``, ``GB-LAE``, ``GB-CHC``...) and
    ``identifier`` the number in it. Both may be missing; then only the name is published.
    """

    name: str
    scheme: str | None = None
    identifier: str | None = None

    @property
    def org_id(self) -> str | None:
        """The whole org-id (``GB-CHC-1123456``), or None without a scheme and number."""
        if self.scheme and self.identifier:
            return f"{self.scheme}-{self.identifier}"
        return None


@dataclass(frozen=True)
class Lot:
    """One part of an opportunity that providers can bid for on its own."""

    id: str
    title: str
    description: str | None = None
    #: Most the lot is worth, in pounds; None when the council has not said.
    value: Decimal | None = None


@dataclass(frozen=True)
class Item:
    """One thing being bought, classified by its CPV code (``85311000`` or ``85311000-2``)."""

    id: str
    description: str
    cpv_code: str | None = None
    #: The lot this item belongs to, by its ``Lot.id``.
    lot_id: str | None = None


@dataclass(frozen=True)
class Document:
    """A document or notice published with the opportunity."""

    url: str
    title: str
    #: OCDS ``documentType`` (open codelist), e.g. ``tenderNotice``, ``biddingDocuments``.
    type: str | None = None
    #: Find a Tender notice, ``UK1`` to ``UK17``, when the link is to one (UK extension).
    notice_type: str | None = None


@dataclass(frozen=True)
class Amendment:
    """One change to a published opportunity: when, why, and what changed, in words."""

    date: datetime
    rationale: str
    description: str | None = None


@dataclass(frozen=True)
class TenderRelease:
    """One published state of an opportunity: the facts an OCDS release is made from.

    Publishing, each amendment and a cancellation each make a new ``TenderRelease`` with
    the same ``opportunity_id`` (so the same ocid) and a new ``release_id``;
    :func:`bot.core.opendata.amendment_release` makes the amendment's from the one before.
    """

    ocid_prefix: str
    #: Our own id for the opportunity; with the prefix it makes the ocid.
    opportunity_id: str
    #: Unique among this opportunity's releases.
    release_id: str
    date: datetime
    tag: ReleaseTag
    buyer: OrgRef
    title: str
    description: str | None = None
    #: None: from the tag (planned, active, or cancelled).
    status: TenderStatus | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    currency: str = "GBP"
    procurement_method: ProcurementMethod | None = None
    #: The route in words, e.g. "Competitive flexible procedure (Procurement Act 2023, s.20)".
    procurement_method_details: str | None = None
    main_category: ProcurementCategory | None = ProcurementCategory.SERVICES
    #: Whether the contract is above the Act's threshold (UK extension); None: not said.
    above_threshold: bool | None = None
    #: The opportunity's CPV codes. Used for its one item when ``items`` is empty.
    cpv_codes: tuple[str, ...] = ()
    lots: tuple[Lot, ...] = ()
    items: tuple[Item, ...] = ()
    #: When providers may start to submit, and the submission deadline.
    tender_start: datetime | None = None
    tender_end: datetime | None = None
    #: Last moment to ask a clarification question.
    clarification_deadline: datetime | None = None
    documents: tuple[Document, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    #: Where the service is delivered, as ONS GSS codes (``E08000035``).
    areas: tuple[str, ...] = ()

    @property
    def ocid(self) -> str:
        return f"{self.ocid_prefix}-{self.opportunity_id}"


@dataclass(frozen=True)
class GrantOrg:
    """A grant's recipient or funder: a name and an org-id (``GB-CHC-1123456``).

    :func:`bot.core.opendata.org_id` builds the identifier from a register number.
    """

    name: str
    identifier: str
    charity_number: str | None = None
    company_number: str | None = None


@dataclass(frozen=True)
class Grant:
    """One awarded grant, as 360Giving publishes it."""

    #: Unique: the funder's 360Giving prefix and its own reference (``360G-leeds-OPP-12``).
    identifier: str
    title: str
    description: str
    amount_awarded: Decimal
    award_date: date
    recipient: GrantOrg
    funder: GrantOrg
    currency: str = "GBP"
    planned_start: date | None = None
    planned_end: date | None = None
    #: Planned length in months, when the council gives that instead of (or with) an end.
    planned_months: int | None = None
    #: Where the people who benefit live, as ONS GSS codes.
    beneficiary_areas: tuple[str, ...] = ()
    #: Where the grant was advertised (the opportunity's page), if public.
    url: str | None = None
    date_modified: datetime | None = None
    #: The grant programme it was awarded under, e.g. "Warm Spaces 2026".
    programme: str | None = None
