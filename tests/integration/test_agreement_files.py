"""The check-in history and variations files over real HTTP through the web door, and the
assessment form on the web.

Riverside council has three contracts: one with Riverside Youth Trust (Tom), one with
Eastgate Community Kitchen (Grace), and a consortium led by Asha Women's Centre (Amina)
with Riverside Youth Trust a member. Each provider's files (CSV and Excel) hold only its own
rows: Tom never gets Grace's check-ins on the same council, nor the check-ins Amina's
organisation answered for the consortium, though he sees that agreement's variations as a
party. The team gets its council's rows; a provider asking for the council's file is
refused and the attempt is on the record. The `agreements` list links to the files."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from urllib.parse import quote_plus

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import Services
from storage.agreement_tables import AgreementParty, PartyRole
from storage.assessment_tables import PerformanceAssessment
from storage.models import AuditEvent
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.variation_tables import AgreementVariation
from tests.support.agreements import seed_contract
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of

WHEN = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def stranger(app_server: RunningApp) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def add_history(services: Services, agreement_id: int, words: str) -> None:
    """One answered check-in (asked of the sole provider or the lead) and one variation."""
    async with services.db.session() as session:
        asked = await session.scalar(
            select(AgreementParty.organisation_id).where(
                AgreementParty.agreement_id == agreement_id,
                AgreementParty.role.in_([PartyRole.SOLE, PartyRole.LEAD]),
            )
        )
        assert asked is not None
        plan = MonitoringPlanRow(
            agreement_id=agreement_id,
            state="agreed",
            frequency="quarterly",
            method="chat",
            questions=["effective"],
            rag=True,
            proposed_by_side="team",
        )
        session.add(plan)
        await session.flush()
        session.add(
            CheckinRow(
                agreement_id=agreement_id,
                plan_id=plan.id,
                organisation_id=asked,
                due_on=date(2026, 4, 30),
                sent_at=WHEN,
                questions=["effective"],
                answered_at=WHEN,
                answers={"effective": f"{words} check-in answer"},
                rag="amber",
                minutes_spent=12,
            )
        )
        session.add(
            AgreementVariation(
                agreement_id=agreement_id,
                side="council",
                what_changes=f"{words} variation",
                why="Demand",
                value_change_pence=500_000,
                term_change_days=0,
                state="approved",
                decision_reason="Good value",
                change_notice_required=False,
                created_at=WHEN,
            )
        )


async def csv_rows(user: WebUser, path: str) -> list[dict[str, str]]:
    async with user.client.get(f"{user.base}{path}") as resp:
        assert resp.status == 200 and resp.content_type == "text/csv", resp.status
        return list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))


async def xlsx_column(user: WebUser, path: str, heading: str) -> list[object]:
    async with user.client.get(f"{user.base}{path}") as resp:
        assert resp.status == 200
        body = await resp.read()
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    headings = [c.value for c in sheet[1]]
    column = headings.index(heading) + 1
    return [sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)]


async def test_each_provider_downloads_only_its_own_rows(
    services: Services, app_server: RunningApp, stranger: aiohttp.ClientSession
) -> None:
    tom_own = await seed_contract(services, title="Youth clubs")
    grace_own = await seed_contract(
        services, title="Community meals", lead="eastgate-community-kitchen"
    )
    consortium = await seed_contract(
        services,
        title="Women's support",
        lead="asha-womens-centre",
        members=("riverside-youth-trust",),
    )
    for agreement_id, words in ((tom_own, "Tom's"), (grace_own, "Grace's"), (consortium, "Asha's")):
        await add_history(services, agreement_id, words)

    base = app_server.url
    async with stranger.get(
        f"{base}/agreements/files/yours/checkins.csv", allow_redirects=False
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/signin")

    priya, tom, grace, amina = WebUser(base), WebUser(base), WebUser(base), WebUser(base)
    try:
        await tom.sign_in_locally("Tom Okafor")
        await grace.sign_in_locally("Grace Lee")
        await amina.sign_in_locally("Amina Begum")
        await priya.sign_in_locally("Priya Shah")
        mine = "/agreements/files/yours"

        rows = await csv_rows(tom, f"{mine}/checkins.csv")
        assert [(r["Agreement"], r["RAG rating"]) for r in rows] == [("Youth clubs", "amber")]
        assert "Tom's check-in answer" in rows[0].values()
        assert await xlsx_column(tom, f"{mine}/checkins.xlsx", "Agreement") == ["Youth clubs"]
        variations = await csv_rows(tom, f"{mine}/variations.csv")
        assert sorted(r["What changes"] for r in variations) == [
            "Asha's variation",
            "Tom's variation",
        ]
        assert sorted(
            str(v) for v in await xlsx_column(tom, f"{mine}/variations.xlsx", "What changes")
        ) == ["Asha's variation", "Tom's variation"]

        rows = await csv_rows(grace, f"{mine}/checkins.csv")
        assert [r["Agreement"] for r in rows] == ["Community meals"]
        assert [r["What changes"] for r in await csv_rows(grace, f"{mine}/variations.csv")] == [
            "Grace's variation"
        ]
        assert await xlsx_column(grace, f"{mine}/checkins.xlsx", "Agreement") == ["Community meals"]
        rows = await csv_rows(amina, f"{mine}/checkins.csv")
        assert [r["Agreement"] for r in rows] == ["Women's support"]
        assert "Asha's check-in answer" in rows[0].values()

        status, html = await tom.get("/agreements/riverside/checkins.csv")
        assert status == 403 and "not yours to download" in text_of(html)
        status, html = await grace.get("/agreements/riverside/variations.xlsx")
        assert status == 403

        team = await csv_rows(priya, "/agreements/riverside/checkins.csv")
        assert sorted(r["Agreement"] for r in team) == [
            "Community meals",
            "Women's support",
            "Youth clubs",
        ]
        assert len(await xlsx_column(priya, "/agreements/riverside/variations.xlsx", "Why")) == 3

        status, html = await priya.get("/do/agreements")
        assert status == 200 and 'href="/agreements/riverside/checkins.csv"' in html
        status, html = await tom.get("/do/agreements")
        assert status == 200 and 'href="/agreements/files/yours/variations.xlsx"' in html
        assert 'href="/agreements/riverside/checkins.csv"' not in html
    finally:
        for user in (priya, tom, grace, amina):
            await user.close()
    async with services.db.session() as session:
        refused = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "agreement.refused",
                    AuditEvent.object_type.in_(["agreements_checkins", "agreements_variations"]),
                )
            )
        ).all()
    assert len(refused) == 2


async def test_the_team_drafts_an_assessment_on_the_web(
    services: Services, app_server: RunningApp
) -> None:
    agreement_id = await seed_contract(services)
    priya = WebUser(app_server.url)
    try:
        await priya.sign_in_locally("Priya Shah")
        words = quote_plus(f"assess {agreement_id}")
        status, html = await priya.get(f"/do/agreements?words={words}")
        assert status == 200 and "Young people attending: how did they do?" in text_of(html)
        assert "never fill this in from check-in answers" in text_of(html)
        status, html = await priya.post(
            form_action(html),
            [
                ("kpi_1_rating", "good"),
                ("kpi_2_rating", "good"),
                ("kpi_3_rating", "inadequate"),
                ("kpi_3_note", "No survey"),
                ("_page", "0"),
                ("_intent", "next"),
            ],
        )
        assert status == 200, text_of(html)
        status, html = await priya.post(
            form_action(html), [("summary", ""), ("_page", "1"), ("_intent", "submit")]
        )
        assert status == 200 and "as a draft" in text_of(html), text_of(html)
    finally:
        await priya.close()
    async with services.db.session() as session:
        draft = await session.scalar(select(PerformanceAssessment))
    assert draft is not None and draft.state == "draft"
