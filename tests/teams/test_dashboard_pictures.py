"""The dashboard in Teams over real HTTP: each chart is an Adaptive Card Image whose url
Teams fetches (no cookie) as a PNG drawn from the council's rows, with the chart's
description as altText, and its table follows as text. The card check
(tests/support/adaptive_cards.py) also requires an https or loopback url and altText."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import ChatIdentity, Person, Role
from storage.models import Door as StoredDoor
from storage.people import grant
from tests.support.chart_pictures import (
    PNG_SIGNATURE,
    RAG_TITLE,
    check_picture_addresses,
    expected_rag_png,
    fetch,
    seed_council,
)
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import RunningApp
from tests.support.teams_activities import ALICE
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import cards_of, posted, settle, text_of


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Image":
            found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


async def test_teams_shows_each_chart_as_a_picture_then_its_table(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    app_server: RunningApp,
) -> None:
    council = await seed_council(services)
    # Alice, once Teams has introduced her, joins the council's commissioning team.
    await teams.say("help")
    await settle(sender)
    async with services.db.session() as session:
        identity = await session.scalar(
            select(ChatIdentity).where(
                ChatIdentity.platform == StoredDoor.TEAMS,
                ChatIdentity.user_id == ALICE.aad_object_id,
            )
        )
        assert identity is not None
        alice = await session.get(Person, identity.person_id)
        assert alice is not None
        await grant(session, alice, Role.COMMISSIONER, authority_id=council)
    services.actors.forget(alice.id)  # as the app does when someone's roles change
    activity = await teams.say("dashboard")
    await settle(sender)
    shown = posted(fake_teams, activity["conversation"]["id"])
    cards = [card for message in shown for card in cards_of(message)]
    images = _walk(cards)
    assert len(images) >= 3, text_of(shown[-1])
    titles = text_of(shown[-1])
    assert RAG_TITLE in titles and "Red" in titles
    rag = next(i for i in images if i["altText"].startswith("For each agreement whose"))
    status, content_type, png = await fetch(app_server.url, rag["url"])
    assert status == 200 and content_type == "image/png"
    assert png.startswith(PNG_SIGNATURE)
    assert png == await expected_rag_png(services, council)
    await check_picture_addresses(app_server.url, services, rag["url"])
