"""A performance assessment in Teams cards, over real HTTP: a commissioner (her tenant is
linked to Riverside council) types `agreements assess N`, gets the empty form built from
the KPIs as an Adaptive Card, and its pages save a draft."""

from __future__ import annotations

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.assessment_tables import AssessmentRating, PerformanceAssessment
from storage.models import Authority, Door, WorkspaceLink
from tests.support.agreements import seed_contract
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import inputs, invoke_card, only_card, posted, press, settle
from tests.teams.helpers import text_of as card_text


async def test_the_team_drafts_an_assessment_in_a_card(
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
    agreement_id = await seed_contract(services)
    activity = await teams.say(f"agreements assess {agreement_id}")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    card_id, card = shown[-1]["id"], only_card(shown[-1])
    fields = inputs(card)
    assert list(fields)[:2] == ["kpi_1_rating", "kpi_1_note"]
    assert all(not f.get("value") for f in fields.values()), "never pre-filled"

    answer = await teams.execute(
        "form.next",
        press(
            card,
            "form.next",
            {
                "kpi_1_rating": "approaching_target",
                "kpi_2_rating": "good",
                "kpi_3_rating": "requires_improvement",
                "kpi_3_note": "Survey late",
            },
        ),
        reply_to_id=card_id,
    )
    card = invoke_card(answer.body)
    answer = await teams.execute(
        "form.submit", press(card, "form.submit", {"summary": ""}), reply_to_id=card_id
    )
    assert "as a draft" in card_text(invoke_card(answer.body))
    async with services.db.session() as session:
        draft = await session.scalar(select(PerformanceAssessment))
        assert draft is not None and draft.state == "draft"
        ratings = (
            await session.scalars(select(AssessmentRating.rating).order_by(AssessmentRating.id))
        ).all()
    assert list(ratings) == ["approaching_target", "good", "requires_improvement"]
