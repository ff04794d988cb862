"""The shortest honest trip through the Teams door, end to end over real HTTP.

A signed activity in, a JWT check, a person created, a reply queued, and the reply
delivered to the fake Bot Connector with a bearer token the fake's token endpoint
issued. If this fails, start here; the other files pin down each part.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import ChatIdentity, Door, OutboxMessage, WorkState
from tests.support.fake_botframework import FakeBotFramework
from tests.support.teams_activities import ALICE
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import only_card, posted, settle, text_of


async def test_help_in_personal_chat_reaches_the_connector(
    teams: TeamsClient, fake_teams: FakeBotFramework, services: Services, sender: OutboxSender
) -> None:
    activity = await teams.say("help")
    await settle(sender)

    conversation = activity["conversation"]["id"]
    shown = posted(fake_teams, conversation)
    assert len(shown) == 1, fake_teams.calls
    assert "What I can help with" in text_of(only_card(shown[0]))

    (call,) = fake_teams.calls_of("send")
    assert call.ok and call.token_app_id == fake_teams.app_id
    granted = [t for t in fake_teams.token_requests if t.granted]
    assert len(granted) == 1 and granted[0].client_id == fake_teams.app_id
    assert call.authorization == f"Bearer {granted[0].access_token}"

    async with services.db.session() as session:
        identity = await session.scalar(
            select(ChatIdentity).where(ChatIdentity.platform == Door.TEAMS)
        )
        assert identity is not None
        assert (identity.workspace_id, identity.user_id) == (
            fake_teams.tenant_id,
            ALICE.aad_object_id,
        )
        (row,) = (await session.scalars(select(OutboxMessage))).all()
        assert (row.state, row.address, row.external_id) == (
            WorkState.DONE,
            conversation,
            shown[0]["id"],
        )
