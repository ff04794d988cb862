"""The web door as an application, over real HTTP: each role's navigation (declared by the
features, marked where you are), a title of its own on every page it reaches, landing
pages with a next step, the join and find pages, and friendly 404 and 405 pages."""

from __future__ import annotations

import re
from html import unescape

import aiohttp
import pytest

from bot.services import Services
from storage.models import Person
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

MAIN_NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')
TITLE = re.compile(r"<title>(.*?)</title>", re.S)

#: What each demo person's main navigation says, in order.
EXPECTED = {
    "Tom Okafor": [
        "Home",
        "Opportunities",
        "Engagements",
        "Agreements",
        "Our organisation",
        "How we tell you",
        "Messages",
    ],
    "Priya Shah": [
        "Dashboard",
        "Home",
        "Opportunities",
        "Engagements",
        "Agreements",
        "Providers",
        "Readiness",
        "Feedback",
        "Exports",
        "How we tell you",
        "Messages",
    ],
    "Alex Morgan": ["Home", "Deliveries", "Find an organisation", "How we tell you", "Messages"],
}


def nav_of(html: str) -> list[tuple[str, str, bool]]:
    """(label, href, is the current page) for each link in the main navigation."""
    found = MAIN_NAV.search(html)
    assert found, "no main navigation on the page"
    return [
        (unescape(label).strip(), unescape(href), bool(current))
        for href, current, label in LINK.findall(found.group(1))
    ]


def title_of(html: str) -> str:
    found = TITLE.search(html)
    assert found, "no <title>"
    return unescape(found.group(1)).strip()


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_each_role_walks_its_navigation_and_every_page_has_its_own_title(
    web_user: WebUser, name: str
) -> None:
    home = await web_user.sign_in_locally(name)
    links = nav_of(home)
    assert [label for label, _, _ in links] == EXPECTED[name]
    # Home is marked as the page you are on, and nothing else is (a commissioner's Dashboard
    # comes first in the list, but "/" is Home for everyone).
    assert [label for label, _, current in links if current] == ["Home"]
    titles = {"/": title_of(home)}
    for label, href, _ in links:
        status, html = await web_user.get(href)
        assert status == 200, f"{label} ({href}): {status}"
        here = [lab for lab, _, current in nav_of(html) if current]
        assert here == [label], f"{href} marks {here} as the current page"
        titles[href] = title_of(html)
    for href, title in titles.items():
        assert title.endswith(" – Convene") and title != "Convene", f"{href}: {title!r}"
    # A page reached twice (Home is "/" and /do/home) may share a title; nothing else.
    distinct = {title for href, title in titles.items() if href != "/"}
    assert len(distinct) == len(titles) - 1, titles


async def test_the_admins_home_lists_what_they_can_do(web_user: WebUser) -> None:
    html = await web_user.sign_in_locally("Alex Morgan")
    text = text_of(html)
    assert "What you can do as a Convene admin" in text
    main = html.split('<main id="main">', 1)[1]
    assert 'href="/do/deliveries"' in main and 'href="/find"' in main
    status, deliveries = await web_user.get("/do/deliveries")
    assert status == 200 and "Deliveries – Convene" in deliveries


async def test_someone_in_no_organisation_is_shown_how_to_join(
    web_user: WebUser, services: Services
) -> None:
    async with services.db.session() as db:
        db.add(Person(name="Sam Newcomer", email="sam@newcomer.example", is_demo=True))
        await db.commit()
    home = await web_user.sign_in_locally("Sam Newcomer")
    assert "Join your organisation" in text_of(home)
    assert [label for label, _, _ in nav_of(home)] == ["Home", "How we tell you", "Messages"]
    status, page = await web_user.get("/join")
    assert status == 200 and title_of(page) == "Join your organisation – Convene"
    assert 'action="/do/join"' in page and 'name="code"' in page and 'name="request"' in page
    status, answer = await web_user.post("/do/join", {"code": "NOPE-2345"})
    assert status == 200
    assert "That code doesn't work" in text_of(answer)
    assert title_of(answer) == "Join – Convene"


async def test_find_an_organisation_by_name(web_user: WebUser) -> None:
    await web_user.sign_in_locally("Alex Morgan")
    status, page = await web_user.get("/find")
    assert status == 200 and title_of(page) == "Find an organisation – Convene"
    assert re.search(r'<form method="get" action="/do/organisation"', page)
    status, found = await web_user.get("/do/organisation", params={"name": "Riverside Youth"})
    assert status == 200 and title_of(found) == "Riverside Youth Trust – Convene"


async def test_a_missing_page_is_a_friendly_page_with_a_way_home(web_user: WebUser) -> None:
    for path in ("/no-such-page", "/do/home/and-more", "/signin/a/b"):
        status, html = await web_user.get(path)
        assert status == 404, path
        assert title_of(html) == "Page not found – Convene"
        assert 'href="/"' in html.split('<main id="main">', 1)[1]


async def test_a_wrong_method_is_a_friendly_page_that_says_what_is_allowed(
    app_server: RunningApp,
) -> None:
    async with aiohttp.ClientSession() as client, client.put(app_server.url + "/privacy") as resp:
        html = await resp.text()
        assert resp.status == 405 and "GET" in resp.headers["Allow"]
        assert resp.content_type == "text/html"
        assert title_of(html) == "This page cannot do that – Convene"
        assert "Nothing was changed" in text_of(html)


async def test_programs_still_get_plain_answers(app_server: RunningApp) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(app_server.url + "/healthz") as resp:
            assert resp.status == 405 and resp.content_type == "text/plain"
        async with client.get(app_server.url + "/api/nothing-here") as resp:
            assert resp.status == 404 and resp.content_type == "text/plain"
        async with client.post(app_server.url + "/slack/nothing-here") as resp:
            assert resp.status == 404 and resp.content_type == "text/plain"


async def test_the_site_has_an_icon(app_server: RunningApp, web_user: WebUser) -> None:
    async with aiohttp.ClientSession() as client:
        for path in ("/favicon.ico", "/static/favicon.svg"):
            async with client.get(app_server.url + path) as resp:
                assert resp.status == 200 and resp.content_type == "image/svg+xml", path
                assert (await resp.read()).startswith(b"<svg")
    _, html = await web_user.get("/signin")
    assert '<link rel="icon" href="/static/favicon.svg"' in html
