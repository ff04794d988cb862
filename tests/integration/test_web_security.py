"""The web door's defences, over real HTTP against the real app on loopback.

Each test attacks one promise made in bot/web/auth.py and bot/web/routes.py (CSRF,
signed and expiring sessions, one-time sign-in links, size limits, per-organisation
drafts, local mode only on loopback, a polite page when the database is gone) and
checks the database afterwards, because "refused" only counts if nothing changed.
Where a refusal could pass for the wrong reason, a control shows the same request
succeeding when it is allowed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy import func, select

from bot.app import build_app, build_services, prepare
from bot.services import Services
from bot.settings import load_settings
from bot.web.auth import COOKIE, SessionCodec, WebSession, create_sign_in_link
from storage.models import AuditEvent, FormResponse, Organisation, Person
from tests.support.servers import RunningApp, start_app
from tests.support.web import CSRF, WebUser, form_action, text_of

EXPIRED_PAGE = "This page has expired"
BAD_LINK = "This sign-in link does not work"
OUR_SIDE = "Sorry, something went wrong on our side"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    """Defaults, unless a test parametrises this fixture indirectly (short sessions, public host).

    Per test rather than per module, so that a 1-second session cannot make the other
    tests here flaky.
    """
    return dict(getattr(request, "param", {}))


# --- helpers -----------------------------------------------------------------------------


def cookie_of(user: WebUser) -> str | None:
    """The session cookie the user's browser holds right now."""
    for morsel in user.client.cookie_jar:
        if morsel.key == COOKIE:
            return morsel.value
    return None


def codec_for(services: Services) -> SessionCodec:
    """The app's own codec (same key), to read session ids out of cookies."""
    return SessionCodec(services.settings.signing_key, services.settings.session_max_age_seconds)


async def raw_get(base: str, path: str, cookie: str | None = None) -> tuple[int, str, str]:
    """GET with exactly this cookie and no redirects followed: (status, Location, body)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
        client.get(base + path, headers=headers, allow_redirects=False) as resp,
    ):
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def person_id(services: Services, name: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == name))
    assert found is not None, name
    return found


async def open_grace_draft(user: WebUser) -> tuple[str, int]:
    """Grace opens her profile, which starts a draft. Returns the form's action and draft id."""
    await user.sign_in_locally("Grace Lee")
    status, html = await user.get("/do/profile")
    assert status == 200 and "About your organisation" in html
    action = form_action(html)
    return action, int(action.rsplit("/", 1)[1])


async def draft_state(services: Services, response_id: int) -> tuple[dict[str, Any], int, str]:
    """What is stored for a draft: its answers, current page and state."""
    async with services.db.session() as session:
        draft = await session.get(FormResponse, response_id)
    assert draft is not None
    return dict(draft.answers), draft.current_page, str(draft.state)


async def eastgate_name(services: Services) -> str:
    async with services.db.session() as session:
        name = await session.scalar(
            select(Organisation.name).where(Organisation.slug == "eastgate-community-kitchen")
        )
    assert name is not None
    return name


PAGE_ONE = {"_page": "0", "_intent": "next", "name": "Hijacked Kitchen", "legal_form": "cic"}


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "0" * 64, "for-another-session"])
async def test_form_post_without_the_right_csrf_token_is_refused_and_saves_nothing(
    web_user: WebUser, services: Services, token: str | None
) -> None:
    action, draft_id = await open_grace_draft(web_user)
    before = await draft_state(services, draft_id)
    data = dict(PAGE_ONE)
    if token == "for-another-session":  # a real token, but for somebody else's browser
        token = codec_for(services).csrf_token(WebSession(sid="someone-else"))
    if token is not None:
        data["csrf_token"] = token

    status, html = await web_user.post(action, data, csrf=False)

    assert status == 403
    page = text_of(html)
    assert EXPIRED_PAGE in page and "we did not save anything" in page
    assert await draft_state(services, draft_id) == before
    # Control: the same page with this browser's own token is accepted and saved.
    await web_user.get("/do/profile")
    status, html = await web_user.post(action, PAGE_ONE)
    assert status == 200, text_of(html)
    answers, page_index, _ = await draft_state(services, draft_id)
    assert answers["name"] == "Hijacked Kitchen" and page_index == 1


