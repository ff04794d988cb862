"""A performance assessment in a Slack modal, over real HTTP against the fake Slack Web API:
`/convene agreements assess N` opens the form built from the contract's KPIs, empty, and
sending its pages saves a draft only the team sees."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.assessment_tables import AssessmentRating, PerformanceAssessment
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import text_of_blocks
from tests.slack.test_engagement_modal import open_modal, submit
from tests.support.agreements import seed_contract
from tests.support.fake_slack import FakeSlack


async def test_the_team_drafts_an_assessment_in_a_modal(
    slack: SlackPoster, fake_slack: FakeSlack, priya: str, services: Services
) -> None:
    agreement_id = await seed_contract(services)
    view_id = await open_modal(slack, fake_slack, f"agreements assess {agreement_id}", priya)
    page = text_of_blocks(fake_slack.views[view_id]["blocks"])
    assert "Young people attending: how did they do?" in page
    assert "never fill this in from check-in answers" in page

    answer = await submit(
        slack,
        fake_slack,
        view_id,
        {
            "kpi_1_rating": "good",
            "kpi_2_rating": "inadequate",
            "kpi_2_note": "Two clubs closed",
            "kpi_3_rating": "other",
        },
        priya,
    )
    assert answer.get("response_action") == "update", answer
    answer = await submit(slack, fake_slack, view_id, {"summary": "Mixed"}, priya)
    assert "as a draft" in text_of_blocks(
        fake_slack.views[view_id]["blocks"]
    ) or "as a draft" in str(answer)
    async with services.db.session() as session:
        draft = await session.scalar(select(PerformanceAssessment))
        assert draft is not None and (draft.state, draft.summary) == ("draft", "Mixed")
        ratings = (await session.scalars(select(AssessmentRating.rating))).all()
    assert sorted(ratings) == ["good", "inadequate", "other"]
