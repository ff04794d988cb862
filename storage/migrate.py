"""Run Alembic migrations from code (the CLI, `serve` on start, and tests)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

#: The PostgreSQL advisory lock that one migrating process holds at a time: the ASCII bytes
#: of "convene1" as a bigint. Any fixed number works; it only has to be the same everywhere.
MIGRATION_LOCK_KEY = int.from_bytes(b"convene1", "big")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@asynccontextmanager
async def migration_lock(connection: AsyncConnection) -> AsyncIterator[None]:
    """Let one process at a time migrate a PostgreSQL database.

    Several replicas (or `convene db upgrade` runs) starting together on an empty database
    would otherwise all create the same tables and all but one fail with a unique violation.
    With the lock the others wait, then find the database at head and do nothing. The lock
    belongs to the connection's session, so it is taken in a transaction of its own (the
    migration's transaction then starts after it, and sees what the previous holder
    committed) and released after the migration, whether it worked or not. SQLite needs no
    lock here: it has one writer.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    # The app's connections give up on a lock after CONVENE_DATABASE_TIMEOUT_SECONDS; waiting
    # for another process's migration is expected to take longer (this transaction only).
    await connection.execute(text("SET LOCAL lock_timeout = 0"))
    got_it = await connection.scalar(text(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY})"))
    if not got_it:
        log.info("another process is migrating the database; waiting for it to finish")
        await connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
    await connection.commit()
    try:
        yield
    finally:
        try:
            await connection.rollback()  # a failed migration leaves its transaction aborted
            await connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            await connection.commit()
        except Exception:
            # A connection that cannot say unlock is closed for good instead, which releases
            # the lock too; the migration's own outcome is what the caller needs to see.
            log.warning("could not release the migration lock; closing its connection")
            await connection.invalidate()


@asynccontextmanager
async def sqlite_foreign_keys_paused(connection: AsyncConnection) -> AsyncIterator[None]:
    """Pause SQLite's foreign keys while a migration runs (nothing happens on PostgreSQL).

    SQLite alters a table by rebuilding it: copy the rows to a new table, drop the old one,
    rename. With foreign keys on, dropping the old table first deletes its rows, and every
    row elsewhere that refers to them through ON DELETE CASCADE goes too: altering
    `agreements` would empty the check-ins, variations and payments. SQLite only obeys this
    pragma outside a transaction, so it is set before the migration's transaction begins and
    set back after it ends; the migration itself checks the keys before it commits
    (`PRAGMA foreign_key_check` in storage/migrations/env.py)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    await connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            await connection.rollback()
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        await connection.commit()


@cache
def head_revision() -> str | None:
    """The newest migration's id, read from the migration files once per process."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database already stands at the newest revision.

    Every start asks; a database that is already there (a restart, another replica, each
    test's app) need not load the migration scripts or take the migration lock. Any doubt
    (no version table yet, two heads, an error) answers no, and the full path decides.
    """
    try:
        async with engine.connect() as connection:
            versions = (
                (await connection.execute(text("SELECT version_num FROM alembic_version")))
                .scalars()
                .all()
            )
    except DBAPIError:
        return False
    return len(versions) == 1 and versions[0] == head_revision()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision on an existing async engine."""
    if await at_head(engine):
        return

    def _upgrade(connection: Connection) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with (
        engine.connect() as connection,
        migration_lock(connection),
        sqlite_foreign_keys_paused(connection),
        connection.begin(),  # after the lock: the migration sees the last holder's work
    ):
        if connection.dialect.name == "postgresql":
            # Changing a table waits for the requests using it to finish, which may take
            # longer than the app's short lock timeout; a minute, for this migration only.
            await connection.execute(text("SET LOCAL lock_timeout = '60s'"))
        await connection.run_sync(_upgrade)
