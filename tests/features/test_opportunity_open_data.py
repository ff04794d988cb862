"""Opportunities as open data, in-process: each published opportunity's OCDS release package
(tender, every amendment, a cancellation; lots; the OCID prefix from the setting), valid
against OCDS 1.1.5 with the UK extension; grant awards on the record, refused for contracts;
and the council's grants as 360Giving JSON, CSV and XLSX, valid against the shipped schema.

The public pages are called as the web door calls them, with nobody signed in."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core.pages import PageContent, PageRefusal, PageRequest
from bot.core.reply import Message
from bot.core.turn import Door
from handlers.opportunities.open_data import grants_page, ocds_page
from storage.models import AuditEvent
from storage.pipeline_tables import GrantAward
from tests.features.opportunity_story import A_GRANT, NOW, post, post_with_two_lots
from tests.support.inprocess import Conversation, TestDoor, text_of
from tests.support.open_standards import giving_errors, ocds_errors, published_giving_schemas

PREFIX = "ocds-abc123"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "ocid_prefix": PREFIX,
        "open_data_org_ids": "riverside=GB-LAE-RIV",
        "grants_prefix": "360G-riverside",
        "public_url": "https://convene.example.org",
    }


async def ocds(door: TestDoor, opportunity_id: int) -> PageContent | PageRefusal:
    request = PageRequest(actor=None, params={"id": str(opportunity_id)}, format="json")
    return await ocds_page(request, door.services)


async def grants(door: TestDoor, kind: str) -> PageContent | PageRefusal:
    request = PageRequest(actor=None, params={"slug": "riverside", "kind": kind}, format="file")
    return await grants_page(request, door.services)


async def refused_awards(door: TestDoor, person_id: int) -> list[str]:
    async with door.services.db.session() as session:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "opportunity.refused", AuditEvent.actor_id == person_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    return [r.details["reason"] for r in rows if r.details.get("attempted") == "award"]


async def test_a_published_opportunity_is_an_ocds_package_with_amendments_lots_and_cancellation(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post_with_two_lots(priya)
    assert isinstance(await ocds(door, opportunity_id), PageRefusal)  # a draft is not published
    await priya.say(f"opportunities publish {opportunity_id}")

    first = await ocds(door, opportunity_id)
    assert isinstance(first, PageContent)
    assert ocds_errors(first.data) == []
    (tender,) = first.data["releases"]
    assert tender["ocid"] == f"{PREFIX}-OPP-{opportunity_id}"
    assert tender["tag"] == ["tender"]
    assert tender["buyer"]["name"] == "Riverside Borough Council"
    assert tender["parties"][0]["identifier"] == {
        "scheme": "GB-LAE",
        "id": "RIV",
        "legalName": "Riverside Borough Council",
    }
    body = tender["tender"]
    assert [lot["title"] for lot in body["lots"]] == ["North Preston", "South Preston"]
    assert body["lots"][1]["value"] == {"amount": 50000, "currency": "GBP"}
    assert body["value"]["amount"] == 80000 and body["minValue"]["amount"] == 50000
    assert body["tenderPeriod"]["endDate"] == "2026-03-06T17:00:00+00:00"
    assert body["items"][0]["deliveryAddresses"][0]["region"].startswith("E07")

    door.advance(timedelta(days=3))
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "More time to bid.", "submission_deadline": "2026-03-13"}},
    )
    door.advance(timedelta(days=3))
    await priya.fill(f"opportunities withdraw {opportunity_id}", {0: {"reason": "Money cut."}})

    package = await ocds(door, opportunity_id)
    assert isinstance(package, PageContent)
    assert ocds_errors(package.data) == []
    releases = package.data["releases"]
    assert [r["tag"] for r in releases] == [["tender"], ["tenderAmendment"], ["tenderCancellation"]]
    assert len({r["id"] for r in releases}) == 3
    assert {r["ocid"] for r in releases} == {f"{PREFIX}-OPP-{opportunity_id}"}
    # The first release keeps the deadline as it was published; the amendment moves it.
    assert releases[0]["tender"]["tenderPeriod"]["endDate"] == "2026-03-06T17:00:00+00:00"
    assert releases[1]["tender"]["tenderPeriod"]["endDate"] == "2026-03-13T17:00:00+00:00"
    assert releases[1]["tender"]["amendments"][0]["rationale"] == "More time to bid."
    assert releases[2]["tender"]["status"] == "cancelled"
    assert (
        package.data["uri"]
        == f"https://convene.example.org/opportunities/{opportunity_id}/ocds.json"
    )


async def test_a_package_the_standard_would_not_accept_is_a_plain_refusal(
    door: TestDoor,
) -> None:
    """Published after its last day for questions: the builder refuses, never half a file."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, clarification_deadline="2026-01-19")
    # The form refuses a day already past, so the clock moves on past the last day for
    # questions before the opportunity is published.
    door.freeze(NOW + timedelta(days=10))
    await priya.say(f"opportunities publish {opportunity_id}")
    refused = await ocds(door, opportunity_id)
    assert isinstance(refused, PageRefusal) and refused.status == 409
    assert "clarification deadline" in " ".join(refused.lines)
    missing = await ocds(door, 999_999)
    assert isinstance(missing, PageRefusal) and missing.status == 404


@pytest.mark.parametrize(
    ("where", "address"),
    [
        (Door.WEB, "/opportunities/{}/ocds.json"),
        (Door.SLACK, "https://convene.example.org/opportunities/{}/ocds.json"),
    ],
)
async def test_every_door_links_to_the_open_data(door: TestDoor, where: Door, address: str) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    await priya.say(f"opportunities publish {opportunity_id}")
    for name in ("Priya Shah", "Tom Okafor"):
        person = await door.sign_in(name, door=where)
        shown = await person.say(f"opportunities show {opportunity_id}")
        links = [
            b.url
            for r in shown
            if isinstance(r, Message)
            for b in r.buttons
            if b.label == "Open data (OCDS)"
        ]
        assert links == [address.format(opportunity_id)], name


