"""Is the database ready for this version of Convene? Asked by `/readyz`.

A replica that starts before the migrations have run (or runs older code against a
newer schema) would answer requests with errors. A load balancer asks `/readyz` and
sends people elsewhere until the schema is exactly the one this code was written for.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import alembic_config

SchemaState = Literal["current", "behind", "ahead"]


@cache
def _scripts() -> ScriptDirectory:
    """Read the migration files once: they do not change while the process runs."""
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return _scripts().get_current_head()


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Whether the database's schema is this code's newest one, older, or one we don't know.

    Raises whatever the driver raises when the database cannot be reached.
    """
    async with engine.connect() as connection:
        revision = await connection.run_sync(_revision)
    if revision == head_revision():
        return "current"
    if revision is None:
        return "behind"
    try:
        known = _scripts().get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for a revision it has never heard of
        known = False
    return "behind" if known else "ahead"
