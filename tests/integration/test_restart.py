"""A half-filled multi-page form survives the server being killed and started again.

`convene serve` runs as a real child process, as a person would start it. We fill in
part of the organisation profile over HTTP, kill the process (SIGKILL: no shutdown
code runs), start a new one on the same database and check the draft is all there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select
from yarl import URL

from bot.services import Services
from storage.models import FormResponse, Organisation, ResponseState
from tests.support.servers import ServeProcess
from tests.support.web import WebUser, form_action, text_of

SECRET = "restart-test-secret-key-not-for-production"
ORG = "riverside-youth-trust"
PERSON = "Tom Okafor"
PAGE_ONE = {
    "name": "Riverside Youth Trust CIO",
    "legal_form": "charity",
    "charity_number": "1199999",
}
PAGE_TWO = {"income_band": "1m_10m", "staff_count": "14", "volunteer_count": "40"}

ServeFactory = Callable[..., ServeProcess]


@pytest.fixture
async def serve(
    services: Services, database_url: str, tmp_path: Path
) -> AsyncIterator[ServeFactory]:
    """Makes `convene serve` processes on the test database (migrated, with demo data).

    They run in a temporary directory, so a developer's .env cannot change them, and
    every one still running at the end is killed.
    """
    started: list[ServeProcess] = []

    def make(port: int | None = None) -> ServeProcess:
        process = ServeProcess(
            {
                "DATABASE_URL": database_url,
                "CONVENE_SECRET_KEY": SECRET,
                "CONVENE_LOCAL_MODE": "true",
            },
            cwd=tmp_path,
            port=port,
        )
        started.append(process)
        return process

    yield make
    for process in started:
        process.kill()


def _inputs(html: str, name: str) -> list[dict[str, str]]:
    tags = re.findall(r"<input\b[^>]*>", html)
    found = []
    for tag in tags:
        attrs = {k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}
        if " checked" in tag:
            attrs["checked"] = "checked"
        if attrs.get("name") == name:
            found.append(attrs)
    return found


def input_value(html: str, name: str) -> str:
    """The value a text box shows."""
    (box,) = _inputs(html, name)
    return box.get("value", "")


def checked(html: str, name: str) -> list[str]:
    """The values of the ticked radios or checkboxes called `name`."""
    return [box["value"] for box in _inputs(html, name) if "checked" in box]


async def fill_page_one_and_save_part_of_page_two(user: WebUser) -> str:
    """Page 1 with "Save and continue", then part of page 2 with "Save and come back later"."""
    status, html = await user.get("/do/profile")
    assert status == 200 and "About your organisation" in html
    action = form_action(html)
    status, html = await user.post(action, {"_page": "0", "_intent": "next", **PAGE_ONE})
    assert status == 200, text_of(html)
    assert "Page 2 of 3" in text_of(html)
    status, html = await user.post(action, {"_page": "1", "_intent": "save", **PAGE_TWO})
    assert status == 200, text_of(html)
    assert "Saved on" in text_of(html)
    return action


async def stored_draft(services: Services) -> FormResponse:
    async with services.db.session() as session:
        org = await session.scalar(select(Organisation).where(Organisation.slug == ORG))
        assert org is not None
        drafts = (
            await session.scalars(
                select(FormResponse).where(
                    FormResponse.organisation_id == org.id,
                    FormResponse.form_key == "organisation_profile",
                )
            )
        ).all()
    assert len(drafts) == 1, "one draft, not a second one started after the restart"
    return drafts[0]


def assert_draft_intact(draft: FormResponse) -> None:
    assert draft.state == ResponseState.DRAFT
    assert draft.current_page == 1
    assert draft.answers["name"] == PAGE_ONE["name"]
    assert draft.answers["legal_form"] == "charity"
    assert draft.answers["charity_number"] == "1199999"
    assert draft.answers["income_band"] == "1m_10m"
    assert draft.answers["staff_count"] == 14


def assert_on_page_two_with_answers(html: str) -> None:
    page = text_of(html)
    assert "Page 2 of 3" in page and "Size" in page, page
    assert checked(html, "income_band") == ["1m_10m"]
    assert input_value(html, "staff_count") == "14"
    assert input_value(html, "volunteer_count") == "40"


async def test_half_filled_form_is_intact_after_the_server_is_killed(
    serve: ServeFactory, services: Services
) -> None:
    first = serve()
    await first.start()
    user = WebUser(first.url)
    try:
        await user.sign_in_locally(PERSON)
        draft_id = await fill_page_one_and_save_part_of_page_two(user)
    finally:
        await user.close()
    first.kill()
    assert first.proc is not None and first.proc.returncode == -9

    before = await stored_draft(services)
    assert_draft_intact(before)

    second = serve()
    await second.start()
    user = WebUser(second.url)
    try:
        await user.sign_in_locally(PERSON)  # a new browser session
        status, html = await user.get("/do/profile")
        assert status == 200
        assert form_action(html) == draft_id, "the same draft resumes"
        assert_on_page_two_with_answers(html)

        # Back to page 1: the answers given before the crash are there.
        status, html = await user.post(draft_id, {"_page": "1", "_intent": "back", **PAGE_TWO})
        assert status == 200 and "About your organisation" in html
        assert input_value(html, "name") == PAGE_ONE["name"]
        assert input_value(html, "charity_number") == "1199999"
        assert checked(html, "legal_form") == ["charity"]

        # And the resumed draft can be finished.
        status, html = await user.post(draft_id, {"_page": "0", "_intent": "next", **PAGE_ONE})
        assert status == 200 and "Page 2 of 3" in text_of(html)
        status, html = await user.post(draft_id, {"_page": "1", "_intent": "next", **PAGE_TWO})
        assert status == 200 and "Your work" in html
        status, html = await user.post(
            draft_id,
            [
                ("_page", "2"),
                ("_intent", "submit"),
                ("service_areas", "children_young_people"),
                ("areas_served", "Lancaster"),
                ("led_by_and_for", "partly"),
            ],
        )
        assert status == 200 and "Thank you" in text_of(html), text_of(html)
    finally:
        await user.close()

    async with services.db.session() as session:
        org = await session.scalar(select(Organisation).where(Organisation.slug == ORG))
        assert org is not None
        assert org.name == PAGE_ONE["name"] and org.staff_count == 14
    assert (await stored_draft(services)).state == ResponseState.SUBMITTED


async def test_signed_in_browser_carries_on_across_a_restart(
    serve: ServeFactory, services: Services
) -> None:
    """Same secret key, same address: the session cookie, and the open page's CSRF token, still work."""
    first = serve()
    await first.start()
    before = WebUser(first.url)
    try:
        await before.sign_in_locally(PERSON)
        status, html = await before.get("/do/profile")
        assert status == 200
        action = form_action(html)
        status, html = await before.post(action, {"_page": "0", "_intent": "next", **PAGE_ONE})
        assert status == 200 and "Page 2 of 3" in text_of(html)
        open_page = html  # page 2 is on screen when the server dies
        cookies = before.client.cookie_jar.filter_cookies(URL(first.url))
    finally:
        await before.close()
    first.kill()

    second = serve(port=first.port)  # restarted on the same address
    await second.start()
    after = WebUser(second.url)
    try:
        after.client.cookie_jar.update_cookies(cookies, response_url=URL(second.url))
        # The person presses "Save and come back later" on the page they had open.
        after.last_html = open_page
        status, html = await after.post(action, {"_page": "1", "_intent": "save", **PAGE_TWO})
        assert status == 200, text_of(html)
        assert "Saved on" in text_of(html)
        assert f"Sign out {PERSON}" in text_of(html), "still signed in, no new sign-in needed"

        status, html = await after.get("/do/profile")
        assert status == 200
        assert form_action(html) == action
        assert_on_page_two_with_answers(html)
    finally:
        await after.close()

    assert_draft_intact(await stored_draft(services))
