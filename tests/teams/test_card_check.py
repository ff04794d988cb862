"""The after-test Adaptive Card check catches what Teams would fail to render.

Every other test in this folder relies on it (cards sent to the connector, cards
returned in invoke responses), so it must not pass everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.reply import Message, Notice
from bot.teams import cards as kit
from tests.support.fake_botframework import ConnectorCall, FakeBotFramework
from tests.teams.conftest import CARD, CardLog, card_problems

Json = dict[str, Any]


def sent(card: Json) -> CardLog:
    """A log in which the app posted `card` to the connector."""
    fake = FakeBotFramework()  # never started: only its record of calls is read
    fake.calls.append(
        ConnectorCall(
            method="POST",
            path="/amer/v3/conversations/a:1/activities",
            kind="send",
            conversation_id="a:1",
            activity_id=None,
            body={"type": "message", "attachments": [{"contentType": CARD, "content": card}]},
            authorization=None,
            at=0.0,
        )
    )
    return CardLog(fakes=[fake])


def test_what_convene_renders_passes() -> None:
    rendered = kit.cards([Message(title="Hello", text="Hi"), Notice(text="Saved")])
    assert card_problems(sent(rendered[0])) == []
    assert card_problems(CardLog(returned=[("invoke", rendered[0])])) == []


BAD = {
    "old version": ({"type": "AdaptiveCard", "version": "1.2", "body": []}, "version"),
    "unknown element": (
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Carousel"}]},
        "Carousel",
    ),
    "unlabelled input": (
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Input.Text", "id": "a"}]},
        "label",
    ),
    "duplicate ids": (
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [
                {"type": "Input.Text", "id": "a", "label": "A"},
                {"type": "Input.Text", "id": "a", "label": "A again"},
            ],
        },
        "unique",
    ),
}


@pytest.mark.parametrize(("card", "complaint"), list(BAD.values()), ids=list(BAD))
def test_a_bad_card_is_caught_wherever_it_went(card: Json, complaint: str) -> None:
    for log in (sent(card), CardLog(returned=[("invoke response", card)])):
        problems = card_problems(log)
        assert len(problems) == 1 and complaint in problems[0], problems
