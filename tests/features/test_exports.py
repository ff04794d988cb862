"""Exports for commissioners, in-process on the test door: what goes into the files, who is
refused, and the audit of every export.

The files are taken from the app's file desk with the ticket the feature offered, as the
web's download page takes them. The download page's own headers and link rules, Slack's
file in the DM and Teams' link are tested over HTTP in tests/integration/test_exports.py.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from bot.core.files import TakenFile
from bot.core.turn import Intent
from bot.services import Services
from storage.models import Organisation, Person
from tests.integration.test_exports import (
    audit_events,
    authority_id,
    org_id,
    seed,
    sheet_rows,
)
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of


async def download(user: Conversation, what: str, fmt: str) -> tuple[None, bytes]:
    """Ask for an export, then take the file offered, as following its link does."""
    replies = await user.say("export", what=what, format=fmt)
    taken = await user.take_file()
    assert isinstance(taken, TakenFile), (taken, text_of(replies))
    return None, taken.data


async def test_formula_injection_is_neutralised_in_both_formats(
    services: Services, door: TestDoor
) -> None:
    await seed(services)
    async with services.db.session() as session:  # a provider names itself like a formula
        asha = await session.get(Organisation, await org_id(services, "asha-womens-centre"))
        assert asha is not None
        asha.name = "=cmd|'/c calc'!A1"
    priya = await door.sign_in("Priya Shah")
    _, data = await download(priya, "readiness", "xlsx")
    workbook, _, rows = sheet_rows(data)
    asha_row = next(r for r in rows if "calc" in str(r["Organisation name"]))
    assert asha_row["Organisation name"] == "'=cmd|'/c calc'!A1"
    assert asha_row["What could stop you delivering a service well over time?"].startswith(
        "'=HYPERLINK"
    )
    assert asha_row["What good do you do for the area beyond the service itself?"] == "'@SUM(1+1)"
    assert asha_row["Which areas could you cover?"] == "'-2+3"
    eastgate = next(r for r in rows if r["Organisation name"] == "Eastgate Community Kitchen")
    assert eastgate["What could stop you delivering a service well over time?"].startswith("'+44")
    # openpyxl would have stored an "=" string as a formula: nothing in the file is one.
    assert all(cell.data_type != "f" for row in workbook.worksheets[0].iter_rows() for cell in row)

    _, data = await download(priya, "readiness", "csv")
    text = data.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell
            assert not re.match(r"-\D", cell), cell  # a negative number would be fine; text is not
    assert "'=cmd|'/c calc'!A1" in text


async def test_directory_export_has_every_profile(services: Services, door: TestDoor) -> None:
    priya = await door.sign_in("Priya Shah")
    _, data = await download(priya, "directory", "xlsx")
    _, header, rows = sheet_rows(data)
    async with services.db.session() as session:
        organisations = (
            await session.scalars(select(Organisation).order_by(Organisation.name))
        ).all()
        for org, row in zip(organisations, rows, strict=True):
            assert row["Organisation name"] == org.name
            assert row["Charity number (England and Wales)"] == org.charity_number
            assert row["Paid staff"] == org.staff_count
            assert row["Which areas do you serve?"] == "; ".join(a.value for a in org.areas_served)
    assert "Form version" not in header  # no readiness answers in the directory


async def test_every_export_is_audited(services: Services, door: TestDoor) -> None:
    await seed(services)
    priya = await door.sign_in("Priya Shah")
    await download(priya, "readiness", "xlsx")
    await download(priya, "directory", "csv")
    created = await audit_events(services, "export.created")
    assert [(e.details["kind"], e.details["format"], e.door) for e in created] == [
        ("readiness", "xlsx", "web"),
        ("directory", "csv", "web"),
    ]
    assert created[0].details["rows"] == 3 and created[0].authority_id == await authority_id(
        services
    )
    downloaded = await audit_events(services, "export.downloaded")
    assert [(e.object_id, e.details["via"]) for e in downloaded] == [
        (created[0].object_id, "link"),
        (created[1].object_id, "link"),
    ]
    async with services.db.session() as session:
        priya = await session.scalar(select(Person.id).where(Person.name == "Priya Shah"))
    assert {e.actor_id for e in created + downloaded} == {priya}


@pytest.mark.parametrize(
    ("person", "what"),
    [
        ("Tom Okafor", "readiness"),  # a provider admin
        ("Joan Hughes", "directory"),  # a provider member
        ("Alex Morgan", "readiness"),  # a Convene admin
    ],
)
async def test_a_non_commissioner_is_refused_politely_and_it_is_audited(
    services: Services, door: TestDoor, person: str, what: str
) -> None:
    await seed(services)
    user = await door.sign_in(person)
    page = text_of(await user.say("export", what=what, format="csv"))
    assert "Exports are for the council's commissioning team" in page
    assert "/downloads/" not in page
    (refused,) = await audit_events(services, "export.refused")
    assert refused.details == {
        "kind": what,
        "format": "csv",
        "reason": "not a commissioner",
    }
    assert refused.door == "web"
    assert await audit_events(services, "export.created") == []


async def test_a_provider_answering_on_the_web_appears_in_the_next_export(
    services: Services, door: TestDoor
) -> None:
    """The whole trip: Tom sends answers through the form (the turns the web form sends),
    Priya's file has them."""
    tom_okafor = await door.sign_in("Tom Okafor")
    form = form_in(await tom_okafor.say("readiness"))
    pages: list[dict[str, str | list[str]]] = [
        {"annual_cost": "£61,250.75", "arrears_days": "up_to_30"},
        {"main_risks": "Finding staff."},
        {},
        {},
        {},
        {"support_wanted": "costing"},
    ]
    for index, values in enumerate(pages):
        intent = Intent.SUBMIT if index == len(pages) - 1 else Intent.NEXT
        replies = await tom_okafor.send_page(form, values, page=index, intent=intent)
    assert "Thank you" in text_of(replies)

    commissioner = await door.sign_in("Priya Shah")
    _, data = await download(commissioner, "readiness", "xlsx")
    _, _, rows = sheet_rows(data)
    (tom,) = rows
    assert tom["What does a typical service cost you to run for a year?"] == 61250.75
    assert tom["If you were paid after doing the work, how long could you wait for the money?"] == (
        "Up to 30 days"
    )
    assert tom["What could stop you delivering a service well over time?"] == "Finding staff."
