"""Who a Slack user is: the shared chat identity rules, with the profile from `users.info`."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat_identity import ChatProfile, first_contact, known_actor
from bot.core.turn import Actor
from bot.services import Services
from bot.slack.errors import FAILED_CALL, error_code
from bot.turns import DoorPipeline
from storage.models import Door

log = logging.getLogger(__name__)


async def slack_actor(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str
) -> Actor | None:
    """The actor for this Slack user, creating the person on first contact."""
    actor = await known_actor(services, Door.SLACK, team_id, user_id)
    if actor is not None:
        return actor
    return await first_contact(
        services, Door.SLACK, team_id, user_id, await _profile(client, user_id)
    )


async def _profile(client: AsyncWebClient, user_id: str) -> ChatProfile:
    """Their name, email and time zone from Slack. If Slack can't be asked (an error, an
    answer that is not JSON, no network), they are met without them: a name can be
    added later, and a person must never be turned away because Slack had a bad moment."""
    try:
        response = await client.users_info(user=user_id)
    except FAILED_CALL as exc:
        log.warning("users.info failed for a Slack user: %s", error_code(exc))
        return ChatProfile()
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    return ChatProfile(
        name=profile.get("real_name") or user.get("real_name") or user.get("name"),
        email=(profile.get("email") or "").strip().lower() or None,
        timezone=user.get("tz"),
    )


async def acting(pipeline: DoorPipeline, context: dict[str, Any]) -> Actor | None:
    """Who is acting on this Slack request, or None for somebody Convene does not know and
    can't place. Looked up once a request (Bolt's `context` keeps it), after the ack: first
    contact may ask Slack for a profile.

    Raises `DatabaseDown` when the database fails (see `DoorPipeline.actor`)."""
    if "actor" in context:
        known: Actor | None = context["actor"]
        return known
    user_id, team_id = context.get("user_id"), context.get("team_id")
    actor = None
    if user_id and team_id:
        client: AsyncWebClient = context["client"]
        actor = await pipeline.actor(
            Door.SLACK, lambda: slack_actor(pipeline.services, client, team_id, user_id)
        )
    context["actor"] = actor
    return actor
