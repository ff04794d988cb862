"""Files sent to Convene in Teams reach the feature as `Turn.attachments`.

Over real HTTP: a signed message activity with attachments goes to `/api/messages`; the
door fetches a personal-chat file from its pre-authenticated download link (no token)
and a pasted image from the fake Bot Connector with the bot's own token, before Teams
is answered. A test-only command (`echofiles`) answers with what it got.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient, teams_settings
from tests.teams.helpers import posted, settle, text_of

LIMIT = 4096


@pytest.fixture
def settings_overrides(fake_teams: FakeBotFramework) -> dict[str, object]:
    return {
        **teams_settings(fake_teams),
        "teams_files_hosts": "127.0.0.1",
        "upload_max_bytes": LIMIT,
        "chat_file_timeout_seconds": 2.0,
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
    teams: TeamsClient, sender: OutboxSender, attachments: list[dict[str, Any]]
) -> str:
    """Alice sends `echofiles` with attachments in her personal chat; returns the reply."""
    conversation = teams.build.personal_conversation_id()
    before = len(posted(teams.fake, conversation))
    await teams.say("echofiles", attachments=attachments)
    await settle(sender)
    new = posted(teams.fake, conversation)[before:]
    assert len(new) == 1, new
    return text_of(new[0])


async def test_a_file_and_an_image_reach_the_feature(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, linked: int
) -> None:
    shared = fake_teams.shared_file("testimony.docx", b"PK-testimony", size=12)
    image = fake_teams.inline_image(b"\x89PNG-pasted")
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"body": []}}
    said = await send_files(teams, sender, [image, shared, card])
    assert said.index("image.png") < said.index("testimony.docx")  # in the order sent
    assert (
        "testimony.docx application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        " 12 ok b'PK-testimony'" in said
    )
    assert "image.png image/png 11 ok b'\\x89PNG-pasted'" in said
    assert said.count(" ok ") == 2  # the card is not a file
    (download,) = fake_teams.downloads_of(shared)
    assert download.authorization is None  # the link needs no token: none is sent
    (fetched,) = fake_teams.downloads_of(image)
    assert fetched.status == 200 and (fetched.authorization or "").startswith("Bearer ")


async def test_an_image_the_connector_refuses_is_unreadable(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, linked: int
) -> None:
    """The bot's token no longer works (revoked): the connector answers 401, and the
    person is told the image could not be read."""
    image = fake_teams.inline_image(b"\x89PNG")
    await send_files(teams, sender, [])  # the bot has a token now
    fake_teams.revoke_access_tokens()
    said = await send_files(teams, sender, [image])
    assert "image.png image/png 0 unreadable" in said
    (refused,) = fake_teams.downloads_of(image)
    assert refused.status == 401 and refused.authorization is not None


async def test_a_file_too_big_is_not_fetched(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, linked: int
) -> None:
    big = fake_teams.shared_file("film.mp4", b"x" * (LIMIT + 1), size=LIMIT + 1)
    said = await send_files(teams, sender, [big])
    assert "film.mp4 video/mp4 0 too_big" in said
    assert fake_teams.downloads_of(big) == []


@pytest.mark.parametrize("answer", ["rate_limited", "server_error", "login_page"])
async def test_a_download_that_fails_is_unreadable(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    linked: int,
    answer: str,
) -> None:
    bad = fake_teams.shared_file("report.pdf", b"%PDF", answer=answer)
    said = await send_files(teams, sender, [bad])
    assert "report.pdf application/pdf 0 unreadable" in said
    assert len(fake_teams.downloads_of(bad)) == 1


async def test_a_download_on_another_host_is_never_fetched(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, linked: int
) -> None:
    forged = fake_teams.shared_file("report.pdf", b"%PDF", host="localhost")
    said = await send_files(teams, sender, [forged])
    assert "report.pdf application/pdf 0 unreadable" in said
    assert fake_teams.downloads_of(forged) == []
