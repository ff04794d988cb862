"""Who a Slack user is: the shared chat identity rules, with the profile from `users.info`."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat_identity import ChatProfile, first_contact, known_actor
from bot.core.turn import Actor
from bot.services import Services
from bot.slack.errors import FAILED_CALL, error_code
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
