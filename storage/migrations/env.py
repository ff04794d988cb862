"""Alembic environment: runs migrations on our async engine (SQLite or PostgreSQL).

Two ways in. Convene itself (`storage.migrate`) passes the connection to migrate, and
that connection decides the database. Run as `alembic upgrade head` with alembic.ini,
the database is the app's: DATABASE_URL (or CONVENE_DATABASE_URL) from the environment
or a `.env` file, read and normalised the way the app reads it, so `postgres://...` works
here too; alembic.ini's `sqlalchemy.url` is only the fallback when neither is set.
"""

from __future__ import annotations

import asyncio

from alembic import context
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Connection

from storage.db import Database, normalise_url
from storage.migrate import migration_lock, sqlite_foreign_keys_paused
from storage.models import Base

config = context.config
target_metadata = Base.metadata


class _AppDatabase(BaseSettings):
    """The app's database setting alone, read as bot.settings reads it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "CONVENE_DATABASE_URL")
    )


def database_url() -> str:
    """The URL to migrate: the one given in code, else the app's, else alembic.ini's."""
    url = config.get_main_option("sqlalchemy.url") or ""
    if config.config_file_name is not None:  # the alembic command, with alembic.ini
        url = _AppDatabase().database_url or url
    return normalise_url(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Foreign keys are paused while SQLite rebuilds tables (see
            # storage.migrate.sqlite_foreign_keys_paused): check them before committing.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows with broken references: {broken}")


async def _run_async(url: str) -> None:
    database = Database(url)
    try:
        async with (
            database.engine.connect() as connection,
            migration_lock(connection),
            sqlite_foreign_keys_paused(connection),
            connection.begin(),
        ):
            await connection.run_sync(_run)
    finally:
        await database.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async(database_url()))


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
