"""Migration 0035 (the email door): from an empty database and from one with people in it.
Going up adds the unsubscribes table and changes no person; the schema matches the models;
going back down drops it, and anyone who chose email goes back to the default door."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = "2026-04-15 09:00:00"


def people(connection: sa.Connection) -> list[tuple[object, ...]]:
    rows = connection.execute(
        sa.text("SELECT id, name, email, preferred_door FROM people ORDER BY id")
    )
    return [tuple(row) for row in rows]


def add_people(connection: sa.Connection) -> None:
    for number, door in ((1, None), (2, "web"), (3, "slack")):
        connection.execute(
            sa.text(
                "INSERT INTO people (id, name, email, preferred_door, created_at)"
                f" VALUES (:id, :name, :email, :door, '{WHEN}')"
            ),
            {
                "id": number,
                "name": f"Person {number}",
                "email": f"p{number}@example.org",
                "door": door,
            },
        )


def tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_from_empty_the_schema_matches_the_models(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []
        assert "email_unsubscribes" in await connection.run_sync(tables)


async def test_people_keep_their_rows_up_and_down(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0034")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(add_people)
        before = await connection.run_sync(people)

    await run_alembic(empty_db, "upgrade", "0035")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(people) == before
        await connection.execute(
            sa.text(
                f"INSERT INTO email_unsubscribes (person_id, unsubscribed_at) VALUES (1, '{WHEN}')"
            )
        )
        await connection.execute(sa.text("UPDATE people SET preferred_door = 'email' WHERE id = 2"))
    # One unsubscribe a person, and only for a person who exists.
    for person_id in (1, 99):
        with pytest.raises(IntegrityError):
            async with empty_db.engine.begin() as connection:
                if empty_db.engine.dialect.name == "sqlite":
                    await connection.execute(sa.text("PRAGMA foreign_keys=ON"))
                await connection.execute(
                    sa.text(
                        "INSERT INTO email_unsubscribes (person_id, unsubscribed_at)"
                        f" VALUES (:p, '{WHEN}')"
                    ),
                    {"p": person_id},
                )

    await run_alembic(empty_db, "downgrade", "0034")
    async with empty_db.engine.connect() as connection:
        assert "email_unsubscribes" not in await connection.run_sync(tables)
        after = await connection.run_sync(people)
    assert after == [before[0], (2, "Person 2", "p2@example.org", None), before[2]]
