"""Migration 0034 (commissioners' digest day) on a database that already holds people,
councils, opportunities, agreements and feedback: the table is added empty (so every
commissioner starts on Monday), nothing else changes, a choice can be stored (a day, or
none for "off") and goes with the person; going back down removes only the table."""

from __future__ import annotations

import sqlalchemy as sa

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_feedback_migration import record_feedback
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff


def two_people(connection: sa.Connection) -> None:
    for number in (901, 902):
        connection.execute(
            sa.text(
                "INSERT INTO people (id, name, email, created_at) VALUES"
                " (:id, :name, :email, '2026-04-15 09:00:00')"
            ),
            {"id": number, "name": f"Person {number}", "email": f"p{number}@example.org"},
        )


def people(connection: sa.Connection) -> list[int]:
    return [row[0] for row in connection.execute(sa.text("SELECT id FROM people ORDER BY id"))]


def tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_the_digest_day_table_is_added_empty_and_removed_cleanly(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0033")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_feedback)
        await connection.run_sync(two_people)
        before = await connection.run_sync(read_back)
        everyone = await connection.run_sync(people)
        tables_before = await connection.run_sync(tables)
    assert everyone

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
        # Its table is new, and no table that was there went (later revisions add their own).
        added = await connection.run_sync(tables)
        assert "commissioner_digest_days" in added - tables_before and tables_before <= added
        assert (
            await connection.scalar(sa.text("SELECT count(*) FROM commissioner_digest_days")) == 0
        )
        await connection.execute(
            sa.text(
                "INSERT INTO commissioner_digest_days (person_id, weekday, updated_at)"
                " VALUES (901, 2, '2026-04-15 09:00:00'), (902, NULL, '2026-04-15 09:00:00')"
            )
        )
        stored = (
            await connection.execute(
                sa.text("SELECT person_id, weekday FROM commissioner_digest_days ORDER BY 1")
            )
        ).all()
    assert [tuple(row) for row in stored] == [(901, 2), (902, None)]

    await run_alembic(empty_db, "downgrade", "0033")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(tables) == tables_before
        assert await connection.run_sync(people) == everyone
