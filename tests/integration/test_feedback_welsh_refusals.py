"""A feedback page's refusals in Welsh, over real HTTP, when the person is on the Welsh page.

An unknown point (404), a helper's link that ran out (410), too much sent (413, refused by
the web door before the page runs), and too many messages (429, also the door's) each come
back in Welsh with `<html lang="cy">` when the address says `?lang=cy`, and in English as
before without it. A closed point's page is Welsh too. The page's own button goes back to
the feedback page in the same language. Nothing is kept, and no response sets a cookie.
"""

from __future__ import annotations

import pytest

from bot.web.routes import MAX_BODY
from storage.feedback_tables import FeedbackPoint
from tests.integration.test_feedback_web import Visitor, point, stored, visitor
from tests.support.inprocess import TestDoor
from tests.support.web import text_of

__all__ = ["point", "visitor"]  # fixtures shared with test_feedback_web


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "bank_holiday_region": "WLS",
        "feedback_per_client_per_hour": 2,
        "feedback_per_point_per_hour": 100,
    }


async def test_an_unknown_point_is_refused_in_the_pages_language(visitor: Visitor) -> None:
    status, html, _ = await visitor.request("GET", "/f/nosuchpoint?lang=cy")
    assert status == 404 and '<html lang="cy">' in html
    page = text_of(html)
    assert "Ni allwn ddod o hyd i'r dudalen adborth hon" in page
    assert "Os ydych chi mewn perygl nawr, ffoniwch 999." in page
    assert "We could not find" not in page and "Mynd i'r dechrau" in page

    status, html, _ = await visitor.request("GET", "/f/nosuchpoint")
    assert status == 404 and '<html lang="en-GB">' in html
    assert "We could not find this feedback page" in text_of(html)


async def test_an_old_helper_link_is_refused_in_welsh(
    point: FeedbackPoint, visitor: Visitor
) -> None:
    status, html, _ = await visitor.request(
        "GET", f"/f/{point.slug}/with-help/not-a-live-token?lang=cy"
    )
    assert status == 410 and '<html lang="cy">' in html
    assert "Mae'r ddolen hon ar gyfer helpu rhywun wedi dod i ben" in text_of(html)
    assert f'href="/f/{point.slug}?lang=cy"' in html


async def test_too_much_and_too_many_are_refused_in_welsh_by_the_door(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    status, html, _ = await visitor.request(
        "POST",
        f"/f/{point.slug}?lang=cy",
        data={"helping": "yes", "anything_else": "x" * (MAX_BODY + 10)},
    )
    assert status == 413 and '<html lang="cy">' in html
    page = text_of(html)
    assert "Roedd hynny'n ormod i'w anfon" in page and "Ni chafodd dim ei gadw." in page
    assert f'href="/f/{point.slug}?lang=cy"' in html and "Yn ôl i'r dudalen adborth" in page

    # Two POSTs an hour from one address (the 413 counted): a second, then one too many.
    status, html, _ = await visitor.request("POST", f"/f/{point.slug}?lang=cy", data={})
    assert status == 422 and '<html lang="cy">' in html  # no signed token: sent back
    status, html, headers = await visitor.request(
        "POST", f"/f/{point.slug}?lang=cy", data={"helping": "yes"}
    )
    assert status == 429 and '<html lang="cy">' in html
    assert "Gormod o negeseuon" in text_of(html) and int(headers["Retry-After"]) > 0
    assert "ffoniwch 999" in text_of(html)

    status, html, _ = await visitor.request("POST", f"/f/{point.slug}", data={"helping": "yes"})
    assert status == 429 and "Too many messages" in text_of(html)
    assert await stored(door) == []


async def test_a_closed_point_says_so_in_welsh(
    door: TestDoor, point: FeedbackPoint, visitor: Visitor
) -> None:
    async with door.services.db.session() as session:
        found = await session.get(FeedbackPoint, point.id)
        assert found is not None
        found.state = "closed"
    status, html, _ = await visitor.request("GET", f"/f/{point.slug}?lang=cy")
    assert status == 200 and '<html lang="cy">' in html
    assert "Nid yw Preston youth club yn gofyn am adborth ar hyn o bryd" in text_of(html)
