"""People, their roles, and turning a person row into the `Actor` a turn carries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.turn import Actor, Grant
from storage import audit
from storage.models import (
    ChatIdentity,
    ConversationState,
    InboxItem,
    Membership,
    Person,
    Role,
    SignInToken,
)
from storage.sessions import end_sessions


def zone_of(name: str | None, default_tz: ZoneInfo) -> ZoneInfo:
    """A person's chosen time zone, or the default when they chose none (or a bad one)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_tz


async def zones_of(
    session: AsyncSession, person_ids: Iterable[int], default_tz: ZoneInfo
) -> dict[int, ZoneInfo]:
    """Each person's time zone, for many people in one query."""
    wanted = list(dict.fromkeys(person_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Person.id, Person.timezone).where(Person.id.in_(wanted)))
    return {person_id: zone_of(name, default_tz) for person_id, name in rows}


def actor_for(person: Person, default_tz: ZoneInfo) -> Actor:
    """The neutral view of a person that handlers and the visibility policy use."""
    tz = zone_of(person.timezone, default_tz)
    grants = tuple(
        Grant(role=Role(m.role), organisation_id=m.organisation_id, authority_id=m.authority_id)
        for m in person.memberships
    )
    return Actor(
        person_id=person.id, name=person.name, timezone=tz, grants=grants, email=person.email
    )


async def load_actor(session: AsyncSession, person_id: int, default_tz: ZoneInfo) -> Actor | None:
    person = await session.get(Person, person_id)
    if person is None:
        return None
    return actor_for(person, default_tz)


async def load_session_actor(
    session: AsyncSession, person_id: int, generation: int, default_tz: ZoneInfo
) -> Actor | None:
    """The person a web session is for, if that session has not been ended since.

    The person's row is read on every request anyway, and the generation is in it, so
    checking that the session is still good costs nothing more.
    """
    person = await session.get(Person, person_id)
    if person is None or person.session_generation != generation:
        return None
    return actor_for(person, default_tz)


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.email == email.strip().lower()))


async def person_for_chat_user(
    session: AsyncSession, platform: str, workspace_id: str, user_id: str
) -> Person | None:
    identity = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform,
            ChatIdentity.workspace_id == workspace_id,
            ChatIdentity.user_id == user_id,
        )
    )
    if identity is None:
        return None
    return await session.get(Person, identity.person_id)


async def grant(
    session: AsyncSession,
    person: Person,
    role: Role,
    *,
    organisation_id: int | None = None,
    authority_id: int | None = None,
) -> Membership:
    """Give a role, once: asking twice for the same role changes nothing."""
    existing = await session.scalar(
        select(Membership).where(
            Membership.person_id == person.id,
            Membership.role == role,
            Membership.organisation_id.is_(None)
            if organisation_id is None
            else Membership.organisation_id == organisation_id,
            Membership.authority_id.is_(None)
            if authority_id is None
            else Membership.authority_id == authority_id,
        )
    )
    if existing is not None:
        return existing
    membership = Membership(
        person_id=person.id, role=role, organisation_id=organisation_id, authority_id=authority_id
    )
    session.add(membership)
    await session.flush()
    return membership


async def forget_person(session: AsyncSession, person_id: int, *, now: datetime) -> bool:
    """Remove what identifies a person, keeping the engagement record honest.

    The audit log is append-only, so a person is never deleted: their name and email
    are replaced, their ways in (chat identities, sign-in links, memberships, web sessions)
    and their private messages are removed, and the record keeps an anonymous "Removed person".
    """
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        return False
    person.session_generation += 1  # a browser still signed in as them is signed out
    person.is_demo = False  # and nobody can pick them from the local sign-in list
    person.name = "Removed person"
    person.email = None
    person.timezone = None
    person.preferred_door = None
    for model in (ChatIdentity, SignInToken, InboxItem, ConversationState, Membership):
        await session.execute(delete(model).where(model.person_id == person_id))
    await audit.record(
        session,
        "person.forgotten",
        actor_id=None,
        object_type="person",
        object_id=person_id,
        at=now,
    )
    return True


async def remove_from_organisation(
    session: AsyncSession, person_id: int, organisation_id: int
) -> bool:
    """Take away every role a person has in one organisation. Returns whether they had one.

    Their web sessions end too, so a browser left signed in cannot keep acting for the
    organisation with roles it read before.
    """
    removed = await session.execute(
        delete(Membership).where(
            Membership.person_id == person_id, Membership.organisation_id == organisation_id
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        return False
    await end_sessions(session, person_id)
    return True


async def organisation_members(
    session: AsyncSession, organisation_id: int
) -> list[tuple[Membership, Person]]:
    """Everyone with a role in an organisation, one row each (admin if they are one), by name."""
    rows = (
        await session.execute(
            select(Membership, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(Person.name, Person.id, Membership.id)
        )
    ).all()
    seen: dict[int, tuple[Membership, Person]] = {}
    for membership, person in rows:
        if person.id not in seen or membership.role == Role.PROVIDER_ADMIN:
            seen[person.id] = (membership, person)
    return list(seen.values())
