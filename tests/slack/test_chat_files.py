"""Files sent to Convene in a Slack DM reach the feature as `Turn.attachments`.

Over real HTTP: Slack's signed `message` event (subtype `file_share`) goes to the app,
which answers Slack at once and then fetches each file from the fake Slack's file host
with the workspace's bot token. A test-only command (`echofiles`) answers with what it
got, so the DM the fake Slack receives shows the bytes, or the problem, of each file.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import pytest

from bot.app import SLACK
from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack.door import SlackDoor
from bot.turns import DATABASE_DOWN
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackPoster
from tests.slack.helpers import eventually, settle, text_of_blocks
from tests.slack.test_slack_hardening_database_down import locked
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp

LIMIT = 4096
_ids = itertools.count(1)


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack) -> dict[str, object]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
        "slack_files_hosts": "127.0.0.1",
        "upload_max_bytes": LIMIT,
        "chat_file_timeout_seconds": 1.0,
        "database_timeout_seconds": 1.0,
    }


async def echo_files(turn: Turn, services: Any) -> Sequence[Reply]:
    """The test feature: says what files the turn carried."""
    said = [
        f"{a.filename} {a.content_type} {len(a.data)} {a.problem or 'ok'} {a.data[:20]!r}"
        for a in turn.attachments
    ]
    return [Notice(text="Files: " + (" | ".join(said) or "none"))]


@pytest.fixture(autouse=True)
def echo_command(services: Services) -> None:
    services.router.command("echofiles", "Say which files came (test only)")(echo_files)


async def send_files(
    slack: SlackPoster,
    fake: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    files: list[dict[str, Any]],
    text: str = "echofiles",
) -> str:
    """Tom sends a DM with files; returns the text of Convene's one reply."""
    event_id = f"EvFile{next(_ids):04d}"
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "DU0001",
        "channel_type": "im",
        "user": "U0001",
        "text": text,
        "files": files,
        "ts": f"{time.time():.6f}",
    }
    started = time.monotonic()
    status, _ = await slack.event(event, event_id=event_id)
    assert status == 200
    assert time.monotonic() - started < 3  # Slack is answered before any file is fetched
    key = f"slack:event:{event_id}"

    def reply() -> list[dict[str, Any]]:
        return [
            m
            for m in fake.delivered("U0001")
            if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key
        ]

    async def delivered() -> list[dict[str, Any]]:
        await settle(sender)
        return reply()

    found = await eventually(delivered, timeout=10)
    door = app_server.runner.app[SLACK]
    assert isinstance(door, SlackDoor)
    await door.files_done()
    assert len(found) == 1
    return f"{found[0]['text']}\n{text_of_blocks(found[0]['blocks'])}"


async def test_a_file_in_a_dm_reaches_the_feature_with_its_bytes(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    voice = fake_slack.share_file("voice.m4a", b"RIFF-voice-note", mimetype="audio/mp4")
    photo = fake_slack.share_file("photo.png", b"\x89PNG-photo", mimetype="image/png")
    said = await send_files(slack, fake_slack, sender, app_server, [voice, photo])
    assert "voice.m4a audio/mp4 15 ok b'RIFF-voice-note'" in said
    assert "photo.png image/png 10 ok" in said
    (download,) = fake_slack.downloads_of(voice["id"])
    assert download.token == BOT_TOKEN and download.status == 200


async def test_a_file_too_big_is_not_fetched(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    big = fake_slack.share_file("film.mp4", b"x" * (LIMIT + 1), mimetype="video/mp4")
    said = await send_files(slack, fake_slack, sender, app_server, [big])
    assert "film.mp4 video/mp4 0 too_big" in said
    assert fake_slack.downloads_of(big["id"]) == []


async def test_a_file_bigger_than_slack_said_is_cut_off(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    """Slack said the files were small; the bodies are bigger. Over the limit is too big;
    under it but longer than Slack said is not the file Slack described: unreadable."""
    huge = fake_slack.share_file("notes.txt", b"y" * (LIMIT * 2), size=100)
    longer = fake_slack.share_file("more.txt", b"z" * 1000, size=100)
    said = await send_files(slack, fake_slack, sender, app_server, [huge, longer])
    assert "notes.txt text/plain 0 too_big" in said
    assert "more.txt text/plain 0 unreadable" in said
    assert len(fake_slack.downloads_of(huge["id"])) == 1


@pytest.mark.parametrize("answer", ["rate_limited", "server_error", "login_page", "slow"])
async def test_a_file_slack_would_not_give_is_unreadable(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
    answer: str,
) -> None:
    bad = fake_slack.share_file("report.pdf", b"%PDF-1.7", answer=answer)
    good = fake_slack.share_file("ok.txt", b"fine")
    said = await send_files(slack, fake_slack, sender, app_server, [bad, good])
    assert "report.pdf application/pdf 0 unreadable" in said
    if answer != "slow":  # the time limit is for every file of the message together
        assert "ok.txt text/plain 4 ok b'fine'" in said


async def test_without_files_read_slack_gives_a_sign_in_page(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    """An install made before Convene asked for `files:read`: the person is told the file
    could not be read (and the fake proves the token was sent)."""
    fake_slack.remove_scope("files:read")
    shared = fake_slack.share_file("report.pdf", b"%PDF-1.7")
    said = await send_files(slack, fake_slack, sender, app_server, [shared])
    assert "report.pdf application/pdf 0 unreadable" in said
    (download,) = fake_slack.downloads_of(shared["id"])
    assert download.token == BOT_TOKEN


async def test_a_file_on_another_host_is_never_fetched(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    forged = fake_slack.share_file("report.pdf", b"%PDF-1.7", host="localhost")
    said = await send_files(slack, fake_slack, sender, app_server, [forged])
    assert "report.pdf application/pdf 0 unreadable" in said
    assert fake_slack.downloads_of(forged["id"]) == []


async def test_a_file_with_no_words_still_gets_an_answer(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    app_server: RunningApp,
    tom: str,
) -> None:
    """A file sent with no text is a turn with no command: Convene answers (with help)
    rather than dropping the message."""
    shared = fake_slack.share_file("photo.png", b"\x89PNG", mimetype="image/png")
    said = await send_files(slack, fake_slack, sender, app_server, [shared], text="")
    assert said.strip()


async def test_when_the_database_is_down_the_person_is_told_in_the_dm(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    app_server: RunningApp,
    database_url: str,
    tom: str,
) -> None:
    """Slack was answered before the turn ran, so it will not send the message again:
    nothing is saved, and the person hears so straight away rather than never."""
    shared = fake_slack.share_file("photo.png", b"\x89PNG", mimetype="image/png")
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "DU0001",
        "channel_type": "im",
        "user": "U0001",
        "text": "echofiles",
        "files": [shared],
        "ts": f"{time.time():.6f}",
    }
    door = app_server.runner.app[SLACK]
    assert isinstance(door, SlackDoor)
    async with locked(database_url):
        status, _ = await slack.event(event, event_id="EvFileDown")
        assert status == 200
        await door.files_done()
    said = [m.get("text") for m in fake_slack.delivered("U0001")]
    assert said == [DATABASE_DOWN]
