"""Invite codes and join requests: how people get into their organisation from any door."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteCode, JoinRequest, Membership, Organisation, Role

# No 0/O or 1/I/L: codes are read aloud and typed by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


async def create_invite_code(
    session: AsyncSession, organisation_id: int, created_by: int, *, now: datetime, days: int = 14
) -> InviteCode:
    code = InviteCode(
        code=new_code(),
        organisation_id=organisation_id,
        role=Role.PROVIDER_MEMBER,
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(code)
    await session.flush()
    return code


async def current_invite_code(
    session: AsyncSession, organisation_id: int, created_by: int, *, now: datetime
) -> InviteCode | None:
    """The newest code this person made for the organisation that still works, if any."""
    return await session.scalar(
        select(InviteCode)
        .where(
            InviteCode.organisation_id == organisation_id,
            InviteCode.created_by == created_by,
            InviteCode.revoked_at.is_(None),
            InviteCode.expires_at > now,
        )
        .order_by(InviteCode.created_at.desc(), InviteCode.id.desc())
        .limit(1)
    )


async def revoke_invite_codes(
    session: AsyncSession, organisation_id: int, created_by: int, *, now: datetime
) -> None:
    """Stop every code this person made for the organisation from working."""
    await session.execute(
        update(InviteCode)
        .where(
            InviteCode.organisation_id == organisation_id,
            InviteCode.created_by == created_by,
            InviteCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def usable_code(session: AsyncSession, text: str, *, now: datetime) -> InviteCode | None:
    code = await session.scalar(select(InviteCode).where(InviteCode.code == normalise_code(text)))
    if code is None or code.revoked_at is not None or code.expires_at <= now:
        return None
    return code


async def find_organisation(session: AsyncSession, text: str) -> list[Organisation]:
    """Organisations whose name or short name matches what a person typed (case-insensitive)."""
    wanted = " ".join(text.split()).lower()
    if not wanted:
        return []
    exact = await session.scalars(
        select(Organisation).where(
            (func.lower(Organisation.name) == wanted) | (Organisation.slug == wanted)
        )
    )
    found = list(exact.all())
    if found:
        return found
    partial = await session.scalars(
        select(Organisation)
        .where(func.lower(Organisation.name).contains(wanted))
        .order_by(Organisation.name)
        .limit(5)
    )
    return list(partial.all())


async def organisation_admins(session: AsyncSession, organisation_id: int) -> list[int]:
    rows = await session.scalars(
        select(Membership.person_id).where(
            Membership.organisation_id == organisation_id, Membership.role == Role.PROVIDER_ADMIN
        )
    )
    return list(rows.all())


async def pending_request(
    session: AsyncSession, person_id: int, organisation_id: int
) -> JoinRequest | None:
    return await session.scalar(
        select(JoinRequest).where(
            JoinRequest.person_id == person_id,
            JoinRequest.organisation_id == organisation_id,
            JoinRequest.state == "pending",
        )
    )
