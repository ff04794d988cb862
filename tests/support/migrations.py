"""Helpers for migration tests: run Alembic on our engine, compare models with the schema.

Every migration test starts from the `empty_db` fixture (tests/conftest.py), populates the
database at an older revision with plain SQL, then upgrades and checks the rows.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import alembic_config, sqlite_foreign_keys_paused
from storage.models import Base


def head_revision() -> str | None:
    """The newest revision in storage/migrations (others add migrations; never hard-code it)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


HEAD = head_revision()


def schema_diff(connection: Connection) -> list[Any]:
    """What autogenerate would put in a new migration: empty when models and migrations agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def run_alembic(database: Database, action: str, revision: str) -> None:
    """`alembic upgrade/downgrade REVISION` on our engine, as storage.migrate does it."""

    def _run(connection: Connection) -> None:
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    async with (
        database.engine.connect() as connection,
        sqlite_foreign_keys_paused(connection),
        connection.begin(),
    ):
        await connection.run_sync(_run)
