"""Opportunities as OCDS 1.1.5 release packages, with the UK extension Find a Tender uses.

Open Contracting Data Standard releases let anyone (a journalist, a provider, another
council) follow a procurement from plan to contract with ordinary tools. Every release
of one opportunity shares its ocid (our registered prefix and the opportunity's id), and
each state (published, each amendment, a cancellation) is a new release with its own id
and tag, never an edit of an old one.

Fields beyond the core schema come from extensions the package names, as the standard
asks: lots (``tender.lots``, ``items[].relatedLot``) from the lots extension, delivery
places (``items[].deliveryAddresses``, each region an ONS GSS code) from the location
extension, and ``tender.aboveThreshold`` and ``documents[].noticeType`` from the UK one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.core.opendata import checks
from bot.core.opendata.model import (
    Amendment,
    OpenDataRefused,
    ReleaseTag,
    TenderRelease,
    TenderStatus,
)

__all__ = [
    "OCDS_EXTENSIONS",
    "OCDS_VERSION",
    "OPEN_GOVERNMENT_LICENCE",
    "Publisher",
    "amendment_release",
    "release",
    "release_package",
]

OCDS_VERSION = "1.1"
#: The extensions every package declares (extension.json addresses, as Find a Tender lists).
OCDS_EXTENSIONS: tuple[str, ...] = (
    "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_location_extension/master/extension.json",
)
#: Councils publish open data under the Open Government Licence unless they say otherwise.
OPEN_GOVERNMENT_LICENCE = (
    "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
)

_STATUS_FOR_TAG = {
    ReleaseTag.PLANNING: TenderStatus.PLANNED,
    ReleaseTag.TENDER: TenderStatus.ACTIVE,
    ReleaseTag.TENDER_AMENDMENT: TenderStatus.ACTIVE,
    ReleaseTag.TENDER_CANCELLATION: TenderStatus.CANCELLED,
}
_NOTICE_TYPE = re.compile(r"^UK([1-9]|1[0-7])$")


@dataclasses.dataclass(frozen=True)
class Publisher:
    """Who publishes the package: the council, and its org-id if it has one."""

    name: str
    scheme: str | None = None
    uid: str | None = None
    uri: str | None = None


def amendment_release(
    previous: TenderRelease, amendment: Amendment, *, release_id: str | None = None, **changes: Any
) -> TenderRelease:
    """The release an amendment makes: ``previous`` with the change, tagged ``tenderAmendment``.

    ``changes`` are the fields that changed (``tender_end=new_deadline``). The amendment is
    added to the ones before it, so each release carries the whole history of changes; its
    id defaults to the opportunity's id and the amendment's number (``OPP-12-amendment-2``).
    """
    amendments = (*previous.amendments, amendment)
    return dataclasses.replace(
        previous,
        tag=ReleaseTag.TENDER_AMENDMENT,
        release_id=release_id or f"{previous.opportunity_id}-amendment-{len(amendments)}",
        date=amendment.date,
        amendments=amendments,
        status=None,
        **changes,
    )


def _value(amount: Any, currency: str) -> dict[str, Any]:
    return {"amount": checks.number(amount), "currency": currency}


def _buyer(tender: TenderRelease) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the buyer's party entry, the reference to it)."""
    name = checks.words(tender.buyer.name, "buyer's name")
    party_id = tender.buyer.org_id or "buyer"
    party: dict[str, Any] = {"id": party_id, "name": name, "roles": ["buyer", "procuringEntity"]}
    if tender.buyer.org_id:
        party["identifier"] = {
            "scheme": tender.buyer.scheme,
            "id": tender.buyer.identifier,
            "legalName": name,
        }
    return party, {"id": party_id, "name": name}


def _lots(tender: TenderRelease, currency: str) -> list[dict[str, Any]]:
    lots = []
    seen: set[str] = set()
    for lot in tender.lots:
        lot_id = checks.words(lot.id, "lot's number")
        if lot_id in seen:
            raise OpenDataRefused(f"Two lots have the number {lot_id}. Each lot needs its own.")
        seen.add(lot_id)
        entry: dict[str, Any] = {
            "id": lot_id,
            "title": checks.words(lot.title, f"title of lot {lot_id}"),
        }
        if description := checks.optional_words(lot.description):
            entry["description"] = description
        value = checks.money(lot.value, f"value of lot {lot_id}")
        if value is not None:
            entry["value"] = _value(value, currency)
        lots.append(entry)
    return lots


