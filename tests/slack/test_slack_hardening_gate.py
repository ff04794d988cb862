"""The gate in front of Bolt: size, signature and shape are checked before anything is read.

A request that is too big gets 413, one that is not signed by Slack (or was signed too
long ago, or has a timestamp that is not a number) gets 401, and one that is signed but
has a body Convene can't use gets 400: never a 500, and nothing stored. Forged requests
don't reach the log (one short line per address a minute, never their body), and an
address that keeps sending them gets 429 without any more checking. Bolt's own log lines,
which can carry a payload, say nothing either.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.services import Services
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.helpers import eventually, stored_counts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import (
    FORM,
    JSON,
    event_body,
    interaction_body,
    sign,
    slash_command_body,
    url_verification_body,
)

MARKER = "Zq7MarkerFromTheBody"
NEWCOMER = "U0099"
ALLOWED = 5  # bad requests per minute per address, in this module


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": "xoxb-test",
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
        "bad_requests_per_minute": ALLOWED,
    }


def from_address(address: str) -> dict[str, str]:
    """Tests connect from 127.0.0.1, a trusted proxy: this is who the request is for."""
    return {"X-Forwarded-For": address}


async def post_raw(slack: SlackPoster, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with slack.client.post(slack.url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


def dm_event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": f"D{NEWCOMER}",
        "channel_type": "im",
        "user": NEWCOMER,
        "text": "help",
        "ts": f"{time.time():.6f}",
    }
    event.update(changes)
    return event


def envelope(**changes: Any) -> bytes:
    body = json.loads(event_body(dm_event(), event_id="EvShape1"))
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no signature or timestamp"),
        pytest.param({"X-Slack-Request-Timestamp": "abc"}, id="timestamp abc"),
        pytest.param({"X-Slack-Request-Timestamp": "1e9"}, id="timestamp 1e9"),
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="forged"),
        pytest.param({"X-Slack-Signature": "v1=abc"}, id="not a v0 signature"),
        pytest.param({"stale": "1"}, id="stale"),
        pytest.param({"future": "1"}, id="from the future"),
    ],
)
async def test_a_request_not_signed_by_slack_gets_401(
    headers: dict[str, str], slack: SlackPoster, fake_slack: FakeSlack, services: Services
) -> None:
    fake_slack.add_user("T0001", NEWCOMER, "New Person", email="new.person@example.org")
    before = await stored_counts(services)
    for body, content_type in (
        (slash_command_body(text="help", user_id=NEWCOMER), FORM),
        (event_body(dm_event(), event_id="EvUnsigned"), JSON),
    ):
        now = int(time.time())
        sent = sign(SIGNING_SECRET, body, now)
        if "stale" in headers:
            sent = sign(SIGNING_SECRET, body, now - 5 * 60 - 30)
        elif "future" in headers:
            sent = sign(SIGNING_SECRET, body, now + 5 * 60 + 30)
        elif not headers:
            sent = {}
        else:
            sent.update(headers)
        sent.update({"Content-Type": content_type, **from_address("203.0.113.1")})
        status, text = await post_raw(slack, body, sent)
        assert (status, text) == (401, "invalid signature")
    assert await stored_counts(services) == before
    assert not fake_slack.calls, "nobody was looked up, nothing was sent"


SIGNED_BUT_UNUSABLE = [
    pytest.param(b"[]", JSON, id="json list"),
    pytest.param(b"null", JSON, id="json null"),
    pytest.param(b'"x"', JSON, id="json string"),
    pytest.param(b"true", JSON, id="json true"),
    pytest.param(b"", JSON, id="empty"),
    pytest.param(b"\xff\xfe{}", JSON, id="not utf-8"),
    pytest.param(b'{"type": "event_callback", "event": {', JSON, id="broken json"),
    pytest.param(b"payload=%5B%5D", FORM, id="payload=[]"),
    pytest.param(b"payload=not+json", FORM, id="payload=not json"),
    pytest.param(b"payload=%22x%22", FORM, id='payload="x"'),
    pytest.param(b"nothing=here", FORM, id="form without a command"),
    pytest.param(envelope(event="message"), JSON, id="event is a string"),
    pytest.param(envelope(event={"user": NEWCOMER}), JSON, id="event without a type"),
    pytest.param(envelope(event_id=None), JSON, id="event without an id"),
    pytest.param(envelope(event_id=7), JSON, id="event id is a number"),
    pytest.param(envelope(team_id=["T0001"]), JSON, id="team id is a list"),
    pytest.param(envelope(event=dm_event(user=12)), JSON, id="user is a number"),
    pytest.param(envelope(event=dm_event(text={"t": 1})), JSON, id="text is an object"),
    pytest.param(envelope(authorizations="all"), JSON, id="authorizations is text"),
    pytest.param(envelope(authorizations=[None]), JSON, id="an authorization is null"),
    pytest.param(envelope(is_ext_shared_channel="yes"), JSON, id="shared is text"),
    pytest.param(
        envelope(event=dm_event(subtype="message_changed", message="edited")),
        JSON,
        id="changed message is text",
    ),
    pytest.param(
        interaction_body({"type": "block_actions", "user": {"id": "U0001"}, "actions": []}),
        FORM,
        id="no actions",
    ),
    pytest.param(
        interaction_body({"type": "block_actions", "user": "U0001"}), FORM, id="user is text"
    ),
    pytest.param(
        interaction_body({"type": "block_actions", "user": {"id": "U0001"}, "actions": "go"}),
        FORM,
        id="actions is text",
    ),
    pytest.param(
        interaction_body(
            {"type": "view_submission", "user": {"id": "U0001"}, "view": {"state": []}}
        ),
        FORM,
        id="view state is a list",
    ),
    pytest.param(interaction_body({"user": {"id": "U0001"}}), FORM, id="no type"),
]


@pytest.mark.parametrize(("body", "content_type"), SIGNED_BUT_UNUSABLE)
async def test_a_signed_body_convene_cannot_use_gets_400(
    body: bytes,
    content_type: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    services: Services,
) -> None:
    fake_slack.add_user("T0001", NEWCOMER, "New Person", email="new.person@example.org")
    before = await stored_counts(services)
    status, text = await slack.post(body, content_type)
    assert status == 400, text
    assert text.startswith("Bad request: ") and len(text) < 80
    assert await stored_counts(services) == before
    assert not fake_slack.calls_to("users.info")
    # ... and the server carries on.
    status, _ = await slack.command("help", response_url=fake_slack.response_url("after"))
    assert status == 200
    await eventually(lambda: fake_slack.responses.get("after"))


async def test_a_body_over_a_megabyte_gets_413_signed_or_not(
    slack: SlackPoster, services: Services
) -> None:
    before = await stored_counts(services)
    big = urlencode({"command": "/convene", "text": "x" * (1024 * 1024)}).encode()
    status, _ = await slack.post(big, FORM)
    assert status == 413
    status, _ = await post_raw(slack, big, {"Content-Type": FORM})
    assert status == 413
    assert await stored_counts(services) == before


async def test_forged_requests_never_reach_the_log(
    slack: SlackPoster, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = await stored_counts(services)
    statuses = set()
    for n in range(50):
        body = json.dumps(
            {"type": "event_callback", "event": {"type": "message", "text": f"{MARKER}\n{n}"}}
        ).encode()
        headers = sign("not-the-signing-secret", body)
        headers.update({"Content-Type": JSON, **from_address("198.51.100.7")})
        status, text = await post_raw(slack, body, headers)
        statuses.add(status)
        assert MARKER not in text
    assert statuses == {401, 429}
    assert MARKER not in caplog.text
    assert all(MARKER not in str(r.args) for r in caplog.records)
    said = [r for r in caplog.records if "signature" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert "198.51.100.7" in said[0].getMessage()
    assert await stored_counts(services) == before


async def test_too_many_bad_signatures_from_one_address_get_429_without_checking(
    slack: SlackPoster, fake_slack: FakeSlack
) -> None:
    body = slash_command_body(text="help", response_url=fake_slack.response_url("refused"))
    forged = sign("not-the-signing-secret", body, content_type=FORM)
    flooding = {**forged, **from_address("192.0.2.50")}
    answers = [(await post_raw(slack, body, flooding))[0] for _ in range(ALLOWED + 1)]
    assert answers == [401] * ALLOWED + [429]

    # Now even a properly signed request from that address is turned away unread...
    signed = {**sign(SIGNING_SECRET, body, content_type=FORM), **from_address("192.0.2.50")}
    async with slack.client.post(slack.url, data=body, headers=signed) as resp:
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) >= 1
    assert "refused" not in fake_slack.responses
    # ... while Slack, from anywhere else, is answered as usual.
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    status, _ = await slack.command("help", response_url=fake_slack.response_url("fine"))
    assert status == 200
    await eventually(lambda: fake_slack.responses.get("fine"))


async def test_what_slack_sends_never_reaches_the_log_through_bolt(
    slack: SlackPoster, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt logs a request it has no listener for with some of its fields (what somebody
    typed into a menu's search box, say). Convene says only its type."""
    caplog.set_level(logging.INFO)
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    for payload in (
        {
            "type": "block_suggestion",
            "user": {"id": "U0001", "team_id": "T0001"},
            "team": {"id": "T0001"},
            "action_id": "search",
            "block_id": "b",
            "value": f"{MARKER}\nforged line",
        },
        {
            "type": "dialog_suggestion",
            "user": {"id": "U0001", "team_id": "T0001"},
            "team": {"id": "T0001"},
            "callback_id": "old",
            "value": MARKER,
        },
    ):
        status, _ = await slack.post(interaction_body(payload), FORM)
        assert status == 404
    assert MARKER not in caplog.text
    assert any("Unhandled Slack request (type block_suggestion)" in m for m in caplog.messages)
    # A DM with the marker in it is handled, and neither it nor its reply is logged.
    status, _ = await slack.event(dm_event(user="U0001", text=f"help {MARKER}"))
    assert status == 200
    assert MARKER not in caplog.text


async def test_slack_s_url_check_is_answered_through_the_gate(slack: SlackPoster) -> None:
    """When an admin sets the Request URL, Slack sends a signed challenge to echo back."""
    status, answer = await slack.post(url_verification_body("challenge-7"), JSON)
    assert status == 200 and "challenge-7" in answer


async def test_a_command_with_the_word_payload_in_it_is_answered(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str
) -> None:
    """Slack's interactions arrive as `payload=...`; a command that merely mentions the
    word must not be mistaken for one."""
    status, _ = await slack.command("help payload", response_url=fake_slack.response_url("p"))
    assert status == 200
    said = await eventually(lambda: fake_slack.responses.get("p"))
    assert "What I can help with" in said[-1]["text"]
