"""The Slack manifest asks for exactly what the code uses, and the app handles all it subscribes to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bot.slack.door import BOT_EVENTS, BOT_SCOPES, COMMAND
from tests.slack.conftest import SlackPoster
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import event_body, slash_command_body

MANIFEST = Path(__file__).resolve().parents[2] / "manifest" / "slack" / "manifest.yaml"


def load() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_scopes_events_and_command_match_the_code_both_ways() -> None:
    manifest = load()
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    urls = {
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    }
    assert urls == {"https://convene.example.org/slack/events"}
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://convene.example.org/slack/oauth_redirect"
    ]


async def test_every_subscribed_event_and_the_command_has_a_listener(
    slack: SlackPoster, fake_slack: FakeSlack
) -> None:
    """Bolt answers 404 to a request no listener handles; every subscription must get 200."""
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    samples = {
        "app_home_opened": {"type": "app_home_opened", "user": "U0001", "tab": "home"},
        "message.im": {
            "type": "message",
            "channel_type": "im",
            "channel": "DU0001",
            "user": "U0001",
            "text": "help",
            "ts": "1.0",
        },
        "app_uninstalled": {"type": "app_uninstalled"},
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
    }
    assert set(samples) == set(BOT_EVENTS)
    for n, name in enumerate(BOT_EVENTS):
        status, _ = await slack.post(
            event_body(samples[name], event_id=f"Ev{n}"), "application/json"
        )
        assert status == 200, name
    status, _ = await slack.post(
        slash_command_body(text="help", response_url=fake_slack.response_url("m")),
        "application/x-www-form-urlencoded",
    )
    assert status == 200


def test_cli_prints_the_manifest_with_the_public_url() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "slack-manifest",
            "--public-url",
            "https://c.example.gov.uk/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    printed = yaml.safe_load(out)
    assert printed["settings"]["event_subscriptions"]["request_url"] == (
        "https://c.example.gov.uk/slack/events"
    )
    assert "convene.example.org" not in json.dumps(printed)
