"""A commissioner sets up an engagement and adds an event in Teams cards, over real HTTP.

Every card is checked against the Adaptive Cards 1.5 rules by the suite's fixture."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.engagement_tables import Engagement, EngagementEvent, EngagementState
from storage.models import Authority, Door, WorkspaceLink
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import inputs, invoke_card, only_card, page_title, posted, press, settle
from tests.teams.helpers import text_of as card_text


async def test_a_commissioner_sets_up_an_engagement_and_an_event_in_cards(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, services: Services
) -> None:
    async with services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert council is not None
        session.add(
            WorkspaceLink(
                platform=Door.TEAMS, workspace_id=fake_teams.tenant_id, authority_id=council.id
            )
        )

    activity = await teams.say("engagements new")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    card_id, card = shown[-1]["id"], only_card(shown[-1])
    assert page_title(card) == "What it is about"
    assert inputs(card)["service_area"]["type"] == "Input.ChoiceSet"

    closes = (services.clock.now() + timedelta(weeks=8)).strftime("%d/%m/%Y")
    pages = [
        {
            "title": "Carers' breaks",
            "purpose": "Short breaks for unpaid carers.",
            "service_area": "carers",
        },
        {"closes_on": closes, "funding_routes": "grant,contract"},
    ]
    for changes in pages:
        answer = await teams.execute(
            "form.next", press(card, "form.next", changes), reply_to_id=card_id
        )
        card = invoke_card(answer.body)
    assert page_title(card) == "Questions to ask"
    answer = await teams.execute(
        "form.submit",
        press(card, "form.submit", {"questions": "viable_terms,payment", "must_answer": ""}),
        reply_to_id=card_id,
    )
    draft = card_text(invoke_card(answer.body))
    assert "Draft: Carers' breaks" in draft, draft
    async with services.db.session() as session:
        engagement = await session.scalar(select(Engagement))
        assert engagement is not None
        assert engagement.state == EngagementState.DRAFT
        assert engagement.funding_routes == ["grant", "contract"]
        assert engagement.question_ids == ["viable_terms", "payment"]

    # An event, with its start typed the way people write it.
    activity = await teams.say(f"engagements event {engagement.id}")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    card_id, card = shown[-1]["id"], only_card(shown[-1])
    assert page_title(card) == "The event"
    answer = await teams.execute(
        "form.submit",
        press(
            card,
            "form.submit",
            {
                "kind": "workshop",
                "title": "Design workshop",
                "starts_at": "Tuesday 2 March 2027, 2pm",
                "place": "Riverside Library",
                "capacity": "20",
            },
        ),
        reply_to_id=card_id,
    )
    done = card_text(invoke_card(answer.body))
    assert "Added Design workshop on Tuesday 2 March 2027, 2pm" in done, done
    async with services.db.session() as session:
        event = await session.scalar(select(EngagementEvent))
        assert event is not None and event.capacity == 20
        assert event.starts_at.isoformat() == "2027-03-02T14:00:00+00:00"
