"""The page "The legal rules Convene uses", through real HTTP: the figures and citations in
force on a day, the right threshold either side of 1 January 2026, plain refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from bot.clock import FixedClock
from bot.core import law
from bot.services import Services
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


async def test_the_page_shows_todays_figures_and_citations(
    services: Services, web_user: WebUser
) -> None:
    # 11:30pm on 31 December 2025 in London is still that day: the old thresholds.
    services.clock = FixedClock(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/legal-rules")
    page = text_of(html)
    assert status == 200, page
    assert "The legal rules Convene uses" in page
    assert "started on Wednesday 31 December 2025" in page
    for entry in law.rules_in_force(datetime(2025, 12, 31).date()):
        assert entry.name in page
        assert entry.citation in page, entry.name
    assert "£214,904 (including VAT)" in page
    assert "£207,720" not in page
    assert "£663,540 (including VAT)" in page
    assert "8 working days" in page and "120 days" in page
    assert "Procurement Act 2023 s.75(6)(b)" in page


async def test_a_procurement_started_on_the_change_day_gets_the_new_thresholds(
    web_user: WebUser,
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/legal-rules/2026-01-01")
    page = text_of(html)
    assert status == 200, page
    assert "started on Thursday 1 January 2026" in page
    assert "£207,720 (including VAT)" in page and "£5,193,000 (including VAT)" in page
    assert "£214,904" not in page and "£5,372,609" not in page
    assert "as revised from 1 January 2026" in page
    # The days on which rules changed are links.
    assert 'href="/legal-rules/2025-02-24"' in html and 'href="/legal-rules/2026-01-01"' in html


async def test_before_the_act_the_page_says_so(web_user: WebUser) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/legal-rules/2025-02-23")
    page = text_of(html)
    assert status == 200, page
    assert "Convene has no rules for a procurement started on Sunday 23 February 2025" in page
    assert "from Monday 24 February 2025" in page


async def test_a_date_that_is_not_a_date_gets_a_plain_400(web_user: WebUser) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    for bad in ("2025-02-30", "tomorrow", "2026-13-01"):
        status, html = await web_user.get(f"/legal-rules/{bad}")
        page = text_of(html)
        assert status == 400, (bad, page)
        assert "That is not a date we can read" in page
        assert "year-month-day" in page


async def test_signed_out_people_are_asked_to_sign_in(app_server: RunningApp) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(app_server.url + "/legal-rules", allow_redirects=False) as resp,
    ):
        assert resp.status == 303
        assert resp.headers["Location"] == "/signin"
