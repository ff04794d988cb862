"""The agreements register, in-process: Priya records a contract with Riverside Youth Trust,
and one from an opportunity that carries its confirmed consortium (Riverside leading, Asha
Women's Centre a member) over. Dates in full; the payment terms and the s.52 KPI check come
from the legal data. Each provider party sees its own agreement only; another provider and
another council see nothing, on every door. Every bad answer changes nothing and is on the
record. The register file holds the contract-details fields."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core.enums import Door
from bot.core.law import Route, payment_days, rule
from bot.core.pages import PageContent, PageRefusal, PageRequest
from bot.core.reply import Reply
from bot.core.turn import Intent
from handlers.agreements.export import register_page
from storage.agreement_tables import Agreement, AgreementKpi, AgreementParty
from storage.forms import SHIPPED
from storage.models import AuditEvent, Organisation
from storage.opportunity_tables import Opportunity
from storage.partner_tables import Consortium, ConsortiumMember
from tests.features.engagement_story import add_hilltop
from tests.features.opportunity_story import TITLE, post
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
START = date(2026, 4, 1)

CONTRACT: dict[int, dict[str, Any]] = {
    0: {
        "title": "Youth clubs in Preston",
        "route": "standard_contract",
        "value": "£250,000",
        "vat_basis": "including",
        "area_served": "Preston",
    },
    1: {
        "provider": "Riverside Youth Trust",
        "council_people": "Priya Shah, contract manager",
        "provider_contacts": "Tom Okafor, service manager",
    },
    2: {
        "starts_on": "2026-04-01",
        "ends_on": "2028-03-31",
        "extension_options": "up to 2 x 12 months",
        "break_1_on": "2027-03-31",
        "break_1_notice_days": "90",
        "review_on": "2026-06-01",
        "uplift_on": "2026-04-01",
        "uplift_yearly": "yes",
        "notes": "Price rises by CPI",
    },
    3: {"kpis": "Young people attending; monthly register; 120 a month"},
    4: {"payments": "30 April 2026; £10,000"},
}


def answers(**changes: Any) -> dict[int, dict[str, Any]]:
    """The contract's pages with some answers changed (each finds its page)."""
    changed = {index: dict(page) for index, page in CONTRACT.items()}
    for name, value in changes.items():
        page = next((i for i, p in CONTRACT.items() if name in p), None)
        if page is None:
            page = {
                "provider_share": 1,
                "members": 1,
                "break_2_on": 2,
                "signed_on": 2,
                "review_yearly": 2,
                "tupe_transfer_on": 2,
                "payment_terms_days": 4,
            }[name]
        changed[page][name] = value
    return changed


async def fill_keeping(
    person: Conversation, command: str, pages: dict[int, dict[str, Any]]
) -> list[Reply]:
    """Like `fill`, but each page keeps what the form already shows (prefilled answers),
    as a browser sends every field back; the replies to the last page sent."""
    form = form_in(await person.say(command))
    for index in range(form.page_count):
        last = index == form.page_count - 1
        shown = {k: v for k, v in form.values.items() if v not in (None, "", [])}
        replies = await person.send_page(
            form,
            {**shown, **pages.get(index, {})},
            intent=Intent.SUBMIT if last else Intent.NEXT,
            page=index,
        )
        if not last:
            form = form_in(replies)
            if form.page_index != index + 1:  # this page was sent back
                return replies
    return person.last


async def record(
    priya: Conversation, pages: dict[int, dict[str, Any]], command: str = "agreements new"
) -> int:
    await fill_keeping(priya, command, pages)
    assert "Recorded:" in priya.text() or "Changed:" in priya.text(), priya.text()
    async with priya.test_door.services.db.session() as session:
        found = await session.scalar(select(func.max(Agreement.id)))
    assert found is not None
    return int(found)


async def state(door: TestDoor) -> list[tuple[Any, ...]]:
    """Everything a refused attempt must leave as it was."""
    async with door.services.db.session() as session:
        agreements = [
            (a.id, a.title, a.value_pence, a.starts_on, a.ends_on, a.break_clauses, a.updated_at)
            for a in (await session.scalars(select(Agreement).order_by(Agreement.id))).all()
        ]
        parties = [
            (p.agreement_id, p.organisation_id, p.role, p.share_percent)
            for p in (
                await session.scalars(select(AgreementParty).order_by(AgreementParty.id))
            ).all()
        ]
        kpis = [
            (k.agreement_id, k.name)
            for k in (await session.scalars(select(AgreementKpi).order_by(AgreementKpi.id))).all()
        ]
    return [*agreements, *parties, *kpis]


async def refusals(door: TestDoor, person: Conversation) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == "agreement.refused",
                        AuditEvent.actor_id == person.person_id,
                    )
                )
            ).all()
        )


