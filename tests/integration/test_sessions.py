"""Ending a web session really ends it, on every device that holds a copy of the cookie.

A session cookie is a bearer token: whoever holds a copy (a shared computer, a stolen
backup, a proxy log) is signed in. Each test copies the cookie first, checks that the
copy works (so a refusal later is not for some other reason), ends the session in one
of the three ways Convene can (signing out, being forgotten, being removed from an
organisation) and then shows that the copy no longer gets in.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, Membership, Organisation, Person, Role
from storage.people import grant
from tests.support.servers import RunningApp
from tests.support.web import WebUser, get_with_cookie, text_of

SIGNED_OUT = (303, "/signin")


async def convene(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run `convene ARGS` as an operator would, in its own process: (exit code, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def _copied_cookie(user: WebUser, name: str) -> str:
    """Sign in as `name` and return a copy of the session cookie, checked to work."""
    await user.sign_in_locally(name)
    cookie = user.session_cookie()
    assert cookie is not None
    status, _, body = await get_with_cookie(user.base, "/", cookie)
    assert status == 200 and f"Hello {name.split()[0]}" in text_of(body)
    return cookie


async def _generation(services: Services, name: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.session_generation).where(Person.name == name))
    assert found is not None
    return found


async def test_signing_out_ends_every_copy_of_the_session(
    web_user: WebUser, app_server: RunningApp, services: Services
) -> None:
    copied = await _copied_cookie(web_user, "Grace Lee")
    laptop = WebUser(app_server.url)  # Grace, signed in on another device as well
    try:
        laptop_cookie = await _copied_cookie(laptop, "Grace Lee")
        before = await _generation(services, "Grace Lee")

        status, html = await web_user.post("/signout", {})
        assert status == 200 and "You are signed out" in text_of(html)

        assert await _generation(services, "Grace Lee") == before + 1
        for cookie in (copied, laptop_cookie):
            for path in ("/", "/do/profile", "/inbox"):
                assert (await get_with_cookie(web_user.base, path, cookie))[:2] == SIGNED_OUT
        status, html = await laptop.get("/do/profile")
        assert "Sign in to Convene" in text_of(html) and "Eastgate" not in text_of(html)
    finally:
        await laptop.close()

    # Signing in again gives a new session that works; the old copies stay dead.
    fresh = await _copied_cookie(web_user, "Grace Lee")
    assert fresh != copied
    assert (await get_with_cookie(web_user.base, "/", copied))[:2] == SIGNED_OUT


async def test_a_session_that_was_ended_cannot_sign_anyone_else_out(
    web_user: WebUser, app_server: RunningApp, services: Services
) -> None:
    """Posting "sign out" with a dead copy must not end the person's new session."""
    old = await _copied_cookie(web_user, "Grace Lee")
    await web_user.post("/signout", {})
    await web_user.sign_in_locally("Grace Lee")
    generation = await _generation(services, "Grace Lee")

    thief = WebUser(app_server.url)
    try:
        thief.client.cookie_jar.update_cookies({"convene_session": old})
        status, html = await thief.get("/signin")
        await thief.post("/signout", {})
    finally:
        await thief.close()
    assert await _generation(services, "Grace Lee") == generation
    status, html = await web_user.get("/")
    assert status == 200 and "Hello Grace" in text_of(html)


async def test_forgetting_a_person_ends_their_sessions(
    web_user: WebUser, services: Services, database_url: str, tmp_path: Path
) -> None:
    copied = await _copied_cookie(web_user, "Grace Lee")

    code, err = await convene(
        "forget-person",
        "grace@eastgatekitchen.example",
        "--yes",
        cwd=tmp_path,
        env={"DATABASE_URL": database_url},
    )
    assert code == 0, err

    for path in ("/", "/do/profile", "/inbox"):
        assert (await get_with_cookie(web_user.base, path, copied))[:2] == SIGNED_OUT
    _, html = await web_user.get("/")
    page = text_of(html)
    assert "Sign in to Convene" in page and "Removed person" not in page


async def _add_sam(services: Services) -> int:
    """A second member of Riverside Youth Trust (Tom Okafor is its admin)."""
    async with services.db.session() as session:
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert trust is not None
        sam = Person(name="Sam Patel", email="sam@riversideyouth.example", is_demo=True)
        session.add(sam)
        await session.flush()
        await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=trust.id)
        return sam.id


#: The button is a link that asks first ("Remove Sam Patel?"), then posts `invite remove N`.
REMOVE_SAM = re.compile(r'href="/do/invite\?words=remove\+(\d+)"[^>]*>Remove Sam Patel<')


async def test_being_removed_from_the_organisation_ends_their_sessions(
    web_user: WebUser, app_server: RunningApp, services: Services
) -> None:
    sam_id = await _add_sam(services)
    sam = WebUser(app_server.url)
    try:
        copied = await _copied_cookie(sam, "Sam Patel")
        _, html = await sam.get("/do/profile")
        assert "About your organisation" in html  # Sam can act for the trust, for now

        # An admin of another organisation sees no button and cannot use Tom's.
        await web_user.sign_in_locally("Tom Okafor")
        _, html = await web_user.get("/do/invite")
        assert "People in Riverside Youth Trust" in text_of(html)
        assert "Remove Tom Okafor" not in text_of(html)  # not yourself
        found = REMOVE_SAM.search(html)
        assert found, text_of(html)
        membership_id = found.group(1)

        grace = WebUser(app_server.url)
        try:
            await grace.sign_in_locally("Grace Lee")
            _, html = await grace.post("/actions/join.remove", {"value": membership_id})
            assert "Only an admin of that organisation" in text_of(html)
        finally:
            await grace.close()
        assert (await get_with_cookie(sam.base, "/", copied))[0] == 200  # still signed in

        _, html = await web_user.get("/do/invite", params={"words": f"remove {membership_id}"})
        assert "Remove Sam Patel from Riverside Youth Trust in Convene?" in text_of(html)
        assert (await get_with_cookie(sam.base, "/", copied))[0] == 200  # asking did nothing
        _, html = await web_user.post("/do/invite", {"words": f"remove {membership_id}"})
        assert "Sam Patel is no longer part of Riverside Youth Trust" in text_of(html)

        assert (await get_with_cookie(sam.base, "/", copied))[:2] == SIGNED_OUT
        _, html = await sam.get("/do/profile")
        assert "Sign in to Convene" in text_of(html)
    finally:
        await sam.close()

    async with services.db.session() as session:
        roles = (
            await session.scalars(select(Membership).where(Membership.person_id == sam_id))
        ).all()
        assert roles == []
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert "membership.removal_refused" in actions and "membership.removed" in actions

    # Sam can sign in again, but no longer acts for the trust.
    again = WebUser(app_server.url)
    try:
        await again.sign_in_locally("Sam Patel")
        _, html = await again.get("/do/profile")
        assert "not linked to an organisation" in text_of(html)
    finally:
        await again.close()
