"""A commissioner sets up and publishes an engagement on the web; providers are invited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.services import Services
from storage.engagement_tables import Engagement, EngagementInvitation, EngagementState
from storage.models import OutboxMessage
from tests.support.engagements import published_engagement
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of


async def test_commissioner_sets_up_and_publishes(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/engagements?words=new")
    assert status == 200, text_of(html)
    assert "What it is about" in html, text_of(html)
    closes = (services.clock.now() + timedelta(weeks=8)).date().strftime("%d/%m/%Y")
    pages = [
        {
            "title": "Youth mental health support",
            "purpose": "Better early help for young people.",
            "service_area": "mental_health",
            "area_served": "Preston",
        },
        {
            "budget": "£250,000",
            "closes_on": closes,
            "funding_routes": ["grant", "contract"],
            "confidentiality": "We keep what you say private.",
        },
        {"questions": ["viable_terms", "ideas", "payment"]},
    ]
    for index, values in enumerate(pages):
        status, html = await web_user.post(
            form_action(html), [*values.items(), ("_page", str(index)), ("_intent", "next")]
        )
        assert status == 200, text_of(html)
    page = text_of(html)
    assert "Draft: Youth mental health support" in page, page
    assert "Publish" in page
    match = re.search(r'href="(/do/engagements\?words=publish\+\d+)"', html)
    assert match, html
    status, html = await web_user.get(match.group(1).replace("&amp;", "&"))
    assert "Please confirm" in html
    status, html = await web_user.post(
        "/do/engagements", {"words": match.group(1).split("=")[1].replace("+", " ")}
    )
    page = text_of(html)
    assert "Published" in page, page
    async with services.db.session() as session:
        engagement = await session.scalar(select(Engagement))
        assert engagement is not None and engagement.state == EngagementState.OPEN
        invitations = await session.scalar(select(func.count()).select_from(EngagementInvitation))
        queued = await session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key.like("engagement:%:invite:%"))
        )
    # Asha (mental health) and Riverside Youth, Silver Threads (North Ward) match.
    assert invitations == queued == 3
    status, html = await web_user.get(f"/engagements/{engagement.id}/record")
    assert status == 200, text_of(html)
    page = text_of(html)
    assert "Engagement record: Youth mental health support" in page
    assert "Organisations invited 3" in page
    async with web_user.client.get(
        f"{web_user.base}/engagements/{engagement.id}/record.json"
    ) as response:
        assert response.status == 200
        record = await response.json()
    assert record["notice"]["title"] == "Youth mental health support"
    assert len(record["invitations"]) == 3
    assert record["participation"]["organisations_invited"] == 3


async def test_a_provider_cannot_open_the_record(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/engagements/1/record.json")
    assert status == 403
    assert "not yours to see" in text_of(html)


async def test_home_carries_on_a_saved_engagement_answer(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    engagement = await published_engagement(
        services, web_user, service_area="children_young_people"
    )

    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get(f"/do/engagements?words=answer+{engagement.id}")
    assert status == 200 and "What would make this work possible" in html, text_of(html)
    status, html = await web_user.post(
        form_action(html),
        [("_page", "0"), ("_intent", "save"), ("viable_terms", "Longer contracts.")],
    )
    assert "Saved on" in text_of(html)
    status, html = await web_user.get("/do/home")
    page = text_of(html)
    assert "Questions: Warm spaces, last saved" in page, page
    assert f'href="/do/engagements?words=answer+{engagement.id}"' in html
    assert "Engagement: Warm spaces You are taking part." in page
