"""Teams conversation references: where to send a proactive message, kept in the database.

The Teams door stores a reference for every conversation it hears from, so a reminder
or an invitation can reach that conversation after a restart and from any replica.
The door only says what it saw; the query lives here, because doors never run SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import ChatIdentity, Door, TeamsConversation


@dataclass(frozen=True)
class SeenConversation:
    """What one Teams activity tells us about its conversation."""

    conversation_id: str
    kind: str  # personal, groupChat or channel
    service_url: str
    tenant_id: str
    reference: dict[str, Any]
    #: Who sent it (their Entra object id, else their Teams id), if anyone.
    user_id: str | None = None


async def remember_conversation(db: Database, seen: SeenConversation) -> None:
    """Store or refresh the reference. In a personal chat, also note the chat on the sender's
    identity, so a message for them can find it later.

    Raises the database's own errors: a door that can't store the reference can't answer
    later either, so it should say so (Teams then tries again).
    """
    try:
        async with db.session() as session:
            row = await session.scalar(
                select(TeamsConversation)
                .where(TeamsConversation.conversation_id == seen.conversation_id)
                .with_for_update()
            )
            if row is None:
                row = TeamsConversation(
                    conversation_id=seen.conversation_id,
                    kind=seen.kind,
                    service_url=seen.service_url,
                    reference=seen.reference,
                    tenant_id=seen.tenant_id,
                )
                session.add(row)
            else:
                row.service_url = seen.service_url
                row.reference = seen.reference
                row.tenant_id = seen.tenant_id
            if seen.kind == "personal" and seen.user_id is not None:
                identity = await session.scalar(
                    select(ChatIdentity).where(
                        ChatIdentity.platform == Door.TEAMS,
                        ChatIdentity.workspace_id == seen.tenant_id,
                        ChatIdentity.user_id == seen.user_id,
                    )
                )
                if (
                    identity is not None
                    and identity.data.get("chat_address") != seen.conversation_id
                ):
                    identity.data = {**identity.data, "chat_address": seen.conversation_id}
                    row.person_id = identity.person_id
    except IntegrityError:
        pass  # another replica stored it at the same moment


async def service_url_for(db: Database, conversation_id: str) -> str | None:
    """Where the Bot Connector for a stored conversation is, or None if we never heard from it."""
    async with db.session() as session:
        url = await session.scalar(
            select(TeamsConversation.service_url).where(
                TeamsConversation.conversation_id == conversation_id
            )
        )
    return None if url is None else str(url)