async def test_sign_in_and_sign_out_need_a_csrf_token(
    web_user: WebUser, services: Services
) -> None:
    """Without it another site could sign a visitor in as someone else, or sign them out."""
    grace = await person_id(services, "Grace Lee")
    await web_user.get("/signin")
    status, html = await web_user.post("/signin/local", {"person_id": str(grace)}, csrf=False)
    assert status == 403 and EXPIRED_PAGE in text_of(html)
    assert (await raw_get(web_user.base, "/", cookie_of(web_user)))[:2] == (303, "/signin")

    await web_user.sign_in_locally("Grace Lee")
    status, html = await web_user.post("/signout", {}, csrf=False)
    assert status == 403 and EXPIRED_PAGE in text_of(html)
    status, _, body = await raw_get(web_user.base, "/", cookie_of(web_user))
    assert status == 200 and "Hello Grace" in text_of(body)


# --- cookies and sessions ------------------------------------------------------------------


def _session_cookie_header(headers: Any) -> str:
    found = [h for h in headers.getall("Set-Cookie", []) if h.startswith(f"{COOKIE}=")]
    assert len(found) == 1, headers
    return str(found[0])


def _attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")[1:]]
    return {p.partition("=")[0].lower(): p.partition("=")[2] for p in parts if p}


async def test_session_cookies_are_http_only_and_same_site_lax(
    app_server: RunningApp, services: Services
) -> None:
    """Scripts cannot read the session, and other sites' forms do not carry it."""
    grace = await person_id(services, "Grace Lee")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(f"{app_server.url}/signin") as resp:
            first = _attributes(_session_cookie_header(resp.headers))
            html = await resp.text()
        token = CSRF.search(html).group(1)  # type: ignore[union-attr]
        async with client.post(
            f"{app_server.url}/signin/local",
            data={"person_id": str(grace), "csrf_token": token},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303
            signed_in = _attributes(_session_cookie_header(resp.headers))
    for attributes in (first, signed_in):
        assert "httponly" in attributes
        assert attributes.get("samesite") == "Lax"
        assert attributes.get("path") == "/"
        assert "secure" not in attributes  # plain http on loopback; https sets Secure
        # Kept past the session's end, so an expired session can be told apart and explained.
        assert int(attributes["max-age"]) > services.settings.session_max_age_seconds


async def _grace_cookie(web_user: WebUser) -> str:
    await web_user.sign_in_locally("Grace Lee")
    cookie = cookie_of(web_user)
    assert cookie is not None
    return cookie


async def test_a_tampered_session_cookie_counts_as_signed_out(
    web_user: WebUser, services: Services
) -> None:
    """Changing the person in the cookie, or signing it with another key, gets you nowhere."""
    genuine = await _grace_cookie(web_user)
    priya = await person_id(services, "Priya Shah")
    payload, timestamp, signature = genuine.rsplit(".", 2)
    sid = codec_for(services).load(genuine).sid
    claims_priya = base64_encode(json.dumps({"sid": sid, "pid": priya})).decode()
    salt = "convene.web.session"
    tampered = {
        "other person, same signature": f"{claims_priya}.{timestamp}.{signature}",
        "signed with another key": URLSafeTimedSerializer("guessed-key", salt=salt).dumps(
            {"sid": sid, "pid": priya}
        ),
        "signature cut off": f"{payload}.{timestamp}",
        "garbage": "not-a-session",
    }
    for how, cookie in tampered.items():
        for path in ("/", "/do/profile", "/do/directory", "/inbox"):
            status, location, _ = await raw_get(web_user.base, path, cookie)
            assert (status, location) == (303, "/signin"), (how, path)
        status, _, body = await raw_get(web_user.base, "/signin", cookie)
        page = text_of(body)
        assert status == 200 and "Sign out" not in page and "Eastgate" not in page, how
        assert "away for a while" not in page, how  # tampering is not an expired session

    # Control: a cookie signed with the real key does sign in, so the key is what protects.
    forged_with_real_key = URLSafeTimedSerializer(services.settings.signing_key, salt=salt).dumps(
        {"sid": sid, "pid": priya}
    )
    status, _, body = await raw_get(web_user.base, "/", forged_with_real_key)
    assert status == 200 and "Hello Priya" in text_of(body)
    status, _, body = await raw_get(web_user.base, "/", genuine)
    assert status == 200 and "Hello Grace" in text_of(body)


@pytest.mark.parametrize("settings_overrides", [{"session_max_age_seconds": 1}], indirect=True)
async def test_an_expired_session_signs_out_and_says_why(
    web_user: WebUser, services: Services
) -> None:
    assert services.settings.session_max_age_seconds == 1
    await web_user.sign_in_locally("Grace Lee")
    status, html = await web_user.get("/do/profile")
    assert status == 200 and "Eastgate Community Kitchen" in html  # signed in, for now

    await asyncio.sleep(2.1)  # signatures carry whole seconds: 2.1 s is always over 1 s

    async with web_user.client.get(f"{web_user.base}/do/profile", allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "/signin?expired=1"
    status, html = await web_user.get("/do/profile")
    page = text_of(html)
    assert status == 200
    assert "You were signed out because you were away for a while" in page
    assert "Eastgate" not in page and "Sign out" not in page and "About your" not in page


# --- sign-in links -------------------------------------------------------------------------


async def _link(services: Services, name: str, ttl: timedelta) -> str:
    who = await person_id(services, name)
    async with services.db.session() as session:
        return await create_sign_in_link(session, who, now=services.clock.now(), ttl=ttl)


@pytest.mark.parametrize("kind", ["unknown", "expired", "too long"])
async def test_a_bad_sign_in_link_is_refused(
    web_user: WebUser, services: Services, kind: str
) -> None:
    if kind == "unknown":
        token = "x" * 43
    elif kind == "expired":
        token = await _link(services, "Grace Lee", timedelta(seconds=-1))
    else:
        token = "y" * 5000
    status, html = await web_user.get(f"/signin/{token}")
    assert status == 400
    assert BAD_LINK in text_of(html)
    assert (await raw_get(web_user.base, "/", cookie_of(web_user)))[:2] == (303, "/signin")


async def test_a_sign_in_link_works_once(app_server: RunningApp, services: Services) -> None:
    token = await _link(services, "Grace Lee", timedelta(hours=1))
    first, second = WebUser(app_server.url), WebUser(app_server.url)
    try:
        status, html = await first.use_sign_in_link(token)
        assert status == 200 and "Hello Grace" in text_of(html)
        status, html = await second.use_sign_in_link(token)
        assert status == 400 and BAD_LINK in text_of(html)
        assert (await raw_get(second.base, "/", cookie_of(second)))[:2] == (303, "/signin")
        status, html = await first.use_sign_in_link(token)  # not even for the same browser
        assert status == 400
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("how", ["demo list", "sign-in link"])
async def test_signing_in_starts_a_new_session(
    web_user: WebUser, services: Services, how: str
) -> None:
    """Session fixation: a cookie planted before sign-in must not become a signed-in one."""
    await web_user.get("/signin")
    planted = cookie_of(web_user)
    assert planted is not None
    if how == "demo list":
        await web_user.sign_in_locally("Grace Lee")
    else:
        token = await _link(services, "Grace Lee", timedelta(hours=1))
        status, _ = await web_user.use_sign_in_link(token)
        assert status == 200
    signed_in = cookie_of(web_user)
    assert signed_in is not None
    codec = codec_for(services)
    before, after = codec.load(planted), codec.load(signed_in)
    assert before.person_id is None
    assert after.person_id == await person_id(services, "Grace Lee")
    assert after.sid != before.sid
    assert codec.csrf_token(after) != codec.csrf_token(before)
    assert (await raw_get(web_user.base, "/", planted))[:2] == (303, "/signin")


# --- what is sent --------------------------------------------------------------------------


async def test_an_over_long_answer_gets_a_clear_message_and_saves_nothing(
    web_user: WebUser, services: Services
) -> None:
    action, draft_id = await open_grace_draft(web_user)
    before = await draft_state(services, draft_id)
    status, html = await web_user.post(action, {**PAGE_ONE, "name": "x" * 5000})
    assert status == 422
    page = text_of(html)
    assert "There is a problem" in page and "200 characters or fewer" in page
    assert await draft_state(services, draft_id) == before
    assert await eastgate_name(services) == "Eastgate Community Kitchen"


@pytest.mark.parametrize(
    ("size", "chunked"),
    [(2_000_000, False), (2_000_000, True), (300_000, False)],
    ids=["2 MB with length", "2 MB chunked", "300 kB with length"],
)
async def test_a_huge_body_is_refused_and_saves_nothing(
    web_user: WebUser, services: Services, size: int, chunked: bool
) -> None:
    """Refused whether the client says its size up front or streams it. 300 kB is over the
    web door's own 256 kB limit but under aiohttp's 1 MB one, so it tests ours."""
    action, draft_id = await open_grace_draft(web_user)
    before = await draft_state(services, draft_id)
    body = f"csrf_token={web_user.csrf()}&_page=0&_intent=next&name={'x' * size}".encode()

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async with web_user.client.post(
        web_user.base + action,
        data=stream() if chunked else io.BytesIO(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as resp:
        status, html = resp.status, await resp.text()
    assert status == 413
    page = text_of(html)
    assert "That was too much to send" in page and "shorten your answers" in page
    assert await draft_state(services, draft_id) == before


@pytest.mark.parametrize(
    ("path_suffix", "fields"),
    [
        ("abc", {"_page": "0"}),
        ("", {"_page": "two"}),
        ("", {"_page": "0", "_intent": "delete"}),
    ],
    ids=["form id", "page", "intent"],
)
async def test_a_form_post_we_cannot_read_is_a_400_and_saves_nothing(
    web_user: WebUser, services: Services, path_suffix: str, fields: dict[str, str]
) -> None:
    action, draft_id = await open_grace_draft(web_user)
    before = await draft_state(services, draft_id)
    path = f"/forms/{path_suffix}" if path_suffix else action
    status, html = await web_user.post(path, {"_intent": "next", "name": "Odd", **fields})
    assert status == 400
    page = text_of(html)
    assert "We could not read that form" in page and "Nothing was saved" in page
    assert await draft_state(services, draft_id) == before


@pytest.mark.parametrize("intruder", ["Tom Okafor", "Priya Shah"])
async def test_nobody_outside_the_organisation_can_post_to_its_draft(
    web_user: WebUser, app_server: RunningApp, services: Services, intruder: str
) -> None:
    """Draft ids are guessable numbers, so every page sent is checked against who sends it."""
    action, draft_id = await open_grace_draft(web_user)
    before = await draft_state(services, draft_id)
    other = WebUser(app_server.url)
    try:
        await other.sign_in_locally(intruder)
        status, html = await other.post(action, PAGE_ONE)
        assert status == 200
        assert "This form belongs to another organisation" in text_of(html)
        status, html = await other.post(
            action,
            [("_page", "2"), ("_intent", "submit"), ("service_areas", "food")],
        )
        assert "This form belongs to another organisation" in text_of(html)
    finally:
        await other.close()

    assert await draft_state(services, draft_id) == before
    assert await eastgate_name(services) == "Eastgate Community Kitchen"
    intruder_id = await person_id(services, intruder)
    async with services.db.session() as session:
        refused = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "form.refused"))
        ).all()
        submitted = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "form.submitted")
        )
    assert len(refused) == 2
    assert {(e.actor_id, e.object_id, e.door) for e in refused} == {
        (intruder_id, str(draft_id), "web")
    }
    assert submitted == 0


