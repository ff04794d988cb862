"""360Giving out: awarded grants as a JSON package (validated against the schema we ship and
against the published one), and as CSV and XLSX with the standard's column titles."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.core.opendata import (
    Grant,
    GrantOrg,
    GrantsPublisher,
    OpenDataRefused,
    geo_code_type,
    grants_csv,
    grants_json,
    grants_rows,
    grants_schema,
    grants_xlsx,
    org_id,
)
from tests.support.open_standards import STANDARDS, giving_errors, published_giving_schemas

LEEDS = GrantOrg("Leeds City Council", "GB-LAE-LDS")


def a_grant(**changes: object) -> Grant:
    grant = Grant(
        identifier="360G-leeds-OPP-12",
        title="Warm spaces in Harehills",
        description="Keeping a community centre open and warm on winter evenings.",
        amount_awarded=Decimal("15000"),
        award_date=date(2026, 3, 20),
        recipient=GrantOrg(
            "Harehills Community Trust",
            org_id("charity_commission", "1123456"),
            charity_number="1123456",
        ),
        funder=LEEDS,
        planned_start=date(2026, 4, 1),
        planned_end=date(2027, 3, 31),
        planned_months=12,
        beneficiary_areas=("E08000035",),
        url="https://convene.example.org/opportunities/12",
        date_modified=datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Europe/London")),
        programme="Warm Spaces 2026",
    )
    return dataclasses.replace(grant, **changes)  # type: ignore[arg-type]


def two_grants() -> list[Grant]:
    return [
        a_grant(),
        a_grant(
            identifier="360G-leeds-OPP-13",
            title="Food club",
            amount_awarded=Decimal("2500.75"),
            recipient=GrantOrg("Seacroft Food Co-op", org_id("fca_mutuals", "12345R")),
            beneficiary_areas=("E08000035", "E08000032"),
            planned_start=None,
            planned_end=None,
            planned_months=None,
            url=None,
            date_modified=None,
            programme=None,
        ),
    ]


def test_the_package_validates_against_the_shipped_and_the_published_schema() -> None:
    package = grants_json(
        two_grants(),
        publisher=GrantsPublisher("Leeds City Council", "GB-LAE-LDS", "https://www.leeds.gov.uk/"),
        title="Leeds City Council grants",
        issued=date(2026, 3, 21),
    )

    assert giving_errors(package, grants_schema()) == []
    assert giving_errors(package, published_giving_schemas()) == []
    first = package["grants"][0]
    assert first["amountAwarded"] == 15000
    assert first["awardDate"] == "2026-03-20"
    assert first["recipientOrganization"] == [
        {"id": "GB-CHC-1123456", "name": "Harehills Community Trust", "charityNumber": "1123456"}
    ]
    assert first["fundingOrganization"] == [{"id": "GB-LAE-LDS", "name": "Leeds City Council"}]
    assert first["plannedDates"] == [
        {"startDate": "2026-04-01", "endDate": "2027-03-31", "duration": 12}
    ]
    assert first["beneficiaryLocation"] == [
        {"geoCode": "E08000035", "name": "Leeds", "countryCode": "GB", "geoCodeType": "MD"}
    ]
    assert package["grants"][1]["amountAwarded"] == 2500.75
    assert package["grants"][1]["recipientOrganization"][0]["id"] == "GB-MPR-12345R"


def test_the_bare_minimum_is_valid() -> None:
    package = grants_json(
        [
            a_grant(
                planned_start=None,
                planned_end=None,
                planned_months=None,
                beneficiary_areas=(),
                url=None,
                date_modified=None,
                programme=None,
                recipient=GrantOrg("A Group", "GB-COH-01234567"),
            )
        ],
        license=None,
    )
    assert giving_errors(package, grants_schema()) == []
    assert set(package["grants"][0]) == {
        "id", "title", "description", "currency", "amountAwarded", "awardDate",
        "recipientOrganization", "fundingOrganization",
    }  # fmt: skip


def test_the_schema_check_itself_catches_a_broken_grant() -> None:
    package = grants_json([a_grant()])
    package["grants"][0]["awardDate"] = "20 March 2026"
    assert giving_errors(package, grants_schema()) != []
    package = grants_json([a_grant()])
    del package["grants"][0]["fundingOrganization"]
    assert giving_errors(package, grants_schema()) != []


def test_the_shipped_schema_is_the_published_one_with_its_licence() -> None:
    assert grants_schema() == published_giving_schemas()
    folder = resources.files("bot.core.opendata") / "schema"
    licence = (folder / "LICENSE.md").read_text("utf-8")
    assert licence == (STANDARDS / "360giving" / "LICENSE.md").read_text("utf-8")
    assert "creativecommons.org/licenses/by/4.0" in licence


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"amount_awarded": Decimal("-1")}, "The amount awarded is -£1.00"),
        ({"recipient": GrantOrg("A Group", "1123456")}, "is not an organisation identifier"),
        ({"funder": GrantOrg(" ", "GB-LAE-LDS")}, "The funder's name is missing"),
        ({"beneficiary_areas": ("Leeds",)}, "'Leeds' is not an ONS area code"),
        (
            {"planned_start": date(2027, 2, 1), "planned_end": date(2027, 1, 1)},
            "planned to end (1 January 2027) before it starts (1 February 2027)",
        ),
        ({"award_date": datetime(2026, 3, 20, 9, 0)}, "should be a day, without a time"),
        ({"currency": "£"}, "not a 3-letter currency code"),
        ({"planned_start": None}, "planned dates but no start date"),
    ],
)
def test_bad_grants_are_refused_with_a_plain_message(changes: dict, says: str) -> None:
    for build in (grants_json, grants_rows, grants_csv, grants_xlsx):
        with pytest.raises(OpenDataRefused) as refused:
            build([a_grant(**changes)])
        assert says in refused.value.message


def test_duplicate_identifiers_and_no_grants_are_refused() -> None:
    with pytest.raises(OpenDataRefused, match="Two grants have the identifier"):
        grants_json([a_grant(), a_grant()])
    with pytest.raises(OpenDataRefused, match="nothing to publish"):
        grants_json([])


def test_the_rows_use_the_standards_column_titles() -> None:
    header, first, second = grants_rows(two_grants())

    assert header[:16] == [
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Award Date",
        "Planned Dates:Start Date",
        "Planned Dates:End Date",
        "Planned Dates:Duration (months)",
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Recipient Org:Charity Number",
        "Recipient Org:Company Number",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Grant Programme:Title",
    ]
    assert header[-8:] == [
        "Beneficiary Location:Name",
        "Beneficiary Location:Country Code",
        "Beneficiary Location:Geographic Code",
        "Beneficiary Location:Geographic Code Type",
        "Beneficiary Location:1:Name",
        "Beneficiary Location:1:Country Code",
        "Beneficiary Location:1:Geographic Code",
        "Beneficiary Location:1:Geographic Code Type",
    ]
    row = dict(zip(header, first, strict=True))
    assert row["Amount Awarded"] == Decimal("15000.00")
    assert row["Award Date"] == date(2026, 3, 20)
    assert row["Recipient Org:Identifier"] == "GB-CHC-1123456"
    assert row["Beneficiary Location:1:Name"] is None
    other = dict(zip(header, second, strict=True))
    assert other["Beneficiary Location:1:Geographic Code"] == "E08000032"
    assert other["Planned Dates:Start Date"] is None


def test_csv_and_xlsx_hold_the_same_table() -> None:
    rows = grants_rows(two_grants())
    text = grants_csv(two_grants()).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text)))
    assert read[0] == rows[0]
    assert read[1][rows[0].index("Amount Awarded")] == "15000.00"
    assert read[2][rows[0].index("Amount Awarded")] == "2500.75"
    assert read[1][rows[0].index("Award Date")] == "2026-03-20"

    sheet = load_workbook(io.BytesIO(grants_xlsx(two_grants()))).active
    assert sheet.title == "grants"
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == rows[0]
    money = rows[0].index("Amount Awarded")
    assert cells[2][money] == 2500.75
    assert cells[1][rows[0].index("Award Date")].date() == date(2026, 3, 20)


def test_no_formula_injection_in_csv_or_xlsx() -> None:
    nasty = a_grant(
        title='=HYPERLINK("https://evil.example","click")',
        description="+1 extra",
        recipient=GrantOrg("@SUM(A1:A9)", "GB-COH-01234567"),
        programme="-cmd",
    )
    header = grants_rows([nasty])[0]
    text = grants_csv([nasty]).decode("utf-8-sig")
    row = dict(zip(header, list(csv.reader(io.StringIO(text)))[1], strict=True))
    sheet = load_workbook(io.BytesIO(grants_xlsx([nasty]))).active
    cells = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    for got in (row, cells):
        assert got["Title"] == '\'=HYPERLINK("https://evil.example","click")'
        assert got["Description"] == "'+1 extra"
        assert got["Recipient Org:Name"] == "'@SUM(A1:A9)"
        assert got["Grant Programme:Title"] == "'-cmd"
    assert all(c.data_type != "f" for c in sheet[2])
    # The JSON is data, not a spreadsheet: it keeps the text as given.
    assert grants_json([nasty])["grants"][0]["title"].startswith("=HYPERLINK")


def test_geographic_code_types_follow_the_360giving_list() -> None:
    assert geo_code_type("E06000014") == "UA"
    assert geo_code_type("E07000163") == "NMD"
    assert geo_code_type("E09000001") == "LONB"
    assert geo_code_type("E10000023") == "CTY"
    assert geo_code_type("S12000036") == "CA"
    assert geo_code_type("W06000015") == "UA"
    assert geo_code_type("N09000003") is None
    assert geo_code_type("E92000001") is None


def test_the_json_is_plain_json() -> None:
    assert json.loads(json.dumps(grants_json(two_grants())))["version"] == "1.4"
