"""A feedback point's public page over real HTTP: no account and no cookie on any response
(not even the session cookie), the stored row anonymous (no name, address, IP address,
browser, exact time or person), words scrubbed, a message about harm showing 999 and the
council's line and queued for the safeguarding lead. Floods from one address and to one
page get a kind 429, a robot filling the hidden field is thanked and nothing is kept, and a
closed point or bad input is answered kindly, never with a 5xx. The owner's poster and QR
codes are for the owner only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.web.routes import ANONYMOUS_PAGE_THROTTLE
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from tests.features.test_agreement_monitoring import make_agreement
from tests.features.test_feedback_points import NOW, set_up_point
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of

USER_AGENT = "Mozilla/5.0 (FeedbackTest; Unique-Browser-Marker-4417)"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "feedback_per_client_per_hour": 6,
        "feedback_per_point_per_hour": 100,
        "safeguarding_phone": "01772 906 906",
    }


class Visitor:
    """Someone with a phone and no account: every response is checked for cookies."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        self.html = ""

    async def request(self, method: str, path: str, **kw: Any) -> tuple[int, str, Any]:
        async with self.client.request(method, self.base + path, **kw) as resp:
            self.html = await resp.text()
            assert "Set-Cookie" not in resp.headers, (path, resp.headers.getall("Set-Cookie"))
            assert resp.status < 500, (resp.status, self.html)
            return resp.status, self.html, resp.headers

    async def open(self, slug: str) -> str:
        status, html, headers = await self.request("GET", f"/f/{slug}")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        return html

    async def send(self, slug: str, **form: str) -> tuple[int, str, Any]:
        """Open the page (for its signed token) and send the form, as a browser does."""
        html = await self.open(slug)
        match = TOKEN.search(html)
        assert match, "no form token on the page"
        return await self.request("POST", f"/f/{slug}", data={"form_token": match.group(1), **form})


@pytest.fixture
async def point(door: TestDoor) -> FeedbackPoint:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    tom = await door.sign_in("Tom Okafor")
    return await set_up_point(door, tom, agreement_id)


@pytest.fixture
async def visitor(app_server: RunningApp) -> AsyncIterator[Visitor]:
    person = Visitor(app_server.url)
    yield person
    await person.client.close()


async def stored(door: TestDoor) -> list[dict[str, Any]]:
    async with door.services.db.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT * FROM feedback_entries"))
        return [dict(row._mapping) for row in rows]


