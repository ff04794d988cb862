"""What every response tells the browser, and what odd input gets back.

Security headers are checked on every kind of response the server sends: pages,
redirects, errors, static files, downloads, JSON, and the Slack and Teams endpoints.
Bad input (a CSRF token with letters outside ASCII, numbers far too big to be ids)
must get a plain refusal, never a 500 or a "database unreachable" page: on SQLite the
driver cannot even hold such a number, and PostgreSQL refuses to look it up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.web.auth import COOKIE, SessionCodec
from handlers.engagements import STEPS
from storage.models import AuditEvent, JoinRequest, Person
from tests.support.doors import chat_door_settings
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
TEMPLATES = Path(__file__).resolve().parents[2] / "bot" / "web" / "templates"
#: Past what SQLite's driver can hold (2**63) and past PostgreSQL's `integer` (2**31).
TOO_BIG = ["99999999999999999999", "2147483648"]
EXPIRED_PAGE = "This page has expired"


@pytest.fixture
def settings_overrides(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, fake_teams: FakeBotFramework
) -> dict[str, object]:
    """Slack and Teams on (aimed at their fakes), so their endpoints answer for themselves."""
    return {**chat_door_settings(fake_slack, fake_teams), **getattr(request, "param", {})}


# --- security headers ----------------------------------------------------------------------


def assert_secured(headers: Any, what: str, *, https: bool = False) -> None:
    assert headers.get("Content-Security-Policy") == CSP, what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    if https:
        assert headers.get("Strict-Transport-Security") == HSTS, what
    else:
        assert "Strict-Transport-Security" not in headers, what


async def _download_link(user: WebUser) -> str:
    """Priya asks for the directory as a spreadsheet and gets a download link."""
    await user.sign_in_locally("Priya Shah")
    status, html = await user.get("/do/export?what=directory&format=csv")
    found = re.search(r'href="(/downloads/[^"]+)"', html)
    assert status == 200 and found, text_of(html)
    return found.group(1)


async def test_every_kind_of_response_carries_the_security_headers(
    app_server: RunningApp, web_user: WebUser
) -> None:
    link = await _download_link(web_user)
    base = app_server.url
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/signin", {}, 200),
        ("GET", "/", {}, 200),  # signed in: the home page
        ("GET", "/static/convene.css", {}, 200),
        ("GET", link, {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("GET", "/downloads/not-a-ticket", {}, 404),
        ("POST", "/signout", {"data": {"csrf_token": "wrong"}}, 403),
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/privacy", {}, 200),
        ("POST", "/slack/events", {"json": {"type": "url_verification"}}, 401),
        ("POST", "/api/messages", {"json": {"type": "message"}}, 401),
    ]
    for method, path, kwargs, expected in requests:
        async with web_user.client.request(
            method, base + path, allow_redirects=False, **kwargs
        ) as resp:
            assert resp.status == expected, (path, resp.status, await resp.text())
            assert_secured(resp.headers, path)
            if path == link:
                assert resp.headers["Content-Disposition"].startswith("attachment")
    async with (
        aiohttp.ClientSession() as stranger,
        stranger.get(base + "/do/profile", allow_redirects=False) as resp,
    ):
        assert resp.status == 303  # a redirect to sign in
        assert_secured(resp.headers, "redirect")


@pytest.mark.parametrize(
    "settings_overrides", [{"public_url": "https://convene.example.org"}], indirect=True
)
async def test_https_sites_also_ask_browsers_to_stay_on_https(app_server: RunningApp) -> None:
    async with aiohttp.ClientSession() as client:
        for path in ("/signin", "/healthz", "/static/convene.css", "/nope"):
            async with client.get(app_server.url + path, allow_redirects=False) as resp:
                assert_secured(resp.headers, path, https=True)


def test_no_page_needs_inline_script_or_style() -> None:
    """The policy allows no inline script or style, so the templates must have none."""
    inline = re.compile(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = {
        template.name: match.group(0)
        for template in TEMPLATES.glob("*.html")
        for match in [inline.search(template.read_text())]
        if match
    }
    assert found == {}
    assert len(list(TEMPLATES.glob("*.html"))) >= 10  # the glob found the templates


# --- CSRF tokens that are not even ASCII ---------------------------------------------------


@pytest.mark.parametrize("token", ["é" * 64, "токен", "\u2028", "0" * 63 + "é"])
async def test_a_csrf_token_outside_ascii_is_a_plain_403(
    web_user: WebUser, services: Services, token: str
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    for path, data in (
        ("/signout", {}),
        ("/signin/local", {"person_id": "1"}),
        ("/signin/" + "x" * 43, {}),
        ("/forms/1", {"_page": "0"}),
        ("/do/join", {"code": "ABCD-2345"}),
        ("/actions/join.approve", {"value": "1"}),
    ):
        status, html = await web_user.post(path, {**data, "csrf_token": token}, csrf=False)
        assert status == 403, (path, status, text_of(html))
        assert EXPIRED_PAGE in text_of(html)
    status, html = await web_user.get("/")
    assert status == 200 and "Hello Tom" in text_of(html)  # still signed in: nothing ran


# --- numbers too big to be ids --------------------------------------------------------------


@pytest.mark.parametrize("number", TOO_BIG)
async def test_a_form_id_too_big_to_be_one_is_a_400(
    web_user: WebUser, services: Services, number: str
) -> None:
    await web_user.sign_in_locally("Grace Lee")
    status, html = await web_user.post(f"/forms/{number}", {"_page": "0", "_intent": "next"})
    assert status == 400, text_of(html)
    assert "We could not read that form" in text_of(html)


@pytest.mark.parametrize("number", [*TOO_BIG, "-1", "0", "١٢"])
async def test_a_person_id_too_big_to_be_one_is_a_400(web_user: WebUser, number: str) -> None:
    await web_user.get("/signin")
    status, html = await web_user.post("/signin/local", {"person_id": number})
    assert status == 400 and "Choose a person from the list" in text_of(html)


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize(
    "action", ["join.approve", "join.decline", "join.remove", "deliveries.retry"]
)
async def test_a_button_value_too_big_to_be_an_id_is_a_400(
    web_user: WebUser, services: Services, number: str, action: str
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    async with services.db.session() as session:
        before = await session.scalar(select(func.count()).select_from(AuditEvent))
    status, html = await web_user.post(f"/actions/{action}", {"value": number})
    assert status == 400, text_of(html)
    assert "We could not read that button" in text_of(html)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == before
    # Control: a number that could be an id is looked up, and simply not found.
    await web_user.get("/")  # a page with this browser's CSRF token on it
    status, html = await web_user.post(f"/actions/{action}", {"value": "987654"})
    assert status == 200
    assert re.search(r"could not be found|not part of the organisation|Only", text_of(html))


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_an_engagement_record_too_big_to_be_one_is_not_found(
    web_user: WebUser, number: str, suffix: str
) -> None:
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get(f"/engagements/{number}/record{suffix}")
    assert status == 404 and "Page not found" in text_of(html)


async def test_no_command_turns_a_huge_number_into_a_server_error(
    app_server: RunningApp, services: Services
) -> None:
    """Every command and engagement step, given numbers that cannot be ids, as a provider
    and as a commissioner: each answers with a page, never a 500 or a 503."""
    steps = sorted(step.name for step in STEPS)
    texts = [f"{command} {number}" for command in services.router.commands for number in TOO_BIG]
    texts += [f"engagements {step} {number}" for step in steps for number in TOO_BIG]
    texts += [f"engagements reply {TOO_BIG[0]} {TOO_BIG[1]}"]
    for name in ("Tom Okafor", "Priya Shah"):
        user = WebUser(app_server.url)
        try:
            await user.sign_in_locally(name)
            for text in texts:
                command, _, words = text.partition(" ")
                status, html = await user.get(f"/do/{command}", params={"words": words})
                assert status < 500, (name, text, text_of(html))
                if "Please confirm" in text_of(html):
                    status, html = await user.post(f"/do/{command}", {"words": words})
                    assert status < 500, (name, text, text_of(html))
                status, html = await user.get(f"/do/{command}", params={"id": TOO_BIG[0]})
                assert status < 500, (name, text, "id=", text_of(html))
        finally:
            await user.close()
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(JoinRequest)) == 0


async def test_an_old_cookie_without_a_generation_still_counts_for_generation_zero(
    web_user: WebUser, services: Services
) -> None:
    """Cookies signed before this release carry no generation: they stay good until the
    person first signs out, so upgrading Convene signs nobody out."""
    from itsdangerous import URLSafeTimedSerializer

    async with services.db.session() as session:
        grace = await session.scalar(select(Person.id).where(Person.name == "Grace Lee"))
    old = URLSafeTimedSerializer(services.settings.signing_key, salt="convene.web.session").dumps(
        {"sid": "an-old-session", "pid": grace}
    )
    codec = SessionCodec(services.settings.signing_key, services.settings.session_max_age_seconds)
    assert codec.load(old).generation == 0
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
        client.get(web_user.base + "/", headers={"Cookie": f"{COOKIE}={old}"}) as resp,
    ):
        assert resp.status == 200 and "Hello Grace" in text_of(await resp.text())