def test_the_form_offers_exactly_the_route_keys() -> None:
    definition = yaml.safe_load((SHIPPED / "agreement.yaml").read_text("utf-8"))
    (route,) = [f for p in definition["pages"] for f in p["fields"] if f["id"] == "route"]
    assert [c["value"] for c in route["choices"]] == [r.value for r in Route]


async def test_a_contract_is_recorded_with_dates_in_full_and_the_laws_payment_terms(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    said = priya.text()
    assert "Wednesday 1 April 2026 to Friday 31 March 2028" in said
    assert "Wednesday 31 March 2027, with 90 days' notice" in said
    assert "£250,000 (including VAT)" in said
    assert "Riverside Youth Trust" in said and "Nobody is sent a message" in said
    assert "key performance indicators" in said.lower()
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        assert agreement is not None
        assert agreement.value_pence == 25_000_000
        # Left blank: the law's figure on the start day (s.68).
        assert agreement.payment_terms_days == payment_days(START)
        assert (agreement.light_touch, agreement.grant_funded, agreement.framework_call_off) == (
            False,
            False,
            False,
        )
        (party,) = (await session.scalars(select(AgreementParty))).all()
        assert party.role == "sole" and party.share_percent is None

    # A change keeps one agreement and says so.
    await record(
        priya,
        answers(title="Youth clubs in Preston and Chorley"),
        f"agreements edit {agreement_id}",
    )
    assert "Changed: Youth clubs in Preston and Chorley" in priya.text()
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count(Agreement.id))) == 1


async def test_from_an_opportunity_the_confirmed_consortium_is_carried_over(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya)
    async with door.services.db.session() as session:
        orgs = {o.slug: o.id for o in (await session.scalars(select(Organisation))).all()}
        consortium = Consortium(
            opportunity_id=opportunity_id,
            lead_organisation_id=orgs["riverside-youth-trust"],
            state="confirmed",
            confirmed_at=NOW,
        )
        session.add(consortium)
        await session.flush()
        for slug, share in (("riverside-youth-trust", 60), ("asha-womens-centre", 40)):
            session.add(
                ConsortiumMember(
                    consortium_id=consortium.id,
                    opportunity_id=opportunity_id,
                    organisation_id=orgs[slug],
                    share_percent=share,
                    confirmed_at=NOW,
                )
            )
        opportunity = await session.get(Opportunity, opportunity_id)
        assert opportunity is not None
        route = opportunity.route

    form = form_in(await priya.say(f"agreements new {opportunity_id}"))
    assert form.values["title"] == TITLE
    assert form.values["route"] == route
    assert form.values["value"] == "£80,000"
    pages = answers()
    for name in ("title", "route", "value", "area_served"):
        pages[0].pop(name)
    pages[1].pop("provider")
    agreement_id = await record(priya, pages, f"agreements new {opportunity_id}")
    assert "Riverside Youth Trust (lead, 60%), Asha Women's Centre (40%)" in priya.text()
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.opportunity_id == opportunity_id
        assert agreement.title == TITLE and agreement.value_pence == 8_000_000
        parties = {
            (p.organisation_id, p.role, p.share_percent)
            for p in (await session.scalars(select(AgreementParty))).all()
        }
    assert parties == {
        (orgs["riverside-youth-trust"], "lead", 60),
        (orgs["asha-womens-centre"], "member", 40),
    }

    # Each party's members see it; the other providers don't.
    amina = await door.sign_in("Amina Begum")
    assert TITLE in text_of(await amina.say("agreements"))
    assert TITLE in text_of(await amina.say(f"agreements show {agreement_id}"))
    grace = await door.sign_in("Grace Lee")
    assert TITLE not in text_of(await grace.say("agreements"))
    assert "couldn't find that agreement" in text_of(
        await grace.say(f"agreements show {agreement_id}")
    )


@pytest.mark.parametrize(
    ("changes", "kpis_needed"),
    [
        ({"value": "£6,000,000"}, True),
        ({"value": "£6,000,000", "route": "light_touch"}, False),
        ({"value": "£6,000,000", "route": "framework_call_off"}, False),
        ({"value": "£6,000,000", "route": "grant", "vat_basis": "not_applicable"}, False),
        ({"value": "£4,000,000"}, False),
        (
            {
                "value": "£6,000,000",
                "kpis": "Attendance; register; 120\nReferrals; log; 40\nWellbeing; survey; 70%",
            },
            False,
        ),
    ],
)
async def test_the_s52_kpi_check_comes_from_the_legal_data(
    door: TestDoor, changes: dict[str, Any], kpis_needed: bool
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(**changes))
    over = rule("kpis.contract_value_over", START)
    minimum = rule("kpis.minimum", START)
    warning = f"needs at least {minimum.value} key performance indicators"
    for said in (
        priya.text(),
        text_of(await priya.say(f"agreements show {agreement_id}")),
    ):
        assert (warning in said) == kpis_needed, said
        if kpis_needed:
            assert f"£{over.value:,}" in said and "s.52" in said
    listed = text_of(await priya.say("agreements"))
    assert ("s.52" in listed) == kpis_needed


