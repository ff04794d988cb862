"""People and their roles, as an admin sets them up from the command line.

Inviting someone by email finds them (or adds them) and gives them a role in an
authority or an organisation, named by its short name. The caller holds the unit
of work: an unknown place raises `LookupError` before anything is kept, so the
whole invitation is rolled back rather than half saved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Authority, Organisation, Person, Role
from storage.people import grant, person_by_email


async def authority_by_slug(session: AsyncSession, slug: str | None) -> Authority | None:
    return await session.scalar(select(Authority).where(Authority.slug == slug))


async def organisation_by_slug(session: AsyncSession, slug: str | None) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.slug == slug))


async def person_for_invitation(
    session: AsyncSession, email: str, *, name: str | None, now: datetime
) -> Person:
    """The person with this email address, added (named `name`, or their address's first
    part) if they are new."""
    address = email.strip().lower()
    person = await person_by_email(session, address)
    if person is None:
        person = Person(name=name or address.split("@")[0], email=address, created_at=now)
        session.add(person)
        await session.flush()
    return person


async def give_role_by_slug(
    session: AsyncSession, person: Person, role: Role, place: str | None
) -> None:
    """Give `role`: a commissioner's in the authority called `place`, a provider's in the
    organisation called `place`, an admin's everywhere. LookupError names an unknown place."""
    if role == Role.COMMISSIONER:
        authority = await authority_by_slug(session, place)
        if authority is None:
            raise LookupError(f"No authority called {place!r}.")
        await grant(session, person, role, authority_id=authority.id)
    elif role != Role.ADMIN:
        organisation = await organisation_by_slug(session, place)
        if organisation is None:
            raise LookupError(f"No organisation called {place!r}.")
        await grant(session, person, role, organisation_id=organisation.id)
    else:
        await grant(session, person, role)


async def person_to_forget(session: AsyncSession, email: str) -> Person:
    """The person an erasure request names; LookupError when nobody has that address."""
    person = await person_by_email(session, email)
    if person is None:
        raise LookupError(f"Nobody has the email address {email!r}.")
    return person
