"""The after-test Block Kit check catches what Slack would reject.

Every other test in this folder relies on it, so it must not pass everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack import blocks as kit
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.support.fake_slack import Call, FakeSlack

Json = dict[str, Any]


def section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def problems_with(method: str, body: Json) -> list[str]:
    fake = FakeSlack()  # never started: only its record of calls is read
    fake.calls.append(Call(method=method, token="xoxb-test", body=body, at=0.0))
    return block_kit_problems(BlockKitLog(fakes=[fake]))


def test_what_convene_renders_passes() -> None:
    assert problems_with("views.open", {"view": kit.loading_modal()}) == []
    assert problems_with("chat.postMessage", {"blocks": [section("Hello")]}) == []


@pytest.mark.parametrize(
    ("method", "body", "complaint"),
    [
        ("chat.postMessage", {"blocks": [section("x")] * 51}, "51 blocks"),
        ("chat.postMessage", {"blocks": [section("x" * 3001)]}, "3000"),
        ("chat.postEphemeral", {"blocks": [{"type": "no_such_block"}]}, "no_such_block"),
        (
            "views.open",
            {
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "A" * 25},
                    "blocks": [section("x")],
                }
            },
            "title",
        ),
        ("views.publish", {"view": {"type": "home", "blocks": [section("x")] * 101}}, "101"),
        (
            "views.update",
            {
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Form"},
                    "blocks": [
                        {
                            "type": "actions",
                            "elements": [
                                {
                                    "type": "button",
                                    "action_id": "a",
                                    "text": {"type": "plain_text", "text": "B" * 76},
                                }
                            ],
                        }
                    ],
                }
            },
            "text",
        ),
    ],
)
def test_what_slack_would_reject_is_reported(method: str, body: Json, complaint: str) -> None:
    problems = problems_with(method, body)
    assert problems, f"{method} {body} passed the check"
    assert complaint in "\n".join(problems)
