"""OCDS out: an opportunity's releases, validated against OCDS 1.1.5 with the UK extension.

Each package is checked against the published schemas in ``../shared/standards`` (the core
release schema patched by the UK extension, under the release package schema), so these
tests fail if our output drifts from the standard, not only from our own idea of it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.core.opendata import (
    OCDS_EXTENSIONS,
    Amendment,
    Document,
    Item,
    Lot,
    OpenDataRefused,
    OrgRef,
    ProcurementMethod,
    ReleaseTag,
    TenderRelease,
    amendment_release,
    release_package,
)
from bot.settings import load_settings
from tests.support.open_standards import merge_patch, ocds_errors, patched_release_schema

LONDON = ZoneInfo("Europe/London")
PUBLISHED = datetime(2026, 1, 12, 9, 30, tzinfo=LONDON)


def two_lot_tender(**changes: object) -> TenderRelease:
    tender = TenderRelease(
        ocid_prefix="ocds-xxxxxx",
        opportunity_id="OPP-12",
        release_id="OPP-12-tender",
        date=PUBLISHED,
        tag=ReleaseTag.TENDER,
        buyer=OrgRef("Leeds City Council", scheme="GB-LAE", identifier="LDS"),
        title="Community support for older people",
        description="Befriending and help at home, in two parts of the city.",
        value_min=Decimal("80000"),
        value_max=Decimal("120000.50"),
        procurement_method=ProcurementMethod.OPEN,
        procurement_method_details="Competitive flexible procedure (Procurement Act 2023, s.20)",
        above_threshold=False,
        lots=(
            Lot("1", "North Leeds", "Befriending in the north", Decimal("60000")),
            Lot("2", "South Leeds", None, Decimal("60000.50")),
        ),
        items=(
            Item("1", "Befriending, north", cpv_code="85311000-2", lot_id="1"),
            Item("2", "Help at home, south", cpv_code="85312000", lot_id="2"),
        ),
        tender_start=datetime(2026, 1, 12, 9, 0, tzinfo=LONDON),
        tender_end=datetime(2026, 3, 6, 17, 0, tzinfo=LONDON),
        clarification_deadline=datetime(2026, 2, 20, 17, 0, tzinfo=LONDON),
        documents=(
            Document(
                "https://www.find-tender.service.gov.uk/Notice/000123-2026",
                "Tender notice",
                type="tenderNotice",
                notice_type="UK4",
            ),
            Document(
                "https://example.org/spec.pdf", "Specification", type="technicalSpecifications"
            ),
        ),
        areas=("E08000035",),
    )
    return dataclasses.replace(tender, **changes)  # type: ignore[arg-type]


def package_of(*tenders: TenderRelease) -> dict:
    return release_package(
        tenders,
        publisher="Leeds City Council",
        uri="https://convene.example.org/open-data/ocds/OPP-12.json",
        published_date=PUBLISHED,
    )


def test_a_tender_with_two_lots_is_a_valid_package_with_the_uk_extension_declared() -> None:
    package = package_of(two_lot_tender())

    assert ocds_errors(package) == []
    assert package["version"] == "1.1"
    assert (
        "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json"
        in package["extensions"]
    )
    (release,) = package["releases"]
    assert release["ocid"] == "ocds-xxxxxx-OPP-12"
    assert release["tag"] == ["tender"]
    tender = release["tender"]
    assert tender["status"] == "active"
    assert [lot["id"] for lot in tender["lots"]] == ["1", "2"]
    assert tender["lots"][1]["value"] == {"amount": 60000.5, "currency": "GBP"}
    assert "description" not in tender["lots"][1]
    assert [i["relatedLot"] for i in tender["items"]] == ["1", "2"]
    assert tender["items"][0]["classification"] == {"scheme": "CPV", "id": "85311000"}
    assert tender["items"][0]["deliveryAddresses"] == [
        {"region": "E08000035", "countryName": "United Kingdom"}
    ]
    assert tender["value"] == {"amount": 120000.5, "currency": "GBP"}
    assert tender["minValue"] == {"amount": 80000, "currency": "GBP"}
    assert tender["tenderPeriod"] == {
        "startDate": "2026-01-12T09:00:00+00:00",
        "endDate": "2026-03-06T17:00:00+00:00",
    }
    assert tender["enquiryPeriod"]["endDate"] == "2026-02-20T17:00:00+00:00"
    assert tender["aboveThreshold"] is False
    assert tender["documents"][0]["noticeType"] == "UK4"
    assert release["parties"] == [
        {
            "id": "GB-LAE-LDS",
            "name": "Leeds City Council",
            "roles": ["buyer", "procuringEntity"],
            "identifier": {"scheme": "GB-LAE", "id": "LDS", "legalName": "Leeds City Council"},
        }
    ]
    assert release["buyer"] == {"id": "GB-LAE-LDS", "name": "Leeds City Council"}


def test_an_amendment_is_a_new_release_with_the_same_ocid() -> None:
    first = two_lot_tender()
    moved = datetime(2026, 3, 13, 17, 0, tzinfo=LONDON)
    change = Amendment(
        date=datetime(2026, 2, 2, 10, 0, tzinfo=LONDON),
        rationale="More time for small groups to form partnerships",
        description="The deadline moves from 6 March to 13 March 2026.",
    )
    second = amendment_release(first, change, tender_end=moved)
    package = package_of(first, second)

    assert ocds_errors(package) == []
    original, amended = package["releases"]
    assert amended["ocid"] == original["ocid"]
    assert amended["id"] != original["id"]
    assert amended["tag"] == ["tenderAmendment"]
    assert amended["date"] == "2026-02-02T10:00:00+00:00"
    assert amended["tender"]["tenderPeriod"]["endDate"] == "2026-03-13T17:00:00+00:00"
    assert amended["tender"]["amendments"] == [
        {
            "id": "1",
            "date": "2026-02-02T10:00:00+00:00",
            "rationale": "More time for small groups to form partnerships",
            "description": "The deadline moves from 6 March to 13 March 2026.",
        }
    ]
    assert "amendments" not in original["tender"]
    # A second change keeps the first in the history.
    third = amendment_release(second, Amendment(datetime(2026, 2, 9, tzinfo=UTC), "Typo fixed"))
    assert [
        a["id"] for a in package_of(first, second, third)["releases"][2]["tender"]["amendments"]
    ] == ["1", "2"]


def test_a_cancellation_is_valid_and_says_cancelled() -> None:
    cancelled = two_lot_tender(
        release_id="OPP-12-cancelled",
        tag=ReleaseTag.TENDER_CANCELLATION,
        date=datetime(2026, 2, 1, 12, 0, tzinfo=LONDON),
    )
    package = package_of(two_lot_tender(), cancelled)

    assert ocds_errors(package) == []
    assert package["releases"][1]["tag"] == ["tenderCancellation"]
    assert package["releases"][1]["tender"]["status"] == "cancelled"


def test_missing_optional_data_is_still_valid() -> None:
    bare = TenderRelease(
        ocid_prefix="ocds-xxxxxx",
        opportunity_id="7",
        release_id="7-planning",
        date=PUBLISHED,
        tag=ReleaseTag.PLANNING,
        buyer=OrgRef("Bradford Council"),
        title="Youth clubs",
        main_category=None,
    )
    package = package_of(bare)

    assert ocds_errors(package) == []
    release = package["releases"][0]
    assert release["tender"] == {
        "id": "ocds-xxxxxx-7",
        "title": "Youth clubs",
        "status": "planned",
        "procuringEntity": {"id": "buyer", "name": "Bradford Council"},
    }
    assert "identifier" not in release["parties"][0]


def test_cpv_codes_and_areas_without_items_make_one_item() -> None:
    package = package_of(
        two_lot_tender(
            items=(), cpv_codes=("85311000", "85312000-9"), areas=("E08000035", "E08000032")
        )
    )

    assert ocds_errors(package) == []
    (item,) = package["releases"][0]["tender"]["items"]
    assert item["classification"] == {"scheme": "CPV", "id": "85311000"}
    assert item["additionalClassifications"] == [{"scheme": "CPV", "id": "85312000"}]
    assert [a["region"] for a in item["deliveryAddresses"]] == ["E08000035", "E08000032"]


def test_the_package_is_plain_json() -> None:
    text = json.dumps(package_of(two_lot_tender()))
    assert (
        json.loads(text)["releases"][0]["tender"]["title"] == "Community support for older people"
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"value_max": Decimal("-5")},
            "The highest value is -£5.00. Amounts can't be less than £0",
        ),
        ({"value_min": Decimal("-0.01")}, "The lowest value is -£0.01"),
        (
            {"lots": (Lot("1", "North", value=Decimal("-100")),), "items": ()},
            "The value of lot 1 is -£100.00",
        ),
        (
            {"value_min": Decimal("200000")},
            "The lowest value (£200,000.00) is more than the highest (£120,000.50)",
        ),
        (
            {"tender_end": datetime(2026, 1, 5, 17, 0, tzinfo=LONDON)},
            "The deadline (Monday 5 January 2026, 5pm) is before the opening date "
            "(Monday 12 January 2026, 9am)",
        ),
        (
            {"clarification_deadline": datetime(2026, 3, 7, 12, 0, tzinfo=LONDON)},
            "The deadline (Friday 6 March 2026, 5pm) is before the clarification deadline "
            "(Saturday 7 March 2026, midday)",
        ),
        ({"tender_end": datetime(2026, 3, 6, 17, 0)}, "has no time zone"),
        ({"areas": ("Leeds",)}, "'Leeds' is not an ONS area code"),
        ({"items": (Item("1", "Befriending", cpv_code="befriending"),)}, "is not a CPV code"),
        ({"items": (Item("1", "Befriending", lot_id="9"),)}, "there is no lot 9"),
        (
            {"lots": (Lot("1", "North"), Lot("1", "South")), "items": ()},
            "Two lots have the number 1",
        ),
        ({"title": "  "}, "The title is missing"),
        ({"currency": "pounds"}, "not a 3-letter currency code"),
        ({"ocid_prefix": "leeds"}, "'leeds' is not an OCID prefix"),
        ({"tag": ReleaseTag.TENDER_AMENDMENT}, "An amendment must say what changed and why"),
        ({"documents": (Document("www.example.org/spec", "Spec"),)}, "should start with https://"),
        (
            {"documents": (Document("https://example.org/n", "Notice", notice_type="UK99"),)},
            "UK1 to UK17",
        ),
    ],
)
def test_bad_data_is_refused_with_a_plain_message(changes: dict, says: str) -> None:
    with pytest.raises(OpenDataRefused) as refused:
        package_of(two_lot_tender(**changes))
    assert says in refused.value.message


def test_the_same_release_twice_is_refused() -> None:
    with pytest.raises(OpenDataRefused, match="have the id OPP-12-tender"):
        package_of(two_lot_tender(), two_lot_tender())


def test_an_empty_package_is_refused() -> None:
    with pytest.raises(OpenDataRefused, match="nothing to publish"):
        package_of()


def test_the_validator_applies_the_uk_extension() -> None:
    """The harness itself: the patch adds UK fields' types, so a wrong one is caught."""
    schema = patched_release_schema()
    assert "aboveThreshold" in schema["definitions"]["Tender"]["properties"]
    package = package_of(two_lot_tender())
    package["releases"][0]["tender"]["aboveThreshold"] = "no"
    assert any("aboveThreshold" in error for error in ocds_errors(package))
    package = package_of(two_lot_tender())
    package["releases"][0]["tag"] = ["awarded"]
    assert ocds_errors(package) != []


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z",
        "c": {"d": "e"},
    }
    assert merge_patch({"a": ["b"]}, {"a": ["c", "d"]}) == {"a": ["c", "d"]}
    assert merge_patch({"a": "b"}, ["c"]) == ["c"]
    assert merge_patch("x", {"a": {"b": None, "c": 1}}) == {"a": {"c": 1}}


def test_every_declared_extension_is_an_extension_json_address() -> None:
    assert all(
        url.startswith("https://") and url.endswith("/extension.json") for url in OCDS_EXTENSIONS
    )


def test_the_ocid_prefix_is_a_setting_with_an_unregistered_default() -> None:
    assert load_settings().ocid_prefix == "ocds-xxxxxx"
    assert load_settings(ocid_prefix="ocds-h6vhtk").ocid_prefix == "ocds-h6vhtk"
    with pytest.raises(ValueError, match="ocid_prefix"):
        load_settings(ocid_prefix="leeds")
