"""Signing in over the web: who the password-less list is for, links that email scanners
cannot spoil, and a limit on how often one address may try.

Everything goes over real HTTP to the real app on loopback. Where a refusal could pass
for the wrong reason, a control shows the same request being accepted when it should be.
"""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from bot.services import Services
from bot.web.auth import COOKIE, SessionCodec, create_sign_in_link, hash_token
from storage.models import Organisation, Person, Role, SignInToken
from storage.people import grant
from tests.support.servers import RunningApp
from tests.support.web import CSRF, WebUser, get_with_cookie, text_of

PUBLIC = "https://convene.example.org"
BAD_LINK = "This sign-in link does not work"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    """Defaults, unless a test parametrises this fixture indirectly."""
    return dict(getattr(request, "param", {}))


async def person_id(services: Services, name: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == name))
    assert found is not None, name
    return found


async def make_link(services: Services, name: str) -> str:
    who = await person_id(services, name)
    async with services.db.session() as session:
        return await create_sign_in_link(
            session, who, now=services.clock.now(), ttl=timedelta(hours=1)
        )


async def link_used(services: Services, token: str) -> bool:
    async with services.db.session() as session:
        row = await session.scalar(
            select(SignInToken).where(SignInToken.token_hash == hash_token(token))
        )
    assert row is not None
    return row.used_at is not None


class Visitor:
    """A browser that keeps its session cookie by hand, so it works with Secure cookies
    over plain http too (behind a proxy, the proxy speaks https to the browser)."""

    def __init__(self, base: str, forwarded_for: str | None = None) -> None:
        self.base = base
        self.cookie: str | None = None
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}

    async def request(
        self, method: str, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = dict(self.headers)
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        async with (
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
            client.request(
                method, self.base + path, data=data, headers=headers, allow_redirects=False
            ) as resp,
        ):
            for morsel in resp.cookies.values():
                if morsel.key == COOKIE:
                    self.cookie = morsel.value
            return resp.status, dict(resp.headers), await resp.text()

    async def csrf(self, services: Services) -> str:
        """This browser's CSRF token, as the page would carry it (a page with no form, such
        as the sign-in page off a trial, shows none: it is worked out from the cookie)."""
        _, _, html = await self.request("GET", "/signin")
        codec = SessionCodec(
            services.settings.signing_key, services.settings.session_max_age_seconds
        )
        token = codec.csrf_token(codec.load(self.cookie))
        found = CSRF.search(html)
        assert found is None or found.group(1) == token
        return token


# --- who the password-less list is for ------------------------------------------------------


@pytest.mark.parametrize(
    "settings_overrides",
    [{"public_url": PUBLIC}, {"host": "0.0.0.0"}, {"public_url": PUBLIC, "local_mode": True}],
    ids=["behind a proxy on loopback", "on every address", "local mode forced on"],
    indirect=True,
)
async def test_off_a_local_trial_nobody_can_sign_in_without_a_link(
    app_server: RunningApp, services: Services
) -> None:
    """Behind a reverse proxy Convene listens on 127.0.0.1 too, but the whole internet
    reaches it through the proxy: the list and the endpoint must both be gone."""
    assert not services.settings.is_local_trial
    visitor = Visitor(app_server.url)
    status, _, html = await visitor.request("GET", "/signin")
    assert status == 200
    page = text_of(html)
    assert "Sign in as" not in page and "demo person" not in page
    assert "Grace Lee" not in page and "Priya Shah" not in page

    grace = await person_id(services, "Grace Lee")
    token = await visitor.csrf(services)
    status, _, html = await visitor.request(
        "POST", "/signin/local", {"person_id": str(grace), "csrf_token": token}
    )
    assert status == 404 and "Page not found" in text_of(html)
    assert (await get_with_cookie(app_server.url, "/", visitor.cookie))[:2] == (303, "/signin")


@pytest.mark.parametrize(
    "settings_overrides",
    [{"public_url": PUBLIC}, {"host": "0.0.0.0"}, {}],
    ids=["behind a proxy on loopback", "on every address", "plain local trial"],
    indirect=True,
)
async def test_teams_without_an_app_id_only_answers_in_a_local_trial(
    app_server: RunningApp, services: Services
) -> None:
    """Without MICROSOFT_APP_ID nobody's token can be checked, so /api/messages is only
    there for a trial on this computer (with the Bot Framework Emulator)."""
    assert services.settings.microsoft_app_id is None
    activity = {
        "type": "message",
        "text": "help",
        "from": {"id": "29:someone", "name": "Someone"},
        "conversation": {"id": "a:1", "tenantId": "tenant"},
        "recipient": {"id": "28:bot"},
        "serviceUrl": "https://smba.trafficmanager.net/uk/",
        "channelId": "msteams",
        "id": "1",
    }
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{app_server.url}/api/messages", json=activity) as resp,
    ):
        status = resp.status
    if services.settings.is_local_trial:
        assert status != 404  # control: the trial endpoint is there
    else:
        assert status == 404


