"""Forgetting a person removes their details and access, and keeps the append-only record."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, ChatIdentity, Membership, Person


def convene(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True
    )


async def test_forget_person_keeps_the_record_without_the_person(
    database_url: str, services: Services
) -> None:
    async with services.db.session() as session:
        tom = await session.scalar(
            select(Person).where(Person.email == "tom@riversideyouth.example")
        )
        assert tom is not None
        tom_id = tom.id
        session.add(
            ChatIdentity(
                person_id=tom_id, platform="slack", workspace_id="T1", user_id="U1", data={}
            )
        )
        session.add(
            AuditEvent(
                at=tom.created_at,
                actor_id=tom_id,
                action="form.submitted",
                object_type="form_response",
                object_id="1",
                details={},
            )
        )

    refused = convene(database_url, "forget-person", "tom@riversideyouth.example")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    done = convene(database_url, "forget-person", "tom@riversideyouth.example", "--yes")
    assert done.returncode == 0, done.stderr
    unknown = convene(database_url, "forget-person", "nobody@example.org", "--yes")
    assert unknown.returncode == 1 and "Nobody has the email address" in unknown.stderr

    async with services.db.session() as session:
        person = await session.get(Person, tom_id)
        assert person is not None and person.name == "Removed person" and person.email is None
        assert not (
            await session.scalars(select(ChatIdentity).where(ChatIdentity.person_id == tom_id))
        ).all()
        assert not (
            await session.scalars(select(Membership).where(Membership.person_id == tom_id))
        ).all()
        kept = await session.scalar(select(AuditEvent).where(AuditEvent.actor_id == tom_id))
        assert kept is not None and kept.action == "form.submitted"
        assert await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "person.forgotten")
        )