# --- grants -------------------------------------------------------------------------------------


async def published_grant(door: TestDoor) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, route=A_GRANT)
    await priya.say(f"opportunities publish {opportunity_id}")
    return priya, opportunity_id


def award(organisation: str, amount: str = "£12,500", on: str = "2026-01-09") -> dict[int, Any]:
    return {0: {"organisation": organisation, "amount": amount, "awarded_on": on}}


async def awards(door: TestDoor) -> list[tuple[int, int, str]]:
    async with door.services.db.session() as session:
        rows = (await session.scalars(select(GrantAward).order_by(GrantAward.id))).all()
        return [(a.organisation_id, a.amount_pence, a.awarded_on.isoformat()) for a in rows]


async def test_a_grant_is_awarded_on_the_record_and_published_in_360giving(door: TestDoor) -> None:
    priya, opportunity_id = await published_grant(door)
    await priya.fill(f"opportunities award {opportunity_id}", award("Riverside Youth Trust"))
    said = priya.text()
    assert "Recorded: a grant of £12,500 to Riverside Youth Trust" in said
    assert "Friday 9 January 2026" in said and "Anyone can see it" in said
    # A second award to the same organisation corrects it (one row), also on the record.
    await priya.fill(
        f"opportunities award {opportunity_id}", award("riverside youth trust", "£15,000")
    )
    assert "Changed: a grant of £15,000" in priya.text()
    # An organisation without a register number is recorded, but kept out of the file.
    await priya.fill(f"opportunities award {opportunity_id}", award("Silver Threads Befriending"))
    assert "can't go in the 360Giving file yet" in priya.text()
    assert [row[1] for row in await awards(door)] == [1_500_000, 1_250_000]
    async with door.services.db.session() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("opportunity.grant_%"))
                .order_by(AuditEvent.id)
            )
        ).all()
    assert list(actions) == [
        "opportunity.grant_awarded",
        "opportunity.grant_changed",
        "opportunity.grant_awarded",
    ]
    team_view = text_of(await priya.say(f"opportunities show {opportunity_id}"))
    assert (
        "Grants awarded" in team_view and "£15,000, awarded on Friday 9 January 2026" in team_view
    )

    made = await grants(door, "json")
    assert isinstance(made, PageContent) and made.body is not None
    package = json.loads(made.body)
    assert giving_errors(package, published_giving_schemas()) == []
    (grant,) = package["grants"]
    assert grant["recipientOrganization"][0]["id"] == "GB-CHC-1100001"
    assert grant["fundingOrganization"][0]["id"] == "GB-LAE-RIV"
    assert grant["amountAwarded"] == 15000 and grant["awardDate"] == "2026-01-09"
    assert grant["id"].startswith("360G-riverside-riverside-")

    sheet = await grants(door, "csv")
    assert isinstance(sheet, PageContent) and sheet.body is not None
    rows = list(csv.DictReader(io.StringIO(sheet.body.decode("utf-8-sig"))))
    assert rows[0]["Recipient Org:Identifier"] == "GB-CHC-1100001"
    assert rows[0]["Funding Org:Identifier"] == "GB-LAE-RIV"
    assert rows[0]["Amount Awarded"] == "15000.00" and rows[0]["Currency"] == "GBP"

    book = await grants(door, "xlsx")
    assert isinstance(book, PageContent) and book.body is not None
    workbook = load_workbook(io.BytesIO(book.body))
    header = [c.value for c in workbook["grants"][1]]
    assert "Recipient Org:Identifier" in header and workbook["grants"].max_row == 2


async def test_no_grants_file_before_any_award(door: TestDoor) -> None:
    await published_grant(door)
    refused = await grants(door, "json")
    assert isinstance(refused, PageRefusal) and refused.status == 404
    assert "no grant has been awarded" in " ".join(refused.lines)


async def test_bad_awards_are_refused_nothing_saved_and_audited(door: TestDoor) -> None:
    priya, opportunity_id = await published_grant(door)
    await priya.fill(f"opportunities award {opportunity_id}", award("Nobody Trust"))
    assert "couldn't find one organisation called 'Nobody Trust'" in priya.text()
    await priya.fill(
        f"opportunities award {opportunity_id}", award("Riverside Youth Trust", on="2026-02-01")
    )
    assert "is after today" in priya.text() and "Sunday 1 February 2026" in priya.text()
    assert await awards(door) == []
    assert await refused_awards(door, priya.person_id) == ["organisation", "awarded_on"]
    # Each came back as the form, with the answer to change, and nothing was sent.
    assert priya.last[-1].kind == "form"
    tom = await door.sign_in("Tom Okafor")
    assert "Only the commissioning team" in text_of(
        await tom.say(f"opportunities award {opportunity_id}")
    )
    assert await refused_awards(door, tom.person_id) == ["not the team"]


async def test_a_contract_route_cannot_have_a_grant_award(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)  # the story's route is a contract
    await priya.say(f"opportunities publish {opportunity_id}")
    answer = text_of(await priya.say(f"opportunities award {opportunity_id}"))
    assert "is not funded as a grant" in answer and "Nothing was changed" in answer
    assert "Record a grant" not in text_of(await priya.say(f"opportunities show {opportunity_id}"))
    assert await refused_awards(door, priya.person_id) == ["not a grant route"]
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(GrantAward)) == 0
