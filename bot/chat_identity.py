"""Who a chat user (Slack or Teams) is in Convene.

On first contact a chat user becomes a person, linked by email to anyone already
invited on the web. If their workspace (Slack) or tenant (Teams) is linked to an
authority they are recognised as one of its commissioners; if it is linked to a
provider organisation, as one of its members. Everyone else is guided to join.
Lookups go through the actor cache, because every chat interaction needs one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.turn import Actor
from bot.services import Services
from storage import audit
from storage.models import ChatIdentity, Door, Person, Role, WorkspaceLink
from storage.people import actor_for, grant


@dataclass(frozen=True)
class ChatProfile:
    """What the platform tells us about somebody the first time we meet them."""

    name: str | None = None
    email: str | None = None
    timezone: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def known_actor(
    services: Services, platform: Door, workspace: str, user: str
) -> Actor | None:
    """The actor for a chat user we have met before, or None."""
    cache = services.actors
    person_id = cache.person_for(platform, workspace, user)
    if person_id is not None:
        cached = cache.actor(person_id)
        if cached is not None:
            return cached
    async with services.db.session() as session:
        if person_id is None:
            identity = await session.scalar(
                select(ChatIdentity).where(
                    ChatIdentity.platform == platform,
                    ChatIdentity.workspace_id == workspace,
                    ChatIdentity.user_id == user,
                )
            )
            if identity is None:
                return None
            person_id = identity.person_id
        person = await session.get(Person, person_id)
        if person is None:
            return None
        cache.remember_identity(platform, workspace, user, person.id)
        return cache.remember(actor_for(person, services.tz))


async def first_contact(
    services: Services, platform: Door, workspace: str, user: str, profile: ChatProfile
) -> Actor | None:
    """Create (or link) the person for a chat user met for the first time."""
    try:
        return await _create(services, platform, workspace, user, profile)
    except IntegrityError:  # two first requests at once: the other one created them
        return await known_actor(services, platform, workspace, user)


async def _create(
    services: Services, platform: Door, workspace: str, user: str, profile: ChatProfile
) -> Actor:
    now = services.clock.now()
    async with services.db.session() as session:
        person = None
        if profile.email:
            person = await session.scalar(select(Person).where(Person.email == profile.email))
        if person is None:
            person = Person(
                name=profile.name or "New person",
                email=profile.email,
                timezone=profile.timezone,
                preferred_door=platform,
                created_at=now,
            )
            session.add(person)
            await session.flush()
        session.add(
            ChatIdentity(
                person_id=person.id,
                platform=platform,
                workspace_id=workspace,
                user_id=user,
                data={"tz": profile.timezone, **profile.data},
                created_at=now,
                updated_at=now,
            )
        )
        link = await session.scalar(
            select(WorkspaceLink).where(
                WorkspaceLink.platform == platform, WorkspaceLink.workspace_id == workspace
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
            door=platform,
            object_type="person",
            object_id=person.id,
            workspace=workspace,
            at=now,
        )
        await session.flush()
        await session.refresh(person, ["memberships"])
        services.actors.remember_identity(platform, workspace, user, person.id)
        return services.actors.remember(actor_for(person, services.tz))
