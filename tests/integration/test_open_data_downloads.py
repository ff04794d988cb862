"""Open data and the UK1 file over real HTTP through the web door: an opportunity's OCDS
package and the council's 360Giving grants are public (no sign-in); the UK1 pipeline file is
for the council's own team only; the opportunity's page links to its open data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from urllib.parse import quote_plus

import aiohttp
import pytest

from tests.features.opportunity_story import A_GRANT, NOW, post
from tests.support.inprocess import TestDoor
from tests.support.open_standards import ocds_errors
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"ocid_prefix": "ocds-abc123", "open_data_org_ids": "riverside=GB-LAE-RIV"}


@pytest.fixture
async def stranger(app_server: RunningApp) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_open_data_is_public_and_the_uk1_file_is_the_teams(
    door: TestDoor, app_server: RunningApp, stranger: aiohttp.ClientSession
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    contract = await post(priya)
    await priya.say(f"opportunities publish {contract}")
    grant = await post(priya, route=A_GRANT, title="Small grants for youth clubs")
    await priya.say(f"opportunities publish {grant}")
    await priya.fill(
        f"opportunities award {grant}",
        {
            0: {
                "organisation": "Riverside Youth Trust",
                "amount": "£9,000",
                "awarded_on": "2026-01-09",
            }
        },
    )
    await priya.fill(
        "pipeline plan",
        {0: {"title": "Youth clubs", "value_max": "£3,000,000", "publication_on": "2026-05-01"}},
    )
    base = app_server.url

    async with stranger.get(f"{base}/opportunities/{contract}/ocds.json") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert "ocds.json" in resp.headers["Content-Disposition"]
        package = json.loads(await resp.text())
    assert ocds_errors(package) == []
    assert package["releases"][0]["ocid"] == f"ocds-abc123-OPP-{contract}"

    async with stranger.get(f"{base}/grants/riverside/360giving.csv") as resp:
        assert resp.status == 200 and resp.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert [r["Recipient Org:Identifier"] for r in rows] == ["GB-CHC-1100001"]
    async with stranger.get(f"{base}/grants/riverside/360giving.xlsx") as resp:
        assert resp.status == 200 and (await resp.read())[:2] == b"PK"

    # The UK1 file needs signing in, and is only for the council's team.
    async with stranger.get(f"{base}/pipeline/riverside/uk1.csv", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/signin")
    tom = WebUser(base)
    web_priya = WebUser(base)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get("/pipeline/riverside/uk1.csv")
        assert status == 403 and "not yours to download" in text_of(html)
        await web_priya.sign_in_locally("Priya Shah")
        async with web_priya.client.get(f"{base}/pipeline/riverside/uk1.json") as resp:
            assert resp.status == 200
            document = json.loads(await resp.read())
        assert [p["title"] for p in document["plannedProcurements"]] == ["Youth clubs"]
        # The opportunity's page links to its open data; the pipeline to its UK1 files.
        words = quote_plus(f"show {contract}")
        status, html = await web_priya.get(f"/do/opportunities?words={words}")
        assert status == 200 and f'href="/opportunities/{contract}/ocds.json"' in html
        status, html = await web_priya.get("/do/pipeline")
        assert status == 200 and 'href="/pipeline/riverside/uk1.csv"' in html
    finally:
        await tom.close()
        await web_priya.close()