async def _add_real_person(services: Services) -> int:
    """Someone invited for real (not made up by the demo loader), in Eastgate's kitchen."""
    async with services.db.session() as session:
        kitchen = await session.scalar(
            select(Organisation).where(Organisation.slug == "eastgate-community-kitchen")
        )
        assert kitchen is not None
        rita = Person(name="Rita Real", email="rita@eastgatekitchen.example")
        session.add(rita)
        await session.flush()
        await grant(session, rita, Role.PROVIDER_MEMBER, organisation_id=kitchen.id)
        return rita.id


async def test_a_local_trial_lists_and_accepts_only_demo_people(
    web_user: WebUser, services: Services
) -> None:
    """Even on this computer, a real person's account is never a click away."""
    assert services.settings.is_local_trial
    rita = await _add_real_person(services)
    status, html = await web_user.get("/signin")
    page = text_of(html)
    assert status == 200 and "Sign in as Grace Lee" in page
    assert "Rita" not in page

    status, html = await web_user.post("/signin/local", {"person_id": str(rita)})
    assert status == 400 and "Choose a person from the list" in text_of(html)
    assert (await get_with_cookie(web_user.base, "/", web_user.session_cookie()))[:2] == (
        303,
        "/signin",
    )
    # Control: a demo person signs in the same way.
    html = await web_user.sign_in_locally("Grace Lee")
    assert "Hello Grace" in text_of(html)


# --- sign-in links: opening is not using ----------------------------------------------------


async def test_opening_a_sign_in_link_does_not_use_it(
    app_server: RunningApp, services: Services
) -> None:
    """Email systems open every link to check it. Only pressing the button uses one."""
    token = await make_link(services, "Grace Lee")
    scanner = Visitor(app_server.url)
    for _ in range(2):
        status, headers, html = await scanner.request("GET", f"/signin/{token}")
        assert status == 200
        assert f'<form method="post" action="/signin/{token}">' in html
        assert re.search(r"<button[^>]*>Sign in</button>", html)
        assert headers.get("Cache-Control") == "no-store"
    assert not await link_used(services, token)
    assert (await get_with_cookie(app_server.url, "/", scanner.cookie))[:2] == (303, "/signin")

    person = WebUser(app_server.url)
    try:
        status, html = await person.use_sign_in_link(token)
        assert status == 200 and "Hello Grace" in text_of(html)
        assert await link_used(services, token)
        status, html = await person.get(f"/signin/{token}")
        assert status == 400 and BAD_LINK in text_of(html)
    finally:
        await person.close()


async def test_the_sign_in_button_only_works_from_the_page_we_served(
    app_server: RunningApp, services: Services
) -> None:
    """Another site could post the form itself, to sign a visitor in as the attacker."""
    token = await make_link(services, "Grace Lee")
    forger = WebUser(app_server.url)
    try:
        status, html = await forger.post(f"/signin/{token}", {}, csrf=False)
        assert status == 403 and "This page has expired" in text_of(html)
        status, html = await forger.post(
            f"/signin/{token}", {"csrf_token": "not-the-right-token"}, csrf=False
        )
        assert status == 403
        assert not await link_used(services, token)
        status, html = await forger.use_sign_in_link(token)  # control
        assert status == 200 and "Hello Grace" in text_of(html)
    finally:
        await forger.close()


