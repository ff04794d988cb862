"""Replicas that start together migrate one at a time (a PostgreSQL advisory lock).

Before, three processes migrating an empty PostgreSQL database at once all created the
same tables: one won and the other two died with a UniqueViolation traceback.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import MIGRATION_LOCK_KEY, alembic_config, migration_lock
from tests.support import databases

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

#: One replica starting as `convene serve` and `convene db upgrade` do (`prepare`: migrate,
#: then store the shipped forms), with the app's own settings and so its short lock timeout:
#: import everything, say so, wait for the word, then start.
REPLICA = """
import asyncio, sys
from pathlib import Path
from bot.app import build_services, prepare
from bot.settings import load_settings

async def main(url: str, go: Path) -> None:
    services = build_services(load_settings(database_url=url, secret_key="replica"))
    try:
        print("ready", flush=True)
        while not go.exists():
            await asyncio.sleep(0.01)
        await prepare(services)
    finally:
        await services.db.dispose()

asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
"""


@pytest.fixture
async def empty_postgres(on_postgres: bool) -> AsyncIterator[str]:
    base = databases.configured_url()
    if not on_postgres or base is None:
        pytest.skip("needs PostgreSQL: SQLite has one writer")
    url = await databases.create_postgres_database(base)
    yield url
    await databases.drop_postgres_database(base, url)


async def revision_and_tables(url: str) -> tuple[str | None, int]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:

            def look(sync: Connection) -> str | None:
                return MigrationContext.configure(sync).get_current_revision()

            revision = await connection.run_sync(look)
            tables = await connection.scalar(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
    finally:
        await database.dispose()
    return revision, int(tables or 0)


def start_replicas(url: str, go: Path, count: int) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, url, str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for replica in replicas:  # every one has imported and connected: start them together
        assert replica.stdout is not None
        assert replica.stdout.readline().strip() == "ready"
    return replicas


async def test_three_replicas_migrating_an_empty_database_all_succeed(
    empty_postgres: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    replicas = await asyncio.to_thread(start_replicas, empty_postgres, go, 3)
    go.touch()
    for replica in replicas:
        _, err = await asyncio.to_thread(replica.communicate, timeout=180)
        assert replica.returncode == 0, err
    revision, tables = await revision_and_tables(empty_postgres)
    assert revision == HEAD
    assert tables > 10


async def test_the_lock_holds_others_off_and_is_released_even_when_migrating_fails(
    empty_postgres: str,
) -> None:
    holder, other = Database(empty_postgres), Database(empty_postgres)
    try:
        async with holder.engine.connect() as held, other.engine.connect() as probe:
            try_lock = text(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY})")
            unlock = text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
            with pytest.raises(RuntimeError, match="migration went wrong"):
                async with migration_lock(held):
                    assert await probe.scalar(try_lock) is False
                    raise RuntimeError("migration went wrong")
            assert await probe.scalar(try_lock) is True
            await probe.execute(unlock)
            # The connection that held it is usable again, in no transaction.
            assert await held.scalar(text("SELECT 1")) == 1
    finally:
        await holder.dispose()
        await other.dispose()


async def test_a_failed_statement_inside_the_lock_still_releases_it(empty_postgres: str) -> None:
    """A migration that fails in the database leaves its transaction aborted: the lock must
    still be released, which needs that transaction rolled back first."""
    holder, other = Database(empty_postgres), Database(empty_postgres)
    try:
        async with holder.engine.connect() as held, other.engine.connect() as probe:
            with pytest.raises(Exception, match="division by zero"):
                async with migration_lock(held):
                    await held.execute(text("SELECT 1/0"))
            try_lock = text(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY})")
            assert await probe.scalar(try_lock) is True
            await probe.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
    finally:
        await holder.dispose()
        await other.dispose()
