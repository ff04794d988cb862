"""The privacy notice, terms of use and accessibility statement.

The Teams app manifest links the first two, and public sector websites must publish
the third. Each names who runs this Convene and how to reach them, is linked from
every page's footer, and can be read with nobody signed in and no database at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from bot.app import build_app, build_services
from bot.settings import load_settings
from tests.support.servers import RunningApp, start_app
from tests.support.web import WebUser, text_of

OPERATOR = "Riverside Borough Council"
EMAIL = "privacy@riverside.example"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest" / "teams" / "manifest.json"

PAGES = {
    "/privacy": [
        "Privacy notice",
        "What Convene keeps",
        "Who can see what",
        "Anonymous feedback has no name",
        # Honest confidentiality: auditors and Freedom of Information, not "stays between".
        "Other providers never hear about a private conversation with a council team",
        "internal auditors may check answers",
        "Freedom of Information Act 2000",
        "sections 41 and 43",
        "promised not to use engagement and readiness answers to score bids",
        "How long we keep it",
        "To have your details removed",
        "Removed person",
        "Convene uses one cookie",
        "no tracking",
        "Information Commissioner's Office",
    ],
    "/terms": ["Terms of use", "Keep your sign-in links and invite codes to yourself"],
    "/accessibility": [
        "Accessibility statement",
        "WCAG) version 2.2 at level AA",
        "Telling us about a problem",
        "Equality and Human Rights Commission",
        "Equality Advisory and Support Service",
        "(No. 2) Accessibility Regulations 2018",
    ],
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"operator_name": OPERATOR, "operator_email": EMAIL}


@pytest.mark.parametrize("path", list(PAGES))
async def test_each_page_is_there_and_names_who_runs_convene(
    app_server: RunningApp, path: str
) -> None:
    async with aiohttp.ClientSession() as client, client.get(app_server.url + path) as resp:
        status, html = resp.status, await resp.text()
    page = text_of(html)
    assert status == 200, page
    assert f"run by {OPERATOR}" in page
    for words in PAGES[path]:
        assert words in page, words
    if path != "/terms":
        assert f'href="mailto:{EMAIL}"' in html


async def test_without_an_email_address_the_pages_say_who_to_ask(tmp_path: Path) -> None:
    """The default operator and no email: still a way to ask, never an empty link."""
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'none.db'}",
        secret_key="test-secret-key",
        scheduler_enabled=False,
    )
    running = await start_app(build_app(build_services(settings)))
    try:
        async with aiohttp.ClientSession() as client:
            for path in PAGES:
                async with client.get(running.url + path) as resp:
                    html = await resp.text()
                    assert resp.status == 200
                assert "mailto:" not in html
                assert "the council that runs this service" in text_of(html)
                assert "ask your council contact" in text_of(html)
    finally:
        await running.stop()


async def test_the_pages_need_no_database(tmp_path: Path) -> None:
    """People can read what they agreed to even while everything else is down."""
    settings = load_settings(
        database_url="postgresql+asyncpg://convene@127.0.0.1:1/convene",
        secret_key="test-secret-key",
        scheduler_enabled=False,
        operator_name=OPERATOR,
    )
    running = await start_app(build_app(build_services(settings)))
    try:
        async with aiohttp.ClientSession() as client:
            for path in PAGES:
                async with client.get(running.url + path) as resp:
                    assert resp.status == 200, path
                    assert OPERATOR in text_of(await resp.text())
    finally:
        await running.stop()


async def test_every_page_links_them_in_its_footer(web_user: WebUser) -> None:
    pages = [await web_user.get("/signin"), await web_user.get("/nope")]
    await web_user.sign_in_locally("Grace Lee")
    pages += [
        await web_user.get("/"),
        await web_user.get("/do/profile"),
        await web_user.get("/inbox"),
        await web_user.get("/privacy"),
    ]
    for _, html in pages:
        footer = html[html.index("<footer") :]
        for path in PAGES:
            assert f'href="{path}"' in footer, path
    assert "Sign out Grace Lee" in text_of(pages[2][1])


def test_the_teams_manifest_links_pages_that_exist() -> None:
    manifest = json.loads(MANIFEST.read_text())
    links = {manifest["developer"][key] for key in ("privacyUrl", "termsOfUseUrl")}
    assert {re.sub(r"^\{\{PUBLIC_URL\}\}", "", link) for link in links} <= set(PAGES)
