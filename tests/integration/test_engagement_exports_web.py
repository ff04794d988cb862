"""An engagement's answers as a download on the web door, over real HTTP: the answers page
links each organisation to its profile and offers the file; the link downloads a CSV for
the commissioner who asked, and for nobody else."""

from __future__ import annotations

import csv
import io

from bot.core.reply import FormView
from bot.core.turn import Intent, Submission
from bot.services import Services
from tests.features.engagement_story import _turn, make_engagement
from tests.integration.test_exports import LINK, fetch
from tests.support.web import WebUser, text_of


async def tom_answers(services: Services, engagement_id: int, person_id: int) -> None:
    """Tom sends both pages of the engagement's questions."""
    (form,) = [
        r
        for r in await _turn(services, person_id, text=f"engagements answer {engagement_id}")
        if isinstance(r, FormView)
    ]
    pages = [
        (0, Intent.NEXT, {"viable_terms": "Longer agreements."}),
        (1, Intent.SUBMIT, {"payment": "advance"}),
    ]
    for page, intent, values in pages:
        replies = await _turn(
            services,
            person_id,
            submission=Submission(
                response_id=form.response_id, page=page, values=values, intent=intent
            ),
        )
    assert not any(isinstance(r, FormView) for r in replies), replies


async def test_the_answers_page_links_profiles_and_downloads_a_csv(
    services: Services, web_user: WebUser
) -> None:
    story = await make_engagement(services)
    await tom_answers(services, story.engagement_id, story.people["Tom Okafor"])
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get(f"/do/engagements?words=answers+{story.engagement_id}")
    assert status == 200, text_of(html)
    assert 'href="/do/organisation?words=riverside-youth-trust"' in html
    assert "Riverside Youth Trust: profile" in html

    status, html = await web_user.get(
        f"/do/engagements?words=export+{story.engagement_id}+answers+csv"
    )
    assert status == 200, text_of(html)
    found = LINK.search(html)
    assert found, text_of(html)
    status, headers, body = await fetch(web_user, found.group(1))
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert row["Organisation"] == "Riverside Youth Trust"
    assert row["How would you like to be paid?"] == "In advance"

    # The link is Priya's alone: Tom, signed in, gets no file from it.
    await web_user.sign_in_locally("Tom Okafor")
    status, _, body = await fetch(web_user, found.group(1))
    assert status != 200 or b"Longer agreements" not in body
