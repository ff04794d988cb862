"""A feedback point's page in Welsh and in easy read, over real HTTP.

A council in Wales (its nation, `bank_holiday_region` WLS) offers "Cymraeg" as a plain link;
the Welsh page says `lang="cy"`, asks the bank's questions in Welsh from the catalogue, and
takes the same answers. A council in England offers no Welsh unless it chooses to
(`feedback_welsh`). The easy read version is one link away, has a picture beside every
question, and posts the same fields into the same step. No response sets a cookie (the
`Visitor` checks every one), and no page needs JavaScript.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from tests.integration.test_feedback_web import Visitor, point, stored, visitor
from tests.support.inprocess import TestDoor
from tests.support.web import text_of

__all__ = ["point", "visitor"]  # fixtures shared with test_feedback_web

ACTION = re.compile(r'<form method="post" action="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


async def open_and_send(visitor: Visitor, path: str, **form: str) -> tuple[str, int, str]:
    """Open `path`, then send the form to wherever the page's own form posts."""
    status, page, _ = await visitor.request("GET", path)
    assert status == 200 and "<script" not in page
    action, token = ACTION.search(page), TOKEN.search(page)
    assert action and token, "no form on the page"
    status, html, _ = await visitor.request(
        "POST", action.group(1).replace("&amp;", "&"), data={"form_token": token.group(1), **form}
    )
    return page, status, html


class TestAWelshCouncil:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"bank_holiday_region": "WLS", "safeguarding_phone": "029 2087 2087"}

    async def test_the_page_offers_welsh_and_the_welsh_page_asks_in_welsh(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        html = await visitor.open(point.slug)
        assert '<html lang="en-GB">' in html
        assert f'<a href="/f/{point.slug}?lang=cy" lang="cy" hreflang="cy">Cymraeg</a>' in html

        status, html, _ = await visitor.request("GET", f"/f/{point.slug}?lang=cy")
        page = text_of(html)
        assert status == 200 and '<html lang="cy">' in html
        assert "<legend>Ydy'r gwasanaeth hwn yn eich helpu chi?</legend>" in html.replace(
            "&#39;", "'"
        )
        assert "Dywedwch wrthym beth yw eich barn am Preston youth club" in page
        assert "Os ydych chi mewn perygl nawr, ffoniwch 999." in page
        assert "Is this service helping you?" not in page and "Send" not in page
        # The way back to English, marked as English; the site's own English footer too.
        assert f'<a href="/f/{point.slug}" lang="en-GB" hreflang="en-GB">English</a>' in html
        assert '<footer lang="en-GB">' in html
        assert f'action="/f/{point.slug}?lang=cy"' in html

    async def test_welsh_answers_are_kept_the_same_and_thanked_in_welsh(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        _, status, html = await open_and_send(
            visitor, f"/f/{point.slug}?lang=cy", helping="a_bit", anything_else="Mae e'n dda"
        )
        assert status == 200 and '<html lang="cy">' in html
        assert "Rydyn ni wedi cadw" in text_of(html)
        (row,) = await stored(door)
        assert row["answers"] in ({"helping": "a_bit"}, '{"helping": "a_bit"}')

        # A problem comes back in Welsh, on the Welsh page, nothing saved.
        _, status, html = await open_and_send(visitor, f"/f/{point.slug}?lang=cy")
        page = text_of(html)
        assert status == 422 and "Mae problem" in page
        assert "Dydych chi ddim wedi ateb dim eto." in page
        assert len(await stored(door)) == 1

        # Words about harm: who to call, in Welsh, with the council's own line.
        _, status, html = await open_and_send(
            visitor, f"/f/{point.slug}?lang=cy", anything_else="He hits me"
        )
        page = text_of(html)
        assert status == 200 and "Dyma pwy all helpu" in page
        assert "ffoniwch 029 2087 2087" in page and "ffoniwch 999" in page

    async def test_easy_read_in_welsh(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        status, html, _ = await visitor.request("GET", f"/f/{point.slug}?lang=cy&view=easy")
        page = text_of(html)
        assert status == 200 and '<html lang="cy">' in html
        assert "Does dim angen i chi roi eich enw." in page
        assert "Fydd y gwasanaeth yn parhau?" in page and "Fersiwn safonol" in page
        assert 'action="/f/' + point.slug + '?lang=cy&amp;view=easy"' in html


class TestAnEnglishCouncil:
    async def test_offers_no_welsh_and_ignores_a_typed_lang(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        html = await visitor.open(point.slug)
        assert "Cymraeg" not in html and "lang=cy" not in html
        status, html, _ = await visitor.request("GET", f"/f/{point.slug}?lang=cy")
        assert status == 200 and '<html lang="en-GB">' in html
        assert "<legend>Is this service helping you?</legend>" in html

    async def test_easy_read_has_a_picture_per_question_and_posts_the_same_answers(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        html = await visitor.open(point.slug)
        assert f'<a href="/f/{point.slug}?view=easy">Easy read version</a>' in html

        page, status, thanks = await open_and_send(
            visitor,
            f"/f/{point.slug}?view=easy",
            helping="yes",
            run_well="no",
            anything_else="The lunch is good.",
            with_help="yes",
        )
        # The questions: a fieldset for each scale and a box for each thing to write (the
        # optional photo or voice note is not a question, and has no picture).
        questions = re.findall(r'<fieldset class="field scale"|<textarea ', page)
        pictures = re.findall(r'<svg class="pictogram"[^>]*aria-hidden="true"', page)
        assert len(questions) == 4 and len(pictures) == len(questions)
        assert 'class="easy-read"' in page and "/static/feedback_easy.css" in page
        assert "Does this service help you?" in text_of(page)
        assert "We do not keep your name." in text_of(page)
        assert f'<a href="/f/{point.slug}">Standard version</a>' in page
        # The same fields as the standard page: each question's key, the token, the trap.
        for name in ("helping", "run_well", "keep_going", "anything_else", "with_help"):
            assert f'name="{name}"' in page
        assert status == 200 and "Thank you" in text_of(thanks)
        async with door.services.db.session() as session:
            entry = (await session.scalars(select(FeedbackEntry))).one()
        assert entry.answers == {"helping": "yes", "run_well": "no"}
        assert entry.comments == {"anything_else": "The lunch is good."} and entry.with_help


class TestAnEnglishCouncilThatChoosesWelsh:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"feedback_welsh": True}

    async def test_offers_welsh(
        self, door: TestDoor, point: FeedbackPoint, visitor: Visitor
    ) -> None:
        html = await visitor.open(point.slug)
        assert f'href="/f/{point.slug}?lang=cy"' in html
        status, html, _ = await visitor.request("GET", f"/f/{point.slug}?lang=cy")
        assert status == 200 and '<html lang="cy">' in html