@pytest.mark.parametrize(
    ("changes", "field", "words", "reason"),
    [
        ({"ends_on": "2026-03-01"}, "ends_on", "can't end", "ends before it starts"),
        (
            {"break_1_on": "2028-06-30"},
            "break_1_on",
            "after the agreement ends",
            "break after the end",
        ),
        (
            {"provider_share": "70", "members": "Asha Women's Centre, 40%"},
            "members",
            "add up to 110%",
            "shares do not add up to 100",
        ),
        ({"value": "lots of money"}, "value", "could not read", "value does not parse"),
        (
            {"payment_terms_days": "45"},
            "payment_terms_days",
            "within 30 days",
            "payment terms longer than the law allows",
        ),
        ({"provider": "Nobody Ltd"}, "provider", "could not find", "organisation not found"),
        ({"kpis": "Just a name"}, "kpis", "semicolon", "KPI line does not parse"),
    ],
)
async def test_bad_input_changes_nothing_and_is_on_the_record(
    door: TestDoor, changes: dict[str, Any], field: str, words: str, reason: str
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    existing = await record(priya, answers())
    before = await state(door)
    for command in ("agreements new", f"agreements edit {existing}"):
        replies = await fill_keeping(priya, command, answers(**changes))
        form = form_in(replies)
        assert words in form.errors[field], form.errors
        assert await state(door) == before
    recorded = await refusals(door, priya)
    assert len(recorded) == 2
    assert all(reason in str(r.details.get("reason")) for r in recorded), [
        r.details for r in recorded
    ]


@pytest.mark.parametrize("on", [Door.WEB, Door.SLACK, Door.TEAMS])
async def test_another_provider_and_another_council_see_nothing_on_any_door(
    door: TestDoor, on: Door
) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    before = await state(door)
    title = CONTRACT[0]["title"]

    tom = await door.sign_in("Tom Okafor", door=on)  # the party
    assert title in text_of(await tom.say("agreements"))
    shown = text_of(await tom.say(f"agreements show {agreement_id}"))
    assert title in shown and "Priya Shah (contract manager)" in shown
    # A party may see it but not change it.
    assert "Only the commissioning team" in text_of(
        await tom.say(f"agreements edit {agreement_id}")
    )
    assert "Only a council's commissioning team" in text_of(await tom.say("agreements new"))

    for name in ("Grace Lee", "Yusuf Khan"):
        other = await door.sign_in(name, door=on)
        listed = text_of(await other.say("agreements"))
        assert title not in listed and "Riverside Youth Trust" not in listed
        for command in (f"agreements show {agreement_id}", f"agreements edit {agreement_id}"):
            said = text_of(await other.say(command))
            assert "couldn't find that agreement" in said and title not in said
        assert len(await refusals(door, other)) == 2
    assert len(await refusals(door, tom)) == 2
    assert await state(door) == before


async def _file(
    door: TestDoor, name: str, kind: str, slug: str = "riverside"
) -> PageContent | PageRefusal:
    person = await door.sign_in(name)
    request = PageRequest(
        actor=await door.actor(person.person_id), params={"slug": slug, "kind": kind}, format="file"
    )
    return await register_page(request, door.services)


async def test_the_register_file_holds_the_contract_details_for_the_team_only(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await record(priya, answers(value="£30,000,000"))
    assert "Register (CSV)" in text_of(await priya.say("agreements"))

    got = await _file(door, "Priya Shah", "csv")
    assert isinstance(got, PageContent) and got.body is not None
    (row,) = list(csv.DictReader(io.StringIO(got.body.decode("utf-8-sig"))))
    assert row["Title"] == "Youth clubs in Preston"
    assert row["Value (GBP)"] == "30000000.00"
    assert row["Suppliers"] == "Riverside Youth Trust"
    assert row["Start date"] == "2026-04-01" and row["End date"] == "2028-03-31"
    assert row["Key performance indicators"].startswith("Young people attending")
    assert row["KPIs the law needs (s.52)"] == str(rule("kpis.minimum", START).value)
    assert row["Contract details notice due within (days, s.53)"] == str(
        rule("contract_details.days", START).value
    )

    xlsx = await _file(door, "Priya Shah", "xlsx")
    assert isinstance(xlsx, PageContent) and xlsx.body is not None
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert sheet is not None
    headings = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=headings.index("Value (GBP)") + 1).value == float(
        Decimal(30_000_000)
    )

    for name in ("Tom Okafor", "Grace Lee"):
        refused = await _file(door, name, "csv")
        assert isinstance(refused, PageRefusal) and refused.status == 403
    await add_hilltop(door.services)
    assert isinstance(await _file(door, "Yusuf Khan", "csv"), PageRefusal)
    async with door.services.db.session() as session:
        recorded = await session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "agreement.refused",
                AuditEvent.object_type == "agreements_register",
            )
        )
    assert recorded == 3
