"""INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.base import Executable

_statements: dict[tuple[str, str, tuple[str, ...], bool], Executable] = {}


def dialect_of(session: AsyncSession | AsyncConnection) -> str:
    """The database's dialect name ("postgresql", "sqlite") for a session or a connection."""
    if isinstance(session, AsyncConnection):
        return session.dialect.name
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_statement(
    dialect: str, model: type[Any], keys: tuple[str, ...], *, returning_id: bool = False
) -> Executable:
    """INSERT ... ON CONFLICT DO NOTHING for `model`'s table, built once and then reused: a
    statement object that is used again keeps its cache key, so neither building nor
    compiling it costs anything after the first call. With `returning_id`, it returns the
    new row's id, and nothing when the row was already there."""
    key = (dialect, model.__tablename__, keys, returning_id)
    if key not in _statements:
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        # The table, not the ORM class: a plain Core insert, whose rowcount says if it added.
        statement = insert(model.__table__).on_conflict_do_nothing(index_elements=list(keys))
        _statements[key] = statement.returning(model.__table__.c.id) if returning_id else statement
    return _statements[key]


async def insert_ignoring_duplicates(
    session: AsyncSession | AsyncConnection,
    model: type[Any],
    values: dict[str, Any] | list[dict[str, Any]],
    keys: list[str],
) -> Result[Any]:
    """Insert a row, quietly doing nothing when a row with the same `keys` exists.

    Cheaper than SELECT-then-INSERT, and race-free: two writers can't both insert. The
    statement is built once per table and the values are bound parameters, so it is
    compiled once rather than on every call. A list of rows inserts them all at once.
    """
    return await session.execute(insert_statement(dialect_of(session), model, tuple(keys)), values)


#: Rows per INSERT when adding many: big enough to be quick, small enough for any driver.
BULK_CHUNK = 500


async def insert_many_ignoring_duplicates(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """`insert_ignoring_duplicates` for thousands of rows (a fan-out), a chunk at a time."""
    for start in range(0, len(rows), BULK_CHUNK):
        await insert_ignoring_duplicates(session, model, rows[start : start + BULK_CHUNK], keys)
