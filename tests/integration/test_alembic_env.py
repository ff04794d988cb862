"""`alembic upgrade head`, run from the repository with alembic.ini, migrates the app's database.

Before, it always migrated alembic.ini's `./convene.db`, whatever DATABASE_URL said, so a
developer who ran it against PostgreSQL silently migrated a stray SQLite file instead.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from storage.db import Database
from storage.migrate import alembic_config
from tests.support import databases

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The alembic command, from the repository root as a developer runs it."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CONVENE_DATABASE_URL"}
    }
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def sqlite_revision(path: Path) -> str | None:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("variable", ["DATABASE_URL", "CONVENE_DATABASE_URL"])
def test_alembic_migrates_the_database_the_app_is_given(tmp_path: Path, variable: str) -> None:
    target = tmp_path / "app.db"
    # A plain `sqlite:///` URL, as people paste it: it only works once normalised to aiosqlite.
    done = alembic("upgrade", "head", **{variable: f"sqlite:///{target}"})
    assert done.returncode == 0, done.stderr
    assert sqlite_revision(target) == HEAD


def test_database_url_wins_over_convene_database_url_as_in_the_app(tmp_path: Path) -> None:
    chosen, other = tmp_path / "chosen.db", tmp_path / "other.db"
    done = alembic(
        "upgrade",
        "head",
        DATABASE_URL=f"sqlite:///{chosen}",
        CONVENE_DATABASE_URL=f"sqlite:///{other}",
    )
    assert done.returncode == 0, done.stderr
    assert sqlite_revision(chosen) == HEAD
    assert not other.exists()


def test_alembic_takes_a_postgres_url_as_pasted(on_postgres: bool) -> None:
    """`postgres://user@host/db`, as hosting platforms give it, normalised to asyncpg."""
    base = databases.configured_url()
    if not on_postgres or base is None:
        pytest.skip("needs PostgreSQL")

    async def run() -> None:
        url = await databases.create_postgres_database(base)
        try:
            pasted = make_url(url).set(drivername="postgres").render_as_string(hide_password=False)
            done = await asyncio.to_thread(alembic, "upgrade", "head", DATABASE_URL=pasted)
            assert done.returncode == 0, done.stderr
            database = Database(url)
            try:
                async with database.engine.connect() as connection:

                    def revision(sync: Connection) -> str | None:
                        return MigrationContext.configure(sync).get_current_revision()

                    assert await connection.run_sync(revision) == HEAD
            finally:
                await database.dispose()
        finally:
            await databases.drop_postgres_database(base, url)

    asyncio.run(run())
