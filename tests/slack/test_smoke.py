"""The quickest signs of life of the Slack door, over real HTTP."""

from __future__ import annotations

import json

from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually, text_of_blocks
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import JSON, url_verification_body


async def test_url_verification_echoes_the_challenge(slack: SlackPoster) -> None:
    """Slack checks the Request URL this way before it sends any event."""
    status, body = await slack.post(url_verification_body("abc123"), JSON)
    assert status == 200
    assert json.loads(body) == {"challenge": "abc123"}


async def test_help_answers_through_the_response_url(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str
) -> None:
    status, _ = await slack.command("help", response_url=fake_slack.response_url("help"))
    assert status == 200
    answer = (await eventually(lambda: fake_slack.responses.get("help")))[-1]
    assert answer["response_type"] == "ephemeral"
    text = text_of_blocks(answer["blocks"])
    assert "What I can help with" in text
    assert "profile" in text and "directory" not in text, "Tom is a provider"