def _delivery(areas: Sequence[str]) -> list[dict[str, str]]:
    return [{"region": code, "countryName": "United Kingdom"} for code in areas]


def _items(tender: TenderRelease, areas: Sequence[str]) -> list[dict[str, Any]]:
    lot_ids = {lot.id for lot in tender.lots}
    items: list[dict[str, Any]] = []
    if not tender.items:
        # The opportunity as one item, so its CPV codes and places are published.
        codes = [checks.cpv(code) for code in tender.cpv_codes]
        if not codes and not areas:
            return []
        item: dict[str, Any] = {"id": "1", "description": checks.words(tender.title, "title")}
        if codes:
            item["classification"] = {"scheme": "CPV", "id": codes[0]}
        if codes[1:]:
            item["additionalClassifications"] = [{"scheme": "CPV", "id": c} for c in codes[1:]]
        if areas:
            item["deliveryAddresses"] = _delivery(areas)
        return [item]
    seen: set[str] = set()
    for given in tender.items:
        item_id = checks.words(given.id, "item's number")
        if item_id in seen:
            raise OpenDataRefused(f"Two items have the number {item_id}. Each needs its own.")
        seen.add(item_id)
        item = {"id": item_id, "description": checks.words(given.description, "item's description")}
        if given.cpv_code:
            item["classification"] = {"scheme": "CPV", "id": checks.cpv(given.cpv_code)}
        if given.lot_id is not None:
            if given.lot_id not in lot_ids:
                raise OpenDataRefused(
                    f"Item {item_id} is in lot {given.lot_id}, but there is no lot {given.lot_id}."
                )
            item["relatedLot"] = given.lot_id
        if areas:
            item["deliveryAddresses"] = _delivery(areas)
        items.append(item)
    return items


def _documents(tender: TenderRelease) -> list[dict[str, Any]]:
    documents = []
    for number, document in enumerate(tender.documents, start=1):
        url = checks.words(document.url, f"address of document {number}")
        if not url.startswith(("https://", "http://")):
            raise OpenDataRefused(
                f"The address of '{document.title}' should start with https://. It is {url}."
            )
        entry: dict[str, Any] = {
            "id": str(number),
            "title": checks.words(document.title, f"title of document {number}"),
            "url": url,
        }
        if document.type:
            entry["documentType"] = document.type
        if document.notice_type:
            if not _NOTICE_TYPE.match(document.notice_type):
                raise OpenDataRefused(
                    f"'{document.notice_type}' is not a Find a Tender notice. They are UK1 to UK17."
                )
            entry["noticeType"] = document.notice_type
        documents.append(entry)
    return documents


def _amendments(tender: TenderRelease) -> list[dict[str, Any]]:
    amendments = []
    for number, amendment in enumerate(tender.amendments, start=1):
        entry: dict[str, Any] = {
            "id": str(number),
            "date": checks.when(amendment.date, f"date of change {number}"),
            "rationale": checks.words(amendment.rationale, f"reason for change {number}"),
        }
        if description := checks.optional_words(amendment.description):
            entry["description"] = description
        amendments.append(entry)
    return amendments


def _period(start: datetime | None, end: datetime | None, what: str) -> dict[str, str] | None:
    period = {
        key: value
        for key, value in (
            ("startDate", checks.when(start, f"{what} start")),
            ("endDate", checks.when(end, f"{what} end")),
        )
        if value is not None
    }
    return period or None


