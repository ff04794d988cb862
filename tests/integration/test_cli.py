"""The `convene` command, run as a person runs it: a real process, real exit codes, real output.

Commands run with `python -m bot.cli` in a temporary directory, so a developer's
.env file cannot change what they do.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import select

from bot.cli import app as cli_app
from bot.services import Services
from storage.models import Membership, Organisation, Person, Role
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nope"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


async def convene(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Ran:
    """Run `convene ARGS` in a child process and wait for it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # A guard against a hang, not a timing: a loaded machine can take a while to start Python.
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def command_paths() -> Iterator[list[str]]:
    """Every command and subcommand the CLI has, read from the app (so new ones are checked too)."""

    def walk(command: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(cli_app), [])


async def test_help_for_every_command_exits_zero(tmp_path: Path) -> None:
    paths = list(command_paths())
    assert {"serve", "invite", "demo", "db upgrade"} <= {" ".join(p) for p in paths}
    runs = await asyncio.gather(*(convene(*p, "--help", cwd=tmp_path) for p in paths))
    for path, ran in zip(paths, runs, strict=True):
        shown = " ".join(["convene", *path, "--help"])
        assert ran.code == 0, f"{shown} exited {ran.code}:\n{ran.err}"
        assert "Usage:" in ran.out, shown
        assert "Traceback" not in ran.out + ran.err, shown


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (["db", "upgrade"], UNREACHABLE),
        (["serve"], UNREACHABLE),
        (["db", "upgrade"], "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/nope"),
    ],
    ids=["db-upgrade", "serve", "db-upgrade-with-password"],
)
async def test_unreachable_database_is_one_clear_line(
    args: list[str], url: str, tmp_path: Path
) -> None:
    ran = await convene(*args, cwd=tmp_path, env={"DATABASE_URL": url})

    assert ran.code != 0
    assert "Traceback" not in ran.out + ran.err
    assert len(ran.err_lines) == 1, f"expected one line on stderr, got:\n{ran.err}"
    (line,) = ran.err_lines
    assert "DATABASE_URL=" in line and "127.0.0.1:1/nope" in line
    assert re.search(r"refused|connect call failed", line, re.IGNORECASE), line
    assert "hunter2" not in ran.out + ran.err, "a password never appears in output"


async def test_invite_prints_a_link_that_signs_the_person_in_once(
    services: Services, app_server: RunningApp, database_url: str, tmp_path: Path
) -> None:
    ran = await convene(
        "invite",
        "Sam.Newcomer@Example.org",
        "--org",
        "riverside-youth-trust",
        "--role",
        "provider_member",
        "--name",
        "Sam Newcomer",
        cwd=tmp_path,
        env={"DATABASE_URL": database_url},
    )
    assert ran.code == 0, ran.err
    lines = ran.out.strip().splitlines()
    assert len(lines) == 1, ran.out
    match = re.fullmatch(r"https?://[^/]+/signin/([A-Za-z0-9_-]{20,})", lines[0])
    assert match, lines[0]
    token = match.group(1)

    async with services.db.session() as session:
        person = await session.scalar(
            select(Person).where(Person.email == "sam.newcomer@example.org")
        )
        assert person is not None and person.name == "Sam Newcomer"
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert org is not None
        roles = (
            await session.execute(
                select(Membership.role, Membership.organisation_id).where(
                    Membership.person_id == person.id
                )
            )
        ).all()
    assert [(r, o) for r, o in roles] == [(Role.PROVIDER_MEMBER, org.id)]

    browser = WebUser(app_server.url)
    try:
        status, html = await browser.use_sign_in_link(token)
        assert status == 200, text_of(html)
        assert "Sign out Sam Newcomer" in text_of(html)
    finally:
        await browser.close()

    another = WebUser(app_server.url)
    try:
        status, html = await another.use_sign_in_link(token)
        assert status == 400
        assert "This sign-in link does not work" in text_of(html)
        assert "Sign out Sam Newcomer" not in text_of(html)
    finally:
        await another.close()


async def test_invite_refuses_an_unknown_organisation_or_role(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    bad_org, bad_role = await asyncio.gather(
        convene("invite", "nobody@example.org", "--org", "no-such-org", cwd=tmp_path, env=env),
        convene(
            "invite",
            "nobody@example.org",
            "--org",
            "riverside-youth-trust",
            "--role",
            "boss",
            cwd=tmp_path,
            env=env,
        ),
    )

    assert bad_org.code != 0
    assert bad_org.err_lines == ["No organisation called 'no-such-org'."]
    assert bad_org.out.strip() == "", "no link is printed"
    assert bad_role.code != 0
    assert len(bad_role.err_lines) == 1 and "Unknown role 'boss'" in bad_role.err_lines[0]
    assert "provider_member" in bad_role.err_lines[0], "it says which roles there are"
    assert "Traceback" not in bad_org.err + bad_role.err

    async with services.db.session() as session:
        person = await session.scalar(select(Person).where(Person.email == "nobody@example.org"))
    assert person is None, "a refused invite leaves nobody half-created"
