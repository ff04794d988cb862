"""Proactive messages: Convene speaks first, even after a restart, from any replica.

The conversation reference is stored in the database on the person's first message,
so a message queued by a *new* app (nothing in memory from the first one) still
reaches their personal chat, with a bearer token the new process fetched from the
token endpoint. Within one process, credentials and connector clients are reused:
turns after the first cost no token requests.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import SENDER, build_app, build_services
from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.teams.door import TeamsDoor
from storage.models import ChatIdentity, Door, OutboxMessage, Person, TeamsConversation, WorkState
from storage.outbox import enqueue_for_person
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import start_app
from tests.support.teams_activities import ALICE, TeamsActivities
from tests.teams.conftest import TeamsClient, card_log
from tests.teams.helpers import only_card, page_title, posted, press, settle, text_of


async def test_a_proactive_message_reaches_the_person_after_a_restart(
    services: Services,
    fake_teams: FakeBotFramework,
    activities: TeamsActivities,
    request: pytest.FixtureRequest,
) -> None:
    conversation = activities.personal_conversation_id(ALICE)

    # Before the restart: Alice says hello, so her conversation reference is stored.
    first = await start_app(build_app(services))
    try:
        teams = TeamsClient(first.url, fake_teams, activities, card_log(request))
        await teams.say("help")
        await settle(first.runner.app[SENDER])
        assert len(posted(fake_teams, conversation)) == 1
    finally:
        await first.stop()
    tokens_before = fake_teams.tokens_granted()
    assert tokens_before == 1

    # A new app on the same database: nothing carried over in memory.
    fresh = build_services(services.settings)
    second = await start_app(build_app(fresh))
    try:
        async with fresh.db.session() as session:
            stored = await session.scalar(
                select(TeamsConversation).where(TeamsConversation.conversation_id == conversation)
            )
            assert stored is not None and stored.kind == "personal"
            assert stored.service_url == fake_teams.service_url
            identity = await session.scalar(
                select(ChatIdentity).where(
                    ChatIdentity.platform == Door.TEAMS,
                    ChatIdentity.user_id == ALICE.aad_object_id,
                )
            )
            assert identity is not None
            person = await session.get(Person, identity.person_id)
            assert person is not None
            queued = await enqueue_for_person(
                session,
                person,
                ReplyList(
                    replies=[Notice(text="Riverside Borough Council has a new question for you.")]
                ).model_dump(mode="json"),
                "test:proactive-after-restart",
            )
            row_id = queued.id
            assert (queued.door, queued.address) == (Door.TEAMS, conversation)

        assert await second.runner.app[SENDER].drain() == 1
    finally:
        await second.stop()

    shown = posted(fake_teams, conversation)
    assert len(shown) == 2
    assert "Riverside Borough Council has a new question for you." in text_of(shown[-1])
    call = fake_teams.calls_of("send", ok=True)[-1]
    assert call.conversation_id == conversation
    issued = {t.access_token for t in fake_teams.token_requests if t.granted}
    assert call.authorization is not None and call.token_app_id == fake_teams.app_id
    assert call.authorization.removeprefix("Bearer ") in issued
    assert fake_teams.tokens_granted() == tokens_before + 1, "the new process got its own token"

    async with fresh.db.session() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        assert row.state == WorkState.DONE
        assert row.external_id == shown[-1]["id"]
    await fresh.db.dispose()


async def test_turns_reuse_the_token_and_the_connector_client(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    door: TeamsDoor,
    linked: int,
) -> None:
    await teams.say("help")
    await settle(sender)
    assert fake_teams.tokens_granted() == 1
    clients = dict(door.auth._connectors)
    assert len(clients) == 1, "one connector client for the one service URL"

    conversation = teams.build.personal_conversation_id()
    for text in ("help", "home", "profile", "help"):
        await teams.say(text)
        await settle(sender)
    card = only_card(posted(fake_teams, conversation)[-2])
    assert page_title(card) == "About your organisation"
    answer = await teams.execute(
        "form.next",
        press(card, "form.next"),
        reply_to_id=posted(fake_teams, conversation)[-2]["id"],
    )
    assert answer.status == 200
    await settle(sender)

    assert len(posted(fake_teams, conversation)) == 5
    assert len(fake_teams.token_requests) <= 2, "at most one token request after the first"
    assert fake_teams.tokens_granted() == 1
    assert len(fake_teams.bearer_tokens_used()) == 1
    assert door.auth._connectors == clients, "the same connector client, reused"


async def test_a_revoked_token_is_replaced_once(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender
) -> None:
    await teams.say("help")
    await settle(sender)
    fake_teams.revoke_access_tokens()

    await teams.say("help")
    await settle(sender)
    conversation = teams.build.personal_conversation_id()
    assert len(posted(fake_teams, conversation)) == 2
    refused = [c for c in fake_teams.calls_of("send") if c.status == 401]
    assert len(refused) == 1
    assert fake_teams.tokens_granted() == 2
    assert fake_teams.duplicates() == []
