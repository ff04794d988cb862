"""Joining an organisation with an admin's invite code, in-process on the test door.

Join requests approved from the web inbox, and the web door's rule that a link alone never
joins anyone, are tested over HTTP in tests/integration/test_membership_web.py.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, Membership, Person, Role
from tests.support.inprocess import TestDoor, text_of


async def _newcomer(services: Services, name: str = "Sam Newton") -> int:
    async with services.db.session() as session:
        # Made up like the demo people, so the local sign-in list offers them.
        person = Person(name=name, email=f"{name.split()[0].lower()}@example.org", is_demo=True)
        session.add(person)
        await session.flush()
        return person.id


async def test_admin_code_lets_a_colleague_join(door: TestDoor, services: Services) -> None:
    tom = await door.sign_in("Tom Okafor")
    replies = await tom.say("invite")
    code = re.search(r"Share this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", text_of(replies))
    assert code, text_of(replies)

    newcomer_id = await _newcomer(services)
    other = await door.sign_in("Sam Newton")
    assert "not linked to an organisation" in text_of(await other.say("profile"))
    # The web door's confirm form posts the code as an argument of `join`.
    assert "That code doesn't work" in text_of(await other.say("join", code="WRON-GCOD"))
    joined = await other.say("join", code=code.group(1).lower())
    assert "You are now part of Riverside Youth Trust" in text_of(joined)
    assert "About your organisation" in text_of(await other.say("profile"))
    async with services.db.session() as session:
        roles = (
            await session.scalars(
                select(Membership.role).where(Membership.person_id == newcomer_id)
            )
        ).all()
        assert roles == [Role.PROVIDER_MEMBER]
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert "membership.code_refused" in actions and "membership.joined_with_code" in actions