async def test_the_page_sets_no_cookie_and_the_row_holds_nothing_about_the_person(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    html = await visitor.open(point.slug)
    page = text_of(html)
    assert "Tell us what you think of Preston youth club" in page
    assert "If you tell us about harm" in page and "call 999" in page
    assert page.index("If you tell us about harm") < page.index("Anything else you want")
    assert "Who reads it" in page and "What happens next" in page
    assert "<legend>Is this service helping you?</legend>" in html
    assert '<label for="helping-dont_know">' in html and "<script" not in html

    status, html, _ = await visitor.send(
        point.slug,
        helping="yes",
        keep_going="dont_know",
        anything_else="Staff were great. Ring 07700 900123, jo@example.org, PR1 2AB.",
        with_help="yes",
    )
    assert status == 200 and "Thank you" in text_of(html)
    (row,) = await stored(door)
    assert set(row) == {
        "id",
        "point_id",
        "given_on",
        "answers",
        "comments",
        "with_help",
        "safeguarding",
        "hidden_reason",
        "hidden_by",
        "hidden_at",
    }
    assert str(row["given_on"]) == "2026-01-12"  # the day only: no hour, minute or second
    assert row["hidden_by"] is None and row["hidden_at"] is None  # the only person link: staff
    everything = repr(row)
    for trace in ("127.0.0.1", "Unique-Browser-Marker", "07700", "jo@example", "PR1 2AB", "23:37"):
        assert trace not in everything, trace
    assert re.fullmatch(r"[0-9a-f]{32}", row["id"])  # random, not a sequence
    async with door.services.db.session() as session:
        entry = (await session.scalars(select(FeedbackEntry))).one()
    assert entry.with_help and entry.answers == {"helping": "yes", "keep_going": "dont_know"}
    assert entry.comments["anything_else"].count("[removed]") == 3


async def test_words_about_harm_show_help_at_once_and_go_to_the_lead(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    status, html, _ = await visitor.send(point.slug, anything_else="He beats me. Ring 07700900123")
    page = text_of(html)
    assert status == 200 and "Here is who can help" in page
    assert "call 999" in page and "01772 906 906" in page
    (sent,) = await door.outbox(person_id=await door.person_id("Tom Okafor"))
    assert "He beats me. Ring [removed]" in sent.text and "07700900123" not in sent.text


async def test_floods_robots_closed_points_and_bad_input_never_make_a_5xx(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    status, html, _ = await visitor.send(point.slug)
    assert status == 422 and "There is a problem" in text_of(html)
    status, html, _ = await visitor.send(point.slug, anything_else="x" * 10_000)
    assert status == 422 and "10,000 characters long" in text_of(html)
    status, html, _ = await visitor.send(point.slug, anything_else="\U0001f44d\U0001f44d")
    assert status == 422 and "could not find any words" in text_of(html)
    status, html, _ = await visitor.request(
        "POST", f"/f/{point.slug}", data={"helping": "yes", "form_token": "forged"}
    )
    assert status == 422 and "open for a long time" in text_of(html)
    status, html, _ = await visitor.send(point.slug, helping="yes", website="spam.example")
    assert status == 200 and "Thank you" in text_of(html)
    assert await stored(door) == []

    # Six POSTs an hour from one address: the sixth is kept, the seventh is one too many.
    status, html, _ = await visitor.send(point.slug, helping="yes")
    assert status == 200 and len(await stored(door)) == 1
    status, html, headers = await visitor.send(point.slug, helping="no")
    assert status == 429 and "Too many messages" in text_of(html)
    assert int(headers["Retry-After"]) > 0 and "call 999" in text_of(html)
    assert len(await stored(door)) == 1


async def test_a_closed_or_unknown_point_keeps_nothing(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"feedback close {point.id}")
    html = await visitor.open(point.slug)
    assert "is not asking for feedback at the moment" in text_of(html)
    assert 'name="form_token"' not in html
    status, html, _ = await visitor.request(
        "POST", f"/f/{point.slug}", data={"helping": "yes", "form_token": "x"}
    )
    assert status == 409 and "nothing was saved" in text_of(html)
    status, html, _ = await visitor.request("GET", "/f/NoSuchPoint1")
    assert status == 404 and "scan the QR code" in text_of(html)
    assert await stored(door) == []


async def test_the_poster_and_qr_codes_are_for_the_owner(
    door: TestDoor, point: FeedbackPoint, app_server: RunningApp
) -> None:
    tom, grace = WebUser(app_server.url), WebUser(app_server.url)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/feedback/{point.id}/poster")
        assert status == 200 and 'src="data:image/svg+xml' in html
        assert "What do you think of Preston youth club?" in text_of(html)
        assert f"/s/{point.short_code}" in text_of(html)  # the short link, to type in
        async with tom.client.get(f"{tom.base}/feedback/{point.id}/qr.png") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
            assert (await resp.read()).startswith(b"\x89PNG\r\n\x1a\n")
        async with tom.client.get(f"{tom.base}/feedback/{point.id}/qr.svg") as resp:
            assert resp.headers["Content-Type"] == "image/svg+xml"
            assert b"<svg" in await resp.read()
            assert resp.headers["Content-Disposition"].startswith("attachment")
        await grace.sign_in_locally("Grace Lee")
        status, html = await grace.get(f"/feedback/{point.id}/poster")
        assert status == 404 and point.slug not in html
        async with grace.client.get(f"{grace.base}/feedback/{point.id}/qr.png") as resp:
            assert resp.status == 404
    finally:
        await tom.close()
        await grace.close()


async def test_one_page_takes_only_so_many_an_hour_from_everyone_together(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor, app_server: RunningApp
) -> None:
    """Each POST comes from a different address (through our trusted proxy), so only the
    page's own limit can stop the third."""
    app_server.runner.app[ANONYMOUS_PAGE_THROTTLE].limit = 2  # this page: two an hour
    for n in range(3):
        html = await visitor.open(point.slug)
        match = TOKEN.search(html)
        assert match
        status, html, _ = await visitor.request(
            "POST",
            f"/f/{point.slug}",
            data={"form_token": match.group(1), "helping": "yes"},
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
        )
        assert status == (429 if n == 2 else 200), (n, status)
    assert len(await stored(door)) == 2


async def test_an_owner_sets_up_a_point_and_hides_an_answer_on_the_web(
    door: TestDoor, app_server: RunningApp, visitor: Visitor
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    tom = WebUser(app_server.url)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/do/feedback?words=new+agreement+{agreement_id}")
        assert status == 200 and "Set up a feedback point" in text_of(html)
        assert "never used to rate a member of staff" in text_of(html)
        fields = [("service_name", "Youth club"), ("questions", "helping")]
        fields += [("questions", "better"), ("_page", "0"), ("_intent", "submit")]
        status, html = await tom.post(form_action(html), fields)
        assert status == 200 and "Your feedback point is ready: Youth club" in text_of(html)
        async with door.services.db.session() as session:
            point = (await session.scalars(select(FeedbackPoint))).one()
        assert point.question_keys == ["helping", "better"]

        status, _, _ = await visitor.send(point.slug, better="Dave on the desk is rude.")
        assert status == 200
        status, html = await tom.get(f"/do/feedback?words=show+{point.id}")
        assert "Dave on the desk is rude." in text_of(html)
        (entry,) = await stored(door)
        hide_link = f"/do/feedback?words=hide+{entry['id']}"
        assert hide_link in html.replace("&amp;", "&")
        status, html = await tom.get(hide_link)
        assert "Please confirm" in text_of(html)  # a link alone hides nothing
        status, html = await tom.post("/do/feedback", {"words": f"hide {entry['id']}"})
        assert status == 200 and "Why are you hiding this answer?" in text_of(html)
        status, html = await tom.post(
            form_action(html),
            [("reason", "names a member of staff"), ("_page", "0"), ("_intent", "submit")],
        )
        assert status == 200 and "Hidden." in text_of(html), text_of(html)
        status, html = await tom.get(f"/do/feedback?words=show+{point.id}")
        assert "Dave" not in text_of(html) and "1 hidden by moderation" in text_of(html)
    finally:
        await tom.close()
