"""Fixtures for the Slack door: a fake Slack Web API on loopback and the real app pointed at it.

Nothing inside Convene is mocked. Requests reach `POST /slack/events` signed the way
Slack signs them; the app calls the fake over HTTP. After every test, every Block Kit
payload the app produced (Web API calls, response_url posts, and views returned in
HTTP responses) is checked with slack_sdk's own models, because Slack rejects an
invalid payload with an error nobody sees until a person is staring at a blank modal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.models.views import View

from bot.app import SENDER, SLACK
from bot.outbox.sender import OutboxSender
from bot.slack.door import SlackDoor
from tests.support.adaptive_cards import picture_address_ok
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp
from tests.support.slack_signing import (
    FORM,
    JSON,
    event_body,
    interaction_body,
    sign,
    slash_command_body,
)

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
MODAL_TITLE = 24


# --- Block Kit validity, checked after every test -------------------------------------------


@dataclass
class BlockKitLog:
    """Where the Block Kit a test produced can be found once the test has run."""

    fakes: list[FakeSlack] = field(default_factory=list)
    views: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


BLOCK_KIT = pytest.StashKey[BlockKitLog]()


def _log(request: pytest.FixtureRequest) -> BlockKitLog:
    stash = request.node.stash
    if BLOCK_KIT not in stash:
        stash[BLOCK_KIT] = BlockKitLog()
    return stash[BLOCK_KIT]


def _check_blocks(blocks: Any, where: str, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return [f"{where}: blocks is {type(blocks).__name__}, not a list"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks (Slack allows {limit})")
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse(raw)
            assert block is not None, "not a block"
            block.validate_json()
            block.to_dict()  # validates nested elements and text objects too
            if raw.get("type") == "image":
                # Slack fetches the picture itself; alt_text is what a screen reader says.
                assert picture_address_ok(raw.get("image_url")), "image_url not https/loopback"
                assert str(raw.get("alt_text") or "").strip(), "image block without alt_text"
            if isinstance(block, SectionBlock) and block.text is not None:
                text = block.text.text if hasattr(block.text, "text") else str(block.text)
                assert len(text) <= SECTION_TEXT, f"section text is {len(text)} characters"
        except Exception as exc:
            problems.append(f"{where}: block {index} ({raw.get('type')!r}): {exc}")
    return problems


def _check_view(view: Any, where: str) -> list[str]:
    if not isinstance(view, dict):
        return [f"{where}: view is {type(view).__name__}, not an object"]
    problems = []
    try:
        built = View(**view)
        built.validate_json()
        built.to_dict()
    except Exception as exc:
        problems.append(f"{where}: {exc}")
    if view.get("type") == "modal":
        title = view.get("title") or {}
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        if not 0 < len(text) <= MODAL_TITLE:
            problems.append(f"{where}: modal title {text!r} is {len(text)} characters")
    problems += _check_blocks(view.get("blocks", []), where, VIEW_BLOCKS)
    return problems


def block_kit_problems(log: BlockKitLog) -> list[str]:
    """Everything wrong with the Block Kit the app sent to Slack during one test."""
    problems: list[str] = []
    for fake in log.fakes:
        for number, call in enumerate(fake.calls):
            where = f"call {number} {call.method}"
            if "view" in call.body:
                problems += _check_view(call.body["view"], where)
            if "blocks" in call.body:
                problems += _check_blocks(call.body["blocks"], where, MESSAGE_BLOCKS)
        for response_id, bodies in fake.responses.items():
            for body in bodies:
                if "blocks" in body:
                    where = f"response_url {response_id}"
                    problems += _check_blocks(body["blocks"], where, MESSAGE_BLOCKS)
    for where, view in log.views:
        problems += _check_view(view, where)
    return problems


@pytest.fixture(autouse=True)
def block_kit_is_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, fail it if anything we sent Slack is not valid Block Kit."""
    log = _log(request)
    yield
    problems = block_kit_problems(log)
    assert not problems, "invalid Block Kit sent to Slack:\n" + "\n".join(problems)


# --- the fake Slack, the app, and a signed poster -------------------------------------------


@pytest.fixture
async def fake_slack(request: pytest.FixtureRequest) -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    _log(request).fakes.append(fake)
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    """Single-workspace Slack against the fake.

    The per-channel send rate is raised so a chat-mode test that sends a reply per answer
    does not spend a second per message waiting on our own limiter (its own tests cover it).
    """
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
    }


class SlackPoster:
    """Posts signed requests to /slack/events like Slack does."""

    def __init__(
        self, base_url: str, secret: str = SIGNING_SECRET, log: BlockKitLog | None = None
    ) -> None:
        self.base_url = base_url
        self.url = f"{base_url}/slack/events"
        self.secret = secret
        self.client = aiohttp.ClientSession()
        self.log = log

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        signed = sign(self.secret, body, timestamp)
        signed["Content-Type"] = content_type
        signed.update(headers or {})
        async with self.client.post(self.url, data=body, headers=signed) as resp:
            return resp.status, await resp.text()

    async def command(
        self,
        text: str,
        *,
        user_id: str = "U0001",
        team_id: str = "T0001",
        trigger_id: str | None = None,
        response_url: str = "https://hooks.slack.com/commands/T0001/1/abc",
    ) -> tuple[int, str]:
        """`/convene <text>`, as Slack posts a slash command."""
        body = slash_command_body(
            text=text,
            user_id=user_id,
            team_id=team_id,
            trigger_id=trigger_id,
            response_url=response_url,
        )
        return await self.post(body, FORM)

    async def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str = "T0001",
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """An Events API callback (retries reuse `event_id` and add retry headers)."""
        body = event_body(event, team_id=team_id, event_id=event_id)
        return await self.post(body, JSON, headers=headers)

    async def interact(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        """An interactivity payload. Returns the status and the JSON body Slack would read
        (a `response_action`), or the text if the body is not JSON."""
        status, text = await self.post(interaction_body(payload), FORM)
        try:
            parsed = json.loads(text) if text else {}
        except json.JSONDecodeError:
            return status, text
        if isinstance(parsed, dict) and isinstance(parsed.get("view"), dict) and self.log:
            where = f"{payload.get('type')} response_action {parsed.get('response_action')}"
            self.log.views.append((where, parsed["view"]))
        return status, parsed

    async def close(self) -> None:
        await self.client.close()


@pytest.fixture
async def slack(
    app_server: RunningApp, request: pytest.FixtureRequest
) -> AsyncIterator[SlackPoster]:
    poster = SlackPoster(app_server.url, log=_log(request))
    yield poster
    await poster.close()
    # A DM reply starts a send pass in the background; let it finish before the
    # database is closed under it.
    await app_server.runner.app[SENDER].idle()


@pytest.fixture
def sender(app_server: RunningApp) -> OutboxSender:
    """The app's own outbox sender (the scheduler is off in tests: drain it by hand)."""
    return app_server.runner.app[SENDER]


@pytest.fixture
def door(app_server: RunningApp) -> SlackDoor:
    """The app's Slack door (for its SlackSender)."""
    found = app_server.runner.app[SLACK]
    assert isinstance(found, SlackDoor)
    return found


@pytest.fixture
def tom(fake_slack: FakeSlack) -> str:
    """Tom Okafor, admin of Riverside Youth Trust; his email links him to the demo person."""
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    return "U0001"


@pytest.fixture
def priya(fake_slack: FakeSlack) -> str:
    """Priya Shah, a Riverside Borough Council commissioner."""
    fake_slack.add_user("T0001", "U0002", "Priya Shah", email="priya.shah@riverside.example")
    return "U0002"