def release(tender: TenderRelease) -> dict[str, Any]:
    """One OCDS release for one state of an opportunity. Raises OpenDataRefused."""
    ocid_prefix = checks.ocid_prefix(tender.ocid_prefix)
    opportunity_id = checks.words(tender.opportunity_id, "opportunity's id")
    ocid = f"{ocid_prefix}-{opportunity_id}"
    currency = checks.currency(tender.currency)
    status = tender.status or _STATUS_FOR_TAG[tender.tag]
    if tender.tag == ReleaseTag.TENDER_CANCELLATION and status != TenderStatus.CANCELLED:
        raise OpenDataRefused("A cancellation must say the opportunity is cancelled.")
    if tender.tag == ReleaseTag.TENDER_AMENDMENT and not tender.amendments:
        raise OpenDataRefused("An amendment must say what changed and why.")
    value_min = checks.money(tender.value_min, "lowest value")
    value_max = checks.money(tender.value_max, "highest value")
    if value_min is not None and value_max is not None and value_min > value_max:
        raise OpenDataRefused(
            f"The lowest value ({checks.pounds(value_min)}) is more than the highest "
            f"({checks.pounds(value_max)}). Check the values and try again."
        )
    checks.in_order(tender.tender_start, tender.tender_end, "opening date", "deadline")
    checks.in_order(
        tender.tender_start, tender.clarification_deadline, "opening date", "clarification deadline"
    )
    checks.in_order(
        tender.clarification_deadline, tender.tender_end, "clarification deadline", "deadline"
    )
    areas = [checks.area_code(code) for code in tender.areas]
    party, buyer = _buyer(tender)

    body: dict[str, Any] = {
        "id": ocid,
        "title": checks.words(tender.title, "title"),
        "status": status.value,
        "procuringEntity": buyer,
    }
    if description := checks.optional_words(tender.description):
        body["description"] = description
    if value_max is not None:
        body["value"] = _value(value_max, currency)
    if value_min is not None:
        body["minValue"] = _value(value_min, currency)
    if tender.procurement_method is not None:
        body["procurementMethod"] = tender.procurement_method.value
    if details := checks.optional_words(tender.procurement_method_details):
        body["procurementMethodDetails"] = details
    if tender.main_category is not None:
        body["mainProcurementCategory"] = tender.main_category.value
    if tender.above_threshold is not None:
        body["aboveThreshold"] = tender.above_threshold
    if items := _items(tender, areas):
        body["items"] = items
    if lots := _lots(tender, currency):
        body["lots"] = lots
    if period := _period(tender.tender_start, tender.tender_end, "submission period"):
        body["tenderPeriod"] = period
    if tender.clarification_deadline is not None:
        enquiries = _period(tender.tender_start, tender.clarification_deadline, "clarification")
        body["enquiryPeriod"] = enquiries
        body["hasEnquiries"] = True
    if documents := _documents(tender):
        body["documents"] = documents
    if amendments := _amendments(tender):
        body["amendments"] = amendments

    return {
        "ocid": ocid,
        "id": checks.words(tender.release_id, "release id"),
        "date": checks.when(tender.date, "release date"),
        "tag": [tender.tag.value],
        "initiationType": "tender",
        "language": "en",
        "parties": [party],
        "buyer": buyer,
        "tender": body,
    }


def release_package(
    releases: Iterable[TenderRelease],
    *,
    publisher: Publisher | str,
    uri: str,
    published_date: datetime,
    license: str | None = OPEN_GOVERNMENT_LICENCE,
    publication_policy: str | None = None,
) -> dict[str, Any]:
    """An OCDS 1.1.5 release package of ``releases``, ready for ``json.dumps``.

    ``uri`` is where this package can be fetched (its identity); ``published_date`` when
    its contents last changed. Raises OpenDataRefused, saying what to fix, for data the
    standard (or common sense: a deadline before the opening) would not accept. Nothing is
    returned half built.
    """
    built = [release(tender) for tender in releases]
    if not built:
        raise OpenDataRefused("There is nothing to publish yet: no opportunity has a release.")
    seen: set[tuple[str, str]] = set()
    for entry in built:
        key = (entry["ocid"], entry["id"])
        if key in seen:
            raise OpenDataRefused(
                f"Two releases of {entry['ocid']} have the id {entry['id']}. Each needs its own."
            )
        seen.add(key)
    if isinstance(publisher, str):
        publisher = Publisher(name=publisher)
    about: dict[str, Any] = {"name": checks.words(publisher.name, "publisher's name")}
    for field_name, value in (
        ("scheme", publisher.scheme),
        ("uid", publisher.uid),
        ("uri", publisher.uri),
    ):
        if value:
            about[field_name] = value
    package: dict[str, Any] = {
        "uri": checks.words(uri, "package address"),
        "version": OCDS_VERSION,
        "extensions": list(OCDS_EXTENSIONS),
        "publishedDate": checks.when(published_date, "publication date"),
        "publisher": about,
        "releases": built,
    }
    if license:
        package["license"] = license
    if publication_policy:
        package["publicationPolicy"] = publication_policy
    return package
