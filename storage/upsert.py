"""INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Any], values: dict[str, Any], keys: list[str]
) -> Insert:
    """An insert that quietly does nothing when a row with the same `keys` exists.

    Cheaper than SELECT-then-INSERT, and race-free: two writers can't both insert.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    return statement.on_conflict_do_nothing(index_elements=keys)
