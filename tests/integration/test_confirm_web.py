"""The web door's confirm page over real HTTP: the feature's own words and title, its yes
button, and "No, go back" to where the person was, never to another site; `/do/invite`
showing the code already made; Home listing only drafts with an answer.

The words themselves are tested in-process in tests/features/test_confirm_words.py.
"""

from __future__ import annotations

import html as markup
import re

import pytest
from sqlalchemy import func, select

from bot.services import Services
from storage.engagement_tables import Engagement, EngagementState
from storage.models import InviteCode
from tests.features.engagement_story import TITLE, make_engagement
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


def _back_link(page: str) -> str:
    found = re.search(r'<a class="button secondary" href="([^"]*)">No, go back</a>', page)
    assert found, page
    return markup.unescape(found.group(1))


async def test_the_confirm_page_says_what_will_happen_and_goes_back(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    story = await make_engagement(services, publish=False)
    e = story.engagement_id
    await web_user.sign_in_locally("Priya Shah")
    status, page = await web_user.get(
        "/do/engagements",
        params={"words": f"publish {e}", "back": f"/do/engagements?words=show+{e}"},
    )
    assert status == 200
    assert "<title>Publish this engagement?" in page
    assert re.search(r"<h1>Publish this engagement\?</h1>", page)
    words = text_of(page)
    assert re.search(rf"Publish '{TITLE}' to \d+ organisations? now\?", words), words
    assert "They will all be told at the same moment" in words
    assert ">Yes, publish it</button>" in page
    assert _back_link(page) == f"/do/engagements?words=show+{e}"
    # The `back` value is not passed on to the step itself.
    assert 'name="back"' not in page
    async with services.db.session() as session:
        engagement = await session.get(Engagement, e)
        assert engagement is not None and engagement.state == EngagementState.DRAFT

    # Pressing yes does it.
    status, page = await web_user.post("/do/engagements", {"words": f"publish {e}"})
    assert status == 200 and "Published" in text_of(page), text_of(page)


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1:1/",
    ],
)
async def test_go_back_never_leaves_the_site(
    app_server: RunningApp, services: Services, web_user: WebUser, back: str
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    _, page = await web_user.get("/do/invite", params={"words": "new", "back": back})
    assert "Make a new invite code?" in page
    assert _back_link(page) == "/"
    # Another site as the page before is refused too; this site's page before is used.
    _, page = await web_user.get(
        "/do/invite", params={"words": "new"}, headers={"Referer": "https://evil.example/x"}
    )
    assert _back_link(page) == "/"
    _, page = await web_user.get(
        "/do/invite",
        params={"words": "new"},
        headers={"Referer": f"{app_server.url}/do/invite?x=1"},
    )
    assert _back_link(page) == "/do/invite?x=1"


async def test_invite_shows_the_code_already_made_and_a_new_one_asks_first(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    _, first = await web_user.get("/do/invite")
    _, again = await web_user.get("/do/invite")
    code = re.search(r"Share this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", text_of(first))
    assert code and f"Share this code: {code.group(1)}" in text_of(again)
    assert "Make a new code" in text_of(again)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InviteCode)) == 1

    # The button's link asks, and says the old code stops working.
    _, page = await web_user.get("/do/invite", params={"words": "new"})
    assert f"Your code {code.group(1)} will stop working at once" in text_of(page)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InviteCode)) == 1
    _, made = await web_user.post("/do/invite", {"words": "new"})
    assert "Your old code stopped working" in text_of(made)
    assert code.group(1) not in text_of(made)


async def test_home_lists_a_draft_only_once_it_has_an_answer(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    story = await make_engagement(services)
    await web_user.sign_in_locally("Tom Okafor")
    status, page = await web_user.get(
        "/do/engagements", params={"words": f"answer {story.engagement_id}"}
    )
    assert status == 200 and "Page 1 of 2" in text_of(page), text_of(page)
    _, home = await web_user.get("/")
    assert "Form to finish" not in text_of(home)
    action = re.search(r'<form[^>]*action="(/forms/[^"]+)"', page)
    assert action, page
    status, page = await web_user.post(
        action.group(1),
        [("_page", "0"), ("_intent", "next"), ("viable_terms", "Longer agreements.")],
    )
    assert status == 200 and "Page 2 of 2" in text_of(page), text_of(page)
    _, home = await web_user.get("/")
    assert "Form to finish" in text_of(home)
