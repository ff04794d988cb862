"""Registration numbers in the Slack profile modal, over real HTTP: a number that cannot be
from its register is refused under its own input, in plain words, with nothing saved; a good
one is stored the register's way."""

from __future__ import annotations

from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import draft_of, input_elements
from tests.slack.test_profile_modal import metadata, open_profile, submit
from tests.support.fake_slack import FakeSlack


async def test_register_numbers_in_the_modal(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    view_id = await open_profile(slack, fake_slack)
    page1 = fake_slack.views[view_id]
    response_id = metadata(page1)["r"]
    elements = input_elements(page1)
    assert elements["company_number"]["type"] == "plain_text_input"
    assert elements["company_number"]["placeholder"]["text"] == "For example, 01234567"
    assert elements["ppon"]["initial_value"] == "PQRT-7342-HMVD", "pre-filled from the profile"

    answer = await submit(
        slack,
        fake_slack,
        view_id,
        {"company_number": "123456789", "mutuals_number": "2386 rs", "charity_number": "11"},
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"company_number", "charity_number"}
    assert answer["errors"]["company_number"].startswith("Companies House numbers are 8")
    assert "6 to 8 numbers, like 1123456" in answer["errors"]["charity_number"]
    draft = await draft_of(services, response_id)
    assert "mutuals_number" not in draft.answers, "nothing from a page with errors"

    answer = await submit(
        slack,
        fake_slack,
        view_id,
        {"company_number": "ni 12345", "mutuals_number": "2386 rs", "charity_number": "1100001"},
    )
    assert answer["response_action"] == "update", answer
    draft = await draft_of(services, response_id)
    assert (draft.answers["company_number"], draft.answers["mutuals_number"]) == (
        "NI012345",
        "2386RS",
    )
