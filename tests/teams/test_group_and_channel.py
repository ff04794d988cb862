"""Convene in group chats and team channels, where Teams only sends messages that @mention it.

The mention (`<at>Convene</at>`) is stripped before the text is read as a command,
and the answer goes to the same conversation: a channel thread's id carries
`;messageid=`, which must survive the trip to the connector. Installing the app
(a `conversationUpdate` with the bot among `membersAdded`) stores the conversation
reference and posts a welcome.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.teams.door import WELCOME
from storage.models import TeamsConversation
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import posted, settle, stored_counts, text_of


async def reference(services: Services, conversation_id: str) -> TeamsConversation | None:
    async with services.db.session() as session:
        return await session.scalar(
            select(TeamsConversation).where(TeamsConversation.conversation_id == conversation_id)
        )


async def test_a_channel_message_that_mentions_the_bot_is_answered_in_its_thread(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    message = teams.build.channel_message("help")
    assert message["text"] == "<at>Convene</at> help"
    response = await teams.send(message)
    assert response.status == 200
    await settle(sender)

    thread = message["conversation"]["id"]
    assert ";messageid=" in thread
    shown = posted(fake_teams, thread)
    assert len(shown) == 1, fake_teams.calls
    assert "What I can help with" in text_of(shown[0]), "the mention was stripped"
    assert [c.conversation_id for c in fake_teams.calls_of("send")] == [thread]
    stored = await reference(services, thread)
    assert stored is not None and stored.kind == "channel"
    assert stored.person_id is None, "a channel is nobody's personal chat"


async def test_a_reply_in_an_existing_channel_thread_stays_in_that_thread(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender
) -> None:
    root = "1700000000001"
    message = teams.build.channel_message("help", thread_root_id=root)
    assert (await teams.send(message)).status == 200
    await settle(sender)
    thread = teams.build.channel_thread_id(root)
    assert len(posted(fake_teams, thread)) == 1
    assert [c.conversation_id for c in fake_teams.calls_of("send", ok=True)] == [thread]


async def test_a_group_chat_mention_is_answered_in_the_group(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    message = teams.build.group_chat_message("help")
    assert (await teams.send(message)).status == 200
    await settle(sender)
    group = message["conversation"]["id"]
    shown = posted(fake_teams, group)
    assert len(shown) == 1
    assert "What I can help with" in text_of(shown[0])
    assert posted(fake_teams, teams.build.personal_conversation_id()) == [], "not in a DM"
    stored = await reference(services, group)
    assert stored is not None and stored.kind == "groupChat"


async def test_an_unknown_command_after_a_mention_is_named_without_the_mention(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender
) -> None:
    message = teams.build.channel_message("frobnicate")
    assert (await teams.send(message)).status == 200
    await settle(sender)
    reply = text_of(posted(fake_teams, message["conversation"]["id"])[0])
    assert 'Sorry, I don\'t know "frobnicate"' in reply
    assert "<at>" not in reply


async def test_installing_in_a_team_stores_the_reference_and_welcomes(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    before = await stored_counts(services)
    install = teams.build.install(scope="team")
    response = await teams.send(install)
    assert response.status == 200
    await settle(sender)

    general = install["conversation"]["id"]
    assert general == teams.build.team_id
    stored = await reference(services, general)
    assert stored is not None
    assert (stored.kind, stored.service_url, stored.tenant_id) == (
        "channel",
        fake_teams.service_url,
        fake_teams.tenant_id,
    )
    assert stored.reference["conversation"]["id"] == general
    shown = posted(fake_teams, general)
    assert len(shown) == 1
    assert WELCOME in text_of(shown[0])
    after = await stored_counts(services)
    assert after["people"] == before["people"], "an install is not a person"


async def test_installing_for_a_person_welcomes_them_once(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    """Teams sends a conversationUpdate *and* an installationUpdate for one install."""
    for activity in (
        teams.build.install(scope="personal"),
        teams.build.installation_update("add", scope="personal"),
    ):
        assert (await teams.send(activity)).status == 200
    await settle(sender)
    chat = teams.build.personal_conversation_id()
    shown = posted(fake_teams, chat)
    assert len(shown) == 1, [text_of(a) for a in shown]
    assert WELCOME in text_of(shown[0])
    stored = await reference(services, chat)
    assert stored is not None and stored.kind == "personal"


async def test_an_app_upgrade_is_not_a_welcome(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    """`add-upgrade` arrives in every conversation the app is in when a new version ships."""
    for scope in ("personal", "team"):
        upgrade = teams.build.installation_update("add-upgrade", scope=scope)  # type: ignore[arg-type]
        assert (await teams.send(upgrade)).status == 200
        await settle(sender)
        assert posted(fake_teams, upgrade["conversation"]["id"]) == []
        assert await reference(services, upgrade["conversation"]["id"]) is not None


async def test_someone_else_joining_a_group_is_not_a_welcome(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    """`membersAdded` without the bot: a person joined an existing chat. Nothing to say."""
    update = teams.build.install(scope="groupChat")
    update["membersAdded"] = [{"id": "29:someone-new", "aadObjectId": "c0ffee00-0000-4000-8000-3"}]
    assert (await teams.send(update)).status == 200
    await settle(sender)
    assert posted(fake_teams, update["conversation"]["id"]) == []
    assert await reference(services, update["conversation"]["id"]) is not None
