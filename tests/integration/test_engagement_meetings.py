"""A private conversation: the provider asks, the team suggests times, the provider picks
one, and both sides are reminded the day before (through the due sweep)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FixedClock
from bot.scheduler import DueSweep
from bot.services import Services
from handlers import reminder_handlers
from storage.engagement_tables import MeetingRequest, MeetingState
from storage.models import OutboxMessage, Person
from tests.support.engagements import published_engagement
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of


async def test_both_sides_are_reminded_the_day_before(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    services.clock = FixedClock(services.clock.now())
    engagement = await published_engagement(
        services, web_user, service_area="children_young_people"
    )

    await web_user.sign_in_locally("Tom Okafor")
    _, html = await web_user.get(f"/do/engagements?words=talk+{engagement.id}")
    _, html = await web_user.post(
        form_action(html),
        [("_page", "0"), ("_intent", "submit"), ("topic", "Our costs."), ("how", "video")],
    )
    assert "Only your organisation and the team know" in text_of(html), text_of(html)
    await web_user.post("/signout", {})

    async with services.db.session() as session:
        request = await session.scalar(select(MeetingRequest))
        assert request is not None
    when = (services.clock.now() + timedelta(days=10)).replace(hour=14, minute=0)
    await web_user.sign_in_locally("Priya Shah")
    _, html = await web_user.get(f"/do/engagements?words=times+{request.id}")
    assert "Riverside Youth Trust asked to talk about: Our costs." in text_of(html)
    _, html = await web_user.post(
        form_action(html),
        [("_page", "0"), ("_intent", "submit"), ("option_1", when.strftime("%d/%m/%Y %H:%M"))],
    )
    assert "We sent your times" in text_of(html), text_of(html)
    await web_user.post("/signout", {})

    await web_user.sign_in_locally("Tom Okafor")
    await web_user.get("/")
    _, html = await web_user.post("/do/engagements", {"words": f"pick {request.id} 1"})
    assert "Agreed:" in text_of(html), text_of(html)
    async with services.db.session() as session:
        agreed = await session.get(MeetingRequest, request.id)
        assert agreed is not None and agreed.state == MeetingState.AGREED
        assert agreed.agreed_at is not None

    assert isinstance(services.clock, FixedClock)
    services.clock.advance(agreed.agreed_at - services.clock.now() - timedelta(hours=23))
    assert await DueSweep(services, reminder_handlers()).run_once() >= 1
    async with services.db.session() as session:
        reminded = set(
            (
                await session.scalars(
                    select(Person.name)
                    .join(OutboxMessage, OutboxMessage.person_id == Person.id)
                    .where(OutboxMessage.idempotency_key.like("reminder:%"))
                )
            ).all()
        )
    assert reminded == {"Tom Okafor", "Priya Shah"}
