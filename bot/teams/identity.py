"""Who sent a Teams activity, and where to write back to them later.

A Teams user is known by their Entra object id (or, without one, their Teams id) within
their tenant; the shared chat identity rules (`bot.chat_identity`) make them a person on
first contact. Every conversation an activity comes from is kept as a conversation
reference in the database, so proactive messages survive a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy.exc import SQLAlchemyError

from bot.chat_identity import ChatProfile, first_contact, known_actor
from bot.core.turn import Actor, Door
from bot.turns import DatabaseDown, DoorPipeline
from storage.teams import SeenConversation, remember_conversation

log = logging.getLogger(__name__)


def tenant_of(activity: Activity) -> str:
    """The tenant an activity came from ("-" when Teams did not say)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    raw_tenant = data.get("tenant")
    tenant: dict[str, Any] = raw_tenant if isinstance(raw_tenant, dict) else {}
    found = tenant.get("id") or getattr(activity.conversation, "tenant_id", None) or "-"
    return str(found)[:100]


class TeamsPeople:
    """Finds who sent an activity, and keeps the conversation references.

    `changed` is told a conversation whose service URL was stored anew, so the sender
    stops using what it remembered of it.
    """

    def __init__(self, pipeline: DoorPipeline, changed: Callable[[str], None]) -> None:
        self.pipeline = pipeline
        self.changed = changed
        self._references: dict[str, str] = {}  # conversation id -> service URL stored

    async def sender_of(self, activity: Activity) -> Actor | None:
        """Who sent it, made a person on first contact: the door's `Identify`, which the
        pipeline calls (and which may raise the database's errors)."""
        services = self.pipeline.services
        sender = activity.from_property
        if sender is None:
            return None
        user = sender.aad_object_id or sender.id
        tenant = tenant_of(activity)
        actor = await known_actor(services, Door.TEAMS, tenant, user)
        if actor is not None:
            return actor
        personal = activity.conversation.conversation_type in (None, "personal")
        data = {"teams_user": sender.id}
        if personal:
            data["chat_address"] = activity.conversation.id
        return await first_contact(
            services, Door.TEAMS, tenant, user, ChatProfile(name=sender.name, data=data)
        )

    async def remember(self, activity: Activity) -> None:
        """Keep the conversation reference, when this process has not stored it as it is now.
        Raises `DatabaseDown` when the database fails."""
        conversation = activity.conversation
        if conversation is None or not activity.service_url:
            return
        if self._references.get(conversation.id) == activity.service_url:
            return
        sender = activity.from_property
        seen = SeenConversation(
            conversation_id=conversation.id,
            kind=conversation.conversation_type or "personal",
            service_url=activity.service_url,
            tenant_id=tenant_of(activity),
            reference=TurnContext.get_conversation_reference(activity).serialize(),
            user_id=(sender.aad_object_id or sender.id) if sender is not None else None,
        )
        try:
            await remember_conversation(self.pipeline.services.db, seen)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("could not store a Teams conversation: %s", type(exc).__name__)
            raise DatabaseDown from exc
        self._references[conversation.id] = activity.service_url
        self.changed(conversation.id)