async def test_a_page_for_a_form_that_does_not_exist_says_it_is_no_longer_open(
    web_user: WebUser, services: Services
) -> None:
    await web_user.sign_in_locally("Grace Lee")
    async with services.db.session() as session:
        count_before = await session.scalar(select(func.count()).select_from(FormResponse))
    status, html = await web_user.post("/forms/987654", PAGE_ONE)
    assert status == 200
    assert "That form is no longer open, so nothing was saved" in text_of(html)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(FormResponse)) == (
            count_before
        )
    assert await eastgate_name(services) == "Eastgate Community Kitchen"


# --- local mode ----------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"host": "0.0.0.0"}], indirect=True)
async def test_local_sign_in_is_off_on_a_public_address(
    web_user: WebUser, services: Services
) -> None:
    """On 0.0.0.0 anyone could pick a demo person, so the list and the endpoint are gone."""
    assert not services.settings.local_mode_enabled
    status, html = await web_user.get("/signin")
    assert status == 200 and "Sign in as" not in text_of(html)
    # Even with a valid CSRF token for this browser, the endpoint does not exist.
    codec = codec_for(services)
    token = codec.csrf_token(codec.load(cookie_of(web_user)))
    grace = await person_id(services, "Grace Lee")
    status, html = await web_user.post(
        "/signin/local", {"person_id": str(grace), "csrf_token": token}, csrf=False
    )
    assert status == 404 and "Page not found" in text_of(html)
    assert (await raw_get(web_user.base, "/", cookie_of(web_user)))[:2] == (303, "/signin")


