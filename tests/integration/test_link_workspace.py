"""Linking a Slack workspace or Teams tenant decides who newcomers from there are."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from bot.chat_identity import ChatProfile, first_contact
from bot.services import Services
from storage.models import AuditEvent, Door, Organisation, WorkspaceLink


def convene(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True
    )


async def test_linked_workspaces_give_newcomers_their_role(
    database_url: str, services: Services
) -> None:
    done = convene(database_url, "link-workspace", "slack", "T777", "--authority", "riverside")
    assert done.returncode == 0, done.stderr
    assert "commissioners of Riverside Borough Council" in done.stdout
    done = convene(
        database_url, "link-workspace", "teams", "tenant-9", "--org", "asha-womens-centre"
    )
    assert done.returncode == 0, done.stderr

    commissioner = await first_contact(
        services, Door.SLACK, "T777", "U1", ChatProfile(name="Dee Commissioner")
    )
    assert commissioner is not None and commissioner.is_commissioner
    member = await first_contact(
        services, Door.TEAMS, "tenant-9", "aad-1", ChatProfile(name="Ola Member")
    )
    async with services.db.session() as session:
        asha = await session.scalar(
            select(Organisation).where(Organisation.slug == "asha-womens-centre")
        )
        assert member is not None and asha is not None and member.member_of() == {asha.id}
        stranger = await first_contact(
            services, Door.SLACK, "T-other", "U2", ChatProfile(name="Sam Stranger")
        )
        assert stranger is not None and not stranger.grants
        links = (await session.scalars(select(WorkspaceLink))).all()
        assert {(link.platform, link.workspace_id) for link in links} == {
            ("slack", "T777"),
            ("teams", "tenant-9"),
        }
        assert (
            len(
                (
                    await session.scalars(
                        select(AuditEvent).where(AuditEvent.action == "workspace.linked")
                    )
                ).all()
            )
            == 2
        )


def test_bad_link_requests_are_refused_clearly(database_url: str) -> None:
    for args, message in [
        (("link-workspace", "discord", "X", "--org", "a"), "slack or teams"),
        (("link-workspace", "slack", "T1"), "exactly one"),
        (("link-workspace", "slack", "T1", "--org", "nope"), "No authority or organisation"),
    ]:
        done = convene(database_url, *args)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
