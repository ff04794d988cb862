"""A browser-like HTTP client for the web door: cookies, CSRF tokens, form posts."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import aiohttp

from bot.web.auth import COOKIE

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebUser:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.last_html = ""

    async def close(self) -> None:
        await self.client.close()

    def session_cookie(self) -> str | None:
        """The session cookie this browser holds now (to copy it, as a thief would)."""
        for morsel in self.client.cookie_jar:
            if morsel.key == COOKIE:
                return morsel.value
        return None

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        async with self.client.get(self.base + path, **kw) as resp:
            self.last_html = await resp.text()
            return resp.status, self.last_html

    def csrf(self, html: str | None = None) -> str:
        match = CSRF.search(html or self.last_html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    async def post(self, path: str, data: Any, *, csrf: bool = True, **kw: Any) -> tuple[int, str]:
        if csrf:
            data = [
                *(data.items() if isinstance(data, dict) else data),
                ("csrf_token", self.csrf()),
            ]
        async with self.client.post(self.base + path, data=data, **kw) as resp:
            self.last_html = await resp.text()
            return resp.status, self.last_html

    async def use_sign_in_link(self, token: str) -> tuple[int, str]:
        """Open a sign-in link and press its "Sign in" button, as a person does.

        Opening the link alone signs nobody in (email scanners open links too); the
        button posts back with this browser's CSRF token. A link that does not work
        gets its refusal when opened, and that page is returned.
        """
        status, html = await self.get(f"/signin/{token}")
        if status != 200:
            return status, html
        assert f'action="/signin/{token}"' in html, "no sign-in button on the link's page"
        return await self.post(f"/signin/{token}", {})

    async def sign_in_locally(self, name: str) -> str:
        status, html = await self.get("/signin")
        assert status == 200
        match = re.search(
            r'name="person_id" value="(\d+)">\s*<button[^>]*>Sign in as ' + re.escape(name), html
        )
        assert match, f"{name} is not on the sign-in page"
        status, html = await self.post("/signin/local", {"person_id": match.group(1)})
        assert status == 200, html
        return html


async def get_with_cookie(base: str, path: str, cookie: str | None) -> tuple[int, str, str]:
    """GET with exactly this session cookie and no redirects followed: (status, Location,
    body). Another device holding a copied cookie looks like this."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
        client.get(base + path, headers=headers, allow_redirects=False) as resp,
    ):
        return resp.status, resp.headers.get("Location", ""), await resp.text()


def text_of(html: str) -> str:
    """The visible text of a page, whitespace folded: what a person would read."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def form_action(html: str) -> str:
    match = re.search(r'<form method="post" action="(/forms/\d+)"', html)
    assert match, "no form on the page"
    return match.group(1)