# --- health and a failing database ---------------------------------------------------------


async def test_healthz_answers_ok(app_server: RunningApp) -> None:
    async with aiohttp.ClientSession() as client, client.get(f"{app_server.url}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True}


def _assert_polite_503(status: int, html: str) -> None:
    page = text_of(html)
    assert status == 503, page
    assert OUR_SIDE in page and "nothing was saved" in page
    for leak in ("Traceback", "sqlite", "OperationalError", "asyncpg", "postgres"):
        assert leak.lower() not in html.lower(), leak


@pytest.fixture
async def doomed_sqlite(tmp_path: Path) -> AsyncIterator[tuple[Services, RunningApp, Path]]:
    """An app on its own SQLite file, whatever the test backend, so the file can be taken away."""
    folder = tmp_path / "doomed"
    folder.mkdir()
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'convene.db'}",
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
    )
    services = build_services(settings)
    await prepare(services, demo_if_empty=True)
    running = await start_app(build_app(services))
    try:
        yield services, running, folder
    finally:
        await running.stop()
        await _aiosqlite_threads_stopped()


async def _aiosqlite_threads_stopped() -> None:
    """aiosqlite stops a worker thread after a failed connect without waiting for it; let those
    threads finish while the event loop is still open, or they raise into a later test."""
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 5)


