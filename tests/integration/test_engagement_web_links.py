"""The web door's own contract for engagements, over real HTTP: a link (a GET) never
changes anything, a post needs this browser's token, and the record pages answer another
council, or a number that is no engagement, with a refusal page and the right status.

The same bad input as logic (what people are told, that nothing changed, the audit log)
is tested in-process in tests/features/test_engagement_bad_input.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import func, select

from bot.services import Services
from storage.engagement_tables import Engagement, EngagementInvitation
from tests.features.engagement_story import (
    HUGE,
    TITLE,
    add_hilltop,
    make_engagement,
    refusals,
    state_of,
)
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

Browsers = Callable[[str], Awaitable[WebUser]]


@pytest.fixture
async def browser(app_server: RunningApp) -> AsyncIterator[Browsers]:
    """`await browser("Tom Okafor")`: a browser signed in as that person."""
    opened: dict[str, WebUser] = {}

    async def signed_in(name: str) -> WebUser:
        if name not in opened:
            opened[name] = WebUser(app_server.url)
            await opened[name].sign_in_locally(name)
        return opened[name]

    yield signed_in
    for user in opened.values():
        await user.close()


async def test_another_council_cannot_open_the_record_page(
    services: Services, browser: Browsers
) -> None:
    await add_hilltop(services)
    story = await make_engagement(services)
    yusuf = await browser("Yusuf Khan")
    for suffix in ("record", "record.json"):
        status, html = await yusuf.get(f"/engagements/{story.engagement_id}/{suffix}")
        assert status == 403, html
        assert "This record is not yours to see" in text_of(html)
        assert TITLE not in html
    refused = await refusals(services, story.people["Yusuf Khan"], "engagement.record_refused")
    assert len(refused) == 2


async def test_record_page_of_nothing(services: Services, browser: Browsers) -> None:
    priya = await browser("Priya Shah")
    for number in (999, HUGE):
        status, html = await priya.get(f"/engagements/{number}/record")
        assert status in (403, 404), (status, text_of(html))
        assert "went wrong" not in text_of(html)


# --- the web door never changes anything from a link -----------------------------------------


async def _draft_state(services: Services, engagement_id: int) -> tuple[str, int]:
    async with services.db.session() as session:
        engagement = await session.get(Engagement, engagement_id)
        assert engagement is not None
        invitations = await session.scalar(select(func.count()).select_from(EngagementInvitation))
        return engagement.state, int(invitations or 0)


async def test_a_link_never_publishes(services: Services, browser: Browsers) -> None:
    draft = await make_engagement(services, publish=False)
    d = draft.engagement_id
    priya = await browser("Priya Shah")
    links = [
        f"/do/engagements?words=publish+{d}",
        f"/do/engagements?words=PUBLISH+{d}",
        f"/do/engagements?words=publish&id={d}",
        "/do/" + quote(f"engagements publish {d}"),
        "/do/" + quote(f"engagements publish {d}") + "?x=1",
    ]
    for link in links:
        status, html = await priya.get(link)
        assert status == 200, text_of(html)
        assert "Please confirm" in text_of(html), (link, text_of(html))
        assert "Published" not in text_of(html)
        assert await _draft_state(services, d) == ("draft", 0), link
    # A post without this browser's token (another site's form) changes nothing either.
    status, html = await priya.post("/do/engagements", {"words": f"publish {d}"}, csrf=False)
    assert status == 403 and "This page has expired" in text_of(html)
    assert await _draft_state(services, d) == ("draft", 0)
    # The confirm page's own button publishes.
    status, html = await priya.get(f"/do/engagements?words=publish+{d}")
    status, html = await priya.post("/do/engagements", {"words": f"publish {d}"})
    assert "Published" in text_of(html), text_of(html)
    assert await _draft_state(services, d) == ("open", 4)


@pytest.mark.parametrize(
    "words", ["close {e}", "rsvp {ev}", "cancel {ev}", "join {e}", "pick {m} 1"]
)
async def test_a_link_never_changes_anything(
    services: Services, browser: Browsers, words: str
) -> None:
    story = await make_engagement(services, capacity=5, with_meeting=True)
    filled = words.format(e=story.engagement_id, ev=story.event_id, m=story.meeting_id)
    before = await state_of(services)
    for name in ("Priya Shah", "Grace Lee", "Tom Okafor"):
        user = await browser(name)
        for link in (
            f"/do/engagements?words={quote_plus(filled)}",
            "/do/" + quote(f"engagements {filled}"),
        ):
            status, html = await user.get(link)
            assert status == 200
            assert "Please confirm" in text_of(html), (name, link, text_of(html))
    assert await state_of(services) == before
