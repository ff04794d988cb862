"""What the web door asks the database about signing in and out.

Sign-in links are random tokens of which only a SHA-256 hash is kept; each works once
and runs out. Every person has a session generation: a web session remembers the
generation it was made in, and is only good while the person's generation is the same.
Signing out, being forgotten, or being removed from an organisation adds one to it,
so every copy of an old session cookie, on every device, stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Membership, Person, SignInToken

#: Tokens we make are 43 characters; anything much longer is not one of ours.
LONGEST_TOKEN = 200


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_sign_in_link(
    session: AsyncSession, person_id: int, *, now: datetime, ttl: timedelta
) -> str:
    """A new one-time token for this person. Returns the token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        SignInToken(
            token_hash=hash_token(token), person_id=person_id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return token


def _looks_like_a_token(token: str) -> bool:
    return bool(token) and len(token) <= LONGEST_TOKEN


async def sign_in_link_works(session: AsyncSession, token: str, *, now: datetime) -> bool:
    """Whether this link would sign somebody in, without using it up.

    Email systems open links to check them for danger. Only a person pressing the
    button on the page uses a link, so a scanner looking first cannot spoil it.
    """
    if not _looks_like_a_token(token):
        return False
    row = await session.scalar(
        select(SignInToken).where(SignInToken.token_hash == hash_token(token))
    )
    return row is not None and row.used_at is None and row.expires_at > now


async def redeem_sign_in_link(session: AsyncSession, token: str, *, now: datetime) -> int | None:
    """The person this token signs in, once. Unknown, used or expired tokens give None."""
    if not _looks_like_a_token(token):
        return None
    row = await session.scalar(
        select(SignInToken).where(SignInToken.token_hash == hash_token(token)).with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row.person_id


async def session_generation(session: AsyncSession, person_id: int) -> int | None:
    """The generation a new session for this person must carry (None: no such person)."""
    return await session.scalar(select(Person.session_generation).where(Person.id == person_id))


async def demo_generation(session: AsyncSession, person_id: int) -> int | None:
    """Like `session_generation`, but only for a made-up demo person.

    The local sign-in list lets anyone on this computer be anybody on it, so it is
    only ever for the demo people, never for a real person's account.
    """
    return await session.scalar(
        select(Person.session_generation).where(Person.id == person_id, Person.is_demo.is_(True))
    )


async def demo_people(session: AsyncSession) -> list[tuple[int, str, str | None]]:
    """The demo people, with one of their roles each (or None), for the local sign-in list."""
    rows = (
        await session.execute(
            select(Person.id, Person.name, Membership.role)
            .join(Membership, Membership.person_id == Person.id, isouter=True)
            .where(Person.is_demo.is_(True))
            .order_by(Person.name, Person.id, Membership.id)
        )
    ).all()
    return [(int(pid), str(name), None if role is None else str(role)) for pid, name, role in rows]


async def end_sessions(session: AsyncSession, person_id: int) -> None:
    """Sign this person out everywhere: every session made before now stops working."""
    await session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(session_generation=Person.session_generation + 1)
    )