async def test_a_database_that_goes_away_gives_a_polite_503(
    doomed_sqlite: tuple[Services, RunningApp, Path], caplog: pytest.LogCaptureFixture
) -> None:
    services, running, folder = doomed_sqlite
    user = WebUser(running.url)
    try:
        action, _ = await open_grace_draft(user)  # all fine while the database is there
        page_one = {**PAGE_ONE, "csrf_token": user.csrf()}  # the 503 page has no form to copy

        shutil.rmtree(folder)
        # Open SQLite connections keep a deleted file alive; drop them, as a restart would.
        await services.db.engine.dispose()

        with caplog.at_level(logging.ERROR, logger="bot.web.routes"):
            _assert_polite_503(*await user.post(action, page_one, csrf=False))
            for path in ("/", "/do/profile", "/signin"):
                _assert_polite_503(*await user.get(path))
        assert any("database error" in r.getMessage() for r in caplog.records)

        async with user.client.get(f"{running.url}/healthz") as resp:  # still up, says why
            assert resp.status == 503
            assert (await resp.json())["ok"] is False
    finally:
        await user.close()


async def test_an_unreachable_database_gives_a_polite_503(tmp_path: Path) -> None:
    """PostgreSQL that is not there at all (nothing listens on port 1)."""
    settings = load_settings(
        database_url="postgresql+asyncpg://convene@127.0.0.1:1/convene",
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
    )
    services = build_services(settings)
    running = await start_app(build_app(services))
    user = WebUser(running.url)
    try:
        _assert_polite_503(*await user.get("/signin"))
        codec = codec_for(services)
        token = codec.csrf_token(codec.load(cookie_of(user)))
        _assert_polite_503(
            *await user.post("/signin/local", {"person_id": "1", "csrf_token": token}, csrf=False)
        )
        async with user.client.get(f"{running.url}/healthz") as resp:
            assert resp.status == 503
            body = await resp.json()
        # Anyone can ask, so it names no server or user; the reason is in the log.
        assert body == {"ok": False, "database": "unreachable"}
    finally:
        await user.close()
        await running.stop()
