"""`convene serve` says who can sign in, and will not start in a way that signs people out.

Run as a person runs it: a real process, in a temporary directory (so no `.env` or key
file from a developer's checkout is read), with real exit codes and real log lines.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.support.servers import ServeProcess, free_port

PUBLIC = "https://convene.example.org"
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nope"


async def serve_until_it_exits(env: dict[str, str], cwd: Path) -> tuple[int | None, str]:
    """Run `convene serve`; (exit code, stderr). A server that starts is stopped after a
    while and gives None: it should have refused."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    clean.pop("DATABASE_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=cwd,
        env={**clean, "CONVENE_PORT": str(free_port()), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
        return None, err.decode()
    return process.returncode, err.decode()


@pytest.mark.parametrize(
    "where",
    [{"CONVENE_PUBLIC_URL": PUBLIC}, {"CONVENE_HOST": "0.0.0.0"}],
    ids=["behind a proxy", "on every address"],
)
async def test_serve_will_not_start_off_a_trial_without_a_secret_key(
    tmp_path: Path, where: dict[str, str]
) -> None:
    """Each copy of Convene would make its own key file, and refuse the others' sessions."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"
    code, err = await serve_until_it_exits({"DATABASE_URL": database, **where}, tmp_path)

    assert code is not None and code != 0, f"serve started without a key:\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "CONVENE_SECRET_KEY is not set" in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / ".convene-secret").exists()
    assert not (tmp_path / "convene.db").exists(), "it stops before touching the database"

    # Control: with a key it gets past that check (and stops at the database, this time).
    code, err = await serve_until_it_exits(
        {"DATABASE_URL": UNREACHABLE, "CONVENE_SECRET_KEY": "k" * 48, **where}, tmp_path
    )
    assert code is not None and code != 0
    assert "DATABASE_URL=" in err and "CONVENE_SECRET_KEY" not in err


async def test_a_local_trial_says_loudly_who_can_sign_in(tmp_path: Path) -> None:
    server = ServeProcess(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}"}, tmp_path
    )
    try:
        await server.start("--demo-if-empty")
    finally:
        server.terminate()
    log = server.log.read_text()
    banner = (
        f"LOCAL TRIAL: anyone who can reach http://127.0.0.1:{server.port} can sign in as a demo"
    )
    assert banner in log, log
    assert re.search(r"WARNING bot\.cli: \n=+\nLOCAL TRIAL", log), "a warning, set apart"
    block = log[log.index(banner) :][:600]
    assert "without a password" in block and "CONVENE_SECRET_KEY" in block
    assert "PRODUCTION" not in log


async def test_production_says_where_it_is_in_one_line(tmp_path: Path) -> None:
    server = ServeProcess(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}",
            "CONVENE_PUBLIC_URL": PUBLIC,
            "CONVENE_SECRET_KEY": "test-secret-key-not-for-production",
        },
        tmp_path,
    )
    try:
        await server.start()
    finally:
        server.terminate()
    log = server.log.read_text()
    lines = [line for line in log.splitlines() if "PRODUCTION" in line]
    assert len(lines) == 1, log
    assert f"INFO bot.cli: PRODUCTION: Convene is serving {PUBLIC}/" in lines[0]
    assert "LOCAL TRIAL" not in log
    assert not (tmp_path / ".convene-secret").exists()
