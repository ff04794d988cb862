"""The readiness summary's place filter typed in a Slack slash command: a council name finds
providers covering its county, and a name that is no place is explained in plain words."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.services import Services
from storage.readiness import rebuild_readiness_facts
from tests.integration.test_exports import submit_readiness
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually
from tests.support.areas import codes
from tests.support.fake_slack import FakeSlack


async def _said(fake: FakeSlack, key: str) -> str:
    """Everything Slack was sent through the command's response URL, blocks and all."""
    said = await eventually(lambda: fake.responses.get(key))
    return json.dumps(said[-1])


async def test_a_commissioner_filters_the_summary_by_a_typed_place(
    slack: SlackPoster, fake_slack: FakeSlack, priya: str, services: Services
) -> None:
    await submit_readiness(
        services,
        "riverside-youth-trust",
        {"areas_covered": codes("Lancashire")},
        at=datetime.now(UTC),
    )
    async with services.db.session() as session:
        await rebuild_readiness_facts(session)

    status, _ = await slack.command(
        "readiness summary area=Chorley", user_id=priya, response_url=fake_slack.response_url("c")
    )
    assert status == 200
    said = await _said(fake_slack, "c")
    assert "said they could cover Chorley, or a place that includes it" in said
    assert "What 1 organisation told Riverside Borough Council" in said

    status, _ = await slack.command(
        "readiness summary area=Narnia", user_id=priya, response_url=fake_slack.response_url("n")
    )
    assert status == 200
    assert "We could not find one place called 'Narnia'" in await _said(fake_slack, "n")
