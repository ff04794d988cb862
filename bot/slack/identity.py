"""Who a Slack user is in Convene.

On first contact a Slack user becomes a person (name and email from `users.info`),
linked by email to anyone already invited on the web. If their workspace is linked
to an authority they are recognised as one of its commissioners; if it is linked
to a provider organisation, as one of its members. Everyone else is guided to join.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.turn import Actor
from bot.services import Services
from storage import audit
from storage.models import ChatIdentity, Door, Person, Role, WorkspaceLink
from storage.people import actor_for, grant

log = logging.getLogger(__name__)


async def slack_actor(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str
) -> Actor | None:
    """The actor for this Slack user, creating the person on first contact."""
    cache = services.actors
    person_id = cache.person_for(Door.SLACK, team_id, user_id)
    if person_id is not None:
        cached = cache.actor(person_id)
        if cached is not None:
            return cached
        async with services.db.session() as session:
            person = await session.get(Person, person_id)
            if person is not None:
                return cache.remember(actor_for(person, services.tz))
    async with services.db.session() as session:
        identity = await session.scalar(
            select(ChatIdentity).where(
                ChatIdentity.platform == Door.SLACK,
                ChatIdentity.workspace_id == team_id,
                ChatIdentity.user_id == user_id,
            )
        )
        if identity is not None:
            person = await session.get(Person, identity.person_id)
            if person is not None:
                cache.remember_identity(Door.SLACK, team_id, user_id, person.id)
                return cache.remember(actor_for(person, services.tz))
    profile = await _profile(client, user_id)
    try:
        return await _first_contact(services, team_id, user_id, profile)
    except IntegrityError:  # two first requests at once: the other one created them
        async with services.db.session() as session:
            identity = await session.scalar(
                select(ChatIdentity).where(
                    ChatIdentity.platform == Door.SLACK,
                    ChatIdentity.workspace_id == team_id,
                    ChatIdentity.user_id == user_id,
                )
            )
            person = None if identity is None else await session.get(Person, identity.person_id)
            return None if person is None else actor_for(person, services.tz)


async def _profile(client: AsyncWebClient, user_id: str) -> dict[str, Any]:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info failed for a Slack user: %s", exc.response.get("error"))
        return {}
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    return {
        "name": profile.get("real_name") or user.get("real_name") or user.get("name"),
        "email": (profile.get("email") or "").strip().lower() or None,
        "tz": user.get("tz"),
    }


async def _first_contact(
    services: Services, team_id: str, user_id: str, profile: dict[str, Any]
) -> Actor:
    now = services.clock.now()
    async with services.db.session() as session:
        person = None
        if profile.get("email"):
            person = await session.scalar(select(Person).where(Person.email == profile["email"]))
        if person is None:
            person = Person(
                name=profile.get("name") or "Slack user",
                email=profile.get("email"),
                timezone=profile.get("tz"),
                preferred_door=Door.SLACK,
                created_at=now,
            )
            session.add(person)
            await session.flush()
        session.add(
            ChatIdentity(
                person_id=person.id,
                platform=Door.SLACK,
                workspace_id=team_id,
                user_id=user_id,
                data={"tz": profile.get("tz")},
                created_at=now,
                updated_at=now,
            )
        )
        link = await session.scalar(
            select(WorkspaceLink).where(
                WorkspaceLink.platform == Door.SLACK, WorkspaceLink.workspace_id == team_id
            )
        )
        if link is not None and link.authority_id is not None:
            await grant(session, person, Role.COMMISSIONER, authority_id=link.authority_id)
        elif link is not None and link.organisation_id is not None:
            await grant(session, person, Role.PROVIDER_MEMBER, organisation_id=link.organisation_id)
        await audit.record(
            session,
            "person.first_contact",
            actor_id=person.id,
            door=Door.SLACK,
            object_type="person",
            object_id=person.id,
            workspace=team_id,
            at=now,
        )
        await session.flush()
        await session.refresh(person, ["memberships"])
        return actor_for(person, services.tz)
