"""What Slack (or someone pretending to be Slack) might send that we must not act on.

Unsigned, forged and replayed requests are refused before anything is stored;
broken or unexpected payloads are answered without a crash; a retried event is
handled once; a modal that points at a form that is gone saves nothing; and a
trigger id that expired before we could open the modal ends in a kind message.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import ProcessedEvent
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.helpers import count, eventually, outbox_rows, settle, stored_counts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import (
    FORM,
    JSON,
    event_body,
    interaction_body,
    sign,
    slash_command_body,
    text_value,
    view_submission_payload,
)

NEWCOMER = "U0099"


def dm(text: str, user: str = NEWCOMER) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
    }


def requests_from_a_newcomer() -> list[tuple[bytes, str]]:
    """A slash command and a DM event that, if accepted, would create a person and a row."""
    return [
        (slash_command_body(text="help", user_id=NEWCOMER), FORM),
        (event_body(dm("help"), event_id="EvRefused1"), JSON),
    ]


@pytest.mark.parametrize("problem", ["missing", "forged", "stale"])
async def test_unsigned_forged_or_stale_requests_are_refused(
    problem: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_slack.add_user("T0001", NEWCOMER, "New Person", email="new.person@example.org")
    before = await stored_counts(services)
    for body, content_type in requests_from_a_newcomer():
        if problem == "missing":
            headers = {"X-Slack-Request-Timestamp": str(int(time.time()))}
        elif problem == "forged":
            headers = sign("not-the-signing-secret", body)
        else:
            headers = sign(SIGNING_SECRET, body, int(time.time()) - 6 * 60 - 1)
        headers["Content-Type"] = content_type
        async with slack.client.post(slack.url, data=body, headers=headers) as resp:
            assert resp.status == 401, await resp.text()
    assert await stored_counts(services) == before, "nothing stored"
    assert not fake_slack.calls_to("users.info"), "nobody was looked up"
    assert SIGNING_SECRET not in caplog.text
    for record in caplog.records:
        assert SIGNING_SECRET not in str(record.args), record.name


async def test_malformed_json_is_refused_and_the_server_carries_on(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services
) -> None:
    before = await stored_counts(services)
    status, _ = await slack.post(b'{"type": "event_callback", "event": {', JSON)
    assert 400 <= status < 500
    status, _ = await slack.post(b"payload=%7B%22type%22%3A", FORM)  # payload={"type":
    assert 400 <= status < 500
    assert await stored_counts(services) == before
    status, _ = await slack.command("help", response_url=fake_slack.response_url("after"))
    assert status == 200
    await eventually(lambda: fake_slack.responses.get("after"))


async def test_an_unknown_payload_type_is_logged_not_crashed_on(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    payload = {
        "type": "weird",
        "team": {"id": "T0001"},
        "user": {"id": "U0001", "team_id": "T0001"},
        "api_app_id": "A0001",
    }
    status, _ = await slack.post(interaction_body(payload), FORM)
    assert status in (200, 404)
    assert any(
        "weird" in r.getMessage() or "unhandled" in r.getMessage().lower()
        for r in caplog.records
        if r.levelno >= logging.INFO
    ), caplog.text
    status, _ = await slack.command("help", response_url=fake_slack.response_url("after"))
    assert status == 200
    await eventually(lambda: fake_slack.responses.get("after"))


@pytest.mark.parametrize("metadata", [json.dumps({"r": 999999, "p": 0}), "not json", ""])
async def test_a_modal_for_a_form_that_is_gone_saves_nothing(
    metadata: str, slack: SlackPoster, tom: str, services: Services
) -> None:
    before = await stored_counts(services)
    payload = view_submission_payload(
        "convene_form",
        {"name": {"name": text_value("Riverside Youth Trust North")}},
        private_metadata=metadata,
    )
    status, answer = await slack.interact(payload)
    assert status == 200
    assert isinstance(answer, dict)
    assert answer["response_action"] in ("errors", "update")
    shown = json.dumps(answer)
    assert "no longer open" in shown and "nothing was saved" in shown
    after = await stored_counts(services)
    assert (after["responses"], after["outbox"]) == (before["responses"], before["outbox"])


async def test_an_expired_trigger_asks_the_person_to_try_again(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str
) -> None:
    status, _ = await slack.command(
        "profile", trigger_id="expired.1", response_url=fake_slack.response_url("late")
    )
    assert status == 200
    answer = (await eventually(lambda: fake_slack.responses.get("late")))[-1]
    assert answer["response_type"] == "ephemeral"
    assert "Please try again" in answer["text"]
    assert fake_slack.calls_to("views.open")[0].error == "expired_trigger_id"
    assert not fake_slack.calls_to("views.update")


async def test_a_retried_event_is_handled_once(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
    services: Services,
    sender: OutboxSender,
) -> None:
    body_event = dm("help", user=tom)
    status, _ = await slack.event(body_event, event_id="EvRetried")
    assert status == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = await slack.event(body_event, event_id="EvRetried", headers=retry)
    assert status == 200
    await eventually(lambda: outbox_rows(services))
    await settle(sender)
    assert len(fake_slack.delivered(tom)) == 1
    assert await count(services, ProcessedEvent) == 1
    assert len(await outbox_rows(services)) == 1


@pytest.mark.parametrize("event", ["a message", [], 7])
async def test_an_event_that_is_not_an_object_is_refused_on_any_request(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, event: object
) -> None:
    """Bolt reads `event` as an object on every request (its check for the app's own
    messages), so a signed interaction carrying a text or list `event` is refused first."""
    before = await stored_counts(services)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "U0001", "team_id": "T0001"},
        "api_app_id": "A0001",
        "actions": [{"action_id": "cmd.help", "type": "button", "value": ""}],
        "event": event,
    }
    status, _ = await slack.post(interaction_body(payload), FORM)
    assert 400 <= status < 500
    assert await stored_counts(services) == before