async def test_a_used_link_cannot_be_pressed_again(
    app_server: RunningApp, services: Services
) -> None:
    """Two tabs open on the same link: the second button press is refused."""
    token = await make_link(services, "Grace Lee")
    first, second = WebUser(app_server.url), WebUser(app_server.url)
    try:
        assert (await first.get(f"/signin/{token}"))[0] == 200
        assert (await second.get(f"/signin/{token}"))[0] == 200
        status, html = await first.post(f"/signin/{token}", {})
        assert status == 200 and "Hello Grace" in text_of(html)
        status, html = await second.post(f"/signin/{token}", {})
        assert status == 400 and BAD_LINK in text_of(html)
        assert (await get_with_cookie(second.base, "/", second.session_cookie()))[:2] == (
            303,
            "/signin",
        )
    finally:
        await first.close()
        await second.close()


async def test_a_session_carries_the_generation_it_was_made_in(
    web_user: WebUser, services: Services
) -> None:
    """What makes signing out end every copy: the cookie holds the person's generation."""
    await web_user.sign_in_locally("Grace Lee")
    codec = SessionCodec(services.settings.signing_key, services.settings.session_max_age_seconds)
    session = codec.load(web_user.session_cookie())
    assert session.person_id == await person_id(services, "Grace Lee")
    assert session.generation == 0
    await web_user.post("/signout", {})
    await web_user.sign_in_locally("Grace Lee")
    assert codec.load(web_user.session_cookie()).generation == 1


# --- how often one address may try ----------------------------------------------------------

LIMIT = 3


async def _tries_left(visitor: Visitor, token: str) -> list[int]:
    statuses = []
    for _ in range(LIMIT):
        status, _, _ = await visitor.request("GET", f"/signin/{token}")
        statuses.append(status)
    return statuses


@pytest.mark.parametrize(
    "settings_overrides", [{"signin_attempts_per_minute": LIMIT}], indirect=True
)
async def test_too_many_sign_in_tries_from_one_address_get_429(
    app_server: RunningApp, services: Services
) -> None:
    """Counted per client address, over links (opened and pressed) and the demo list."""
    token = await make_link(services, "Grace Lee")
    here = Visitor(app_server.url)
    csrf = await here.csrf(services)
    assert await _tries_left(here, "x" * 43) == [400] * LIMIT

    for method, path, data in (
        ("GET", f"/signin/{token}", None),
        ("POST", f"/signin/{token}", {"csrf_token": csrf}),
        ("POST", "/signin/local", {"csrf_token": csrf, "person_id": "1"}),
    ):
        status, headers, html = await here.request(method, path, data)
        assert status == 429, (method, path)
        assert int(headers["Retry-After"]) >= 1
        assert "Too many tries" in text_of(html) and "wait a minute" in text_of(html)
    assert not await link_used(services, token)

    # Somebody else behind the same trusted proxy (127.0.0.1) is counted on their own.
    elsewhere = Visitor(app_server.url, forwarded_for="203.0.113.7")
    status, _, html = await elsewhere.request("GET", f"/signin/{token}")
    assert status == 200 and "Sign in" in text_of(html)
    # Other pages are not limited.
    status, _, _ = await here.request("GET", "/signin")
    assert status == 200


@pytest.mark.parametrize(
    "settings_overrides",
    [{"signin_attempts_per_minute": LIMIT, "trusted_proxies": "10.0.0.0/8"}],
    indirect=True,
)
async def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    app_server: RunningApp,
) -> None:
    """Otherwise anybody could send a new made-up address with every try."""
    statuses = []
    for n in range(LIMIT + 2):
        visitor = Visitor(app_server.url, forwarded_for=f"198.51.100.{n}")
        status, _, _ = await visitor.request("GET", f"/signin/{'x' * 43}")
        statuses.append(status)
    assert statuses == [400] * LIMIT + [429, 429]
