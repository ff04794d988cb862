"""The agreements register over real HTTP through the web door: the register file needs
signing in and is only for the council's own team; the list links to it; a party sees its
agreement and another provider is told it was not found."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import quote_plus

import aiohttp
import pytest

from tests.features.test_agreements import NOW, answers, record
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


@pytest.fixture
async def stranger(app_server: RunningApp) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_the_register_file_is_the_teams_and_parties_see_only_their_own(
    door: TestDoor, app_server: RunningApp, stranger: aiohttp.ClientSession
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    base = app_server.url

    async with stranger.get(
        f"{base}/agreements/riverside/register.csv", allow_redirects=False
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/signin")
    web_priya, tom, grace = WebUser(base), WebUser(base), WebUser(base)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get("/agreements/riverside/register.csv")
        assert status == 403 and "not yours to download" in text_of(html)
        words = quote_plus(f"show {agreement_id}")
        status, html = await tom.get(f"/do/agreements?words={words}")
        assert status == 200 and "Youth clubs in Preston" in text_of(html)

        await grace.sign_in_locally("Grace Lee")
        status, html = await grace.get(f"/do/agreements?words={words}")
        assert "couldn't find that agreement" in text_of(html)
        assert "Youth clubs in Preston" not in text_of(html)

        await web_priya.sign_in_locally("Priya Shah")
        async with web_priya.client.get(f"{base}/agreements/riverside/register.csv") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert [r["Title"] for r in rows] == ["Youth clubs in Preston"]
        async with web_priya.client.get(f"{base}/agreements/riverside/register.xlsx") as resp:
            assert resp.status == 200 and (await resp.read())[:2] == b"PK"
        status, html = await web_priya.get("/do/agreements")
        assert status == 200 and 'href="/agreements/riverside/register.csv"' in html
    finally:
        for user in (web_priya, tom, grace):
            await user.close()
