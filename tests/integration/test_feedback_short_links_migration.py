"""Migration 0032 (feedback short links) on a database that already holds feedback points:
every point gets a six-letter short code from the alphabet with no look-alikes, all
different; nothing else changes; a new point can't take a code already used; and going
back down removes only the column."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.feedback_tables import SHORT_CODE_ALPHABET
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_feedback_migration import record_feedback
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

MORE_POINTS = 30


def more_points(connection: sa.Connection) -> None:
    for number in range(2, MORE_POINTS + 2):
        connection.execute(
            sa.text(
                "INSERT INTO feedback_points (id, slug, service_name, state, question_keys,"
                " organisation_id, created_at) VALUES (:id, :slug, :name, 'open', '[]', NULL,"
                " '2026-04-15 09:00:00')"
            ),
            {"id": number, "slug": f"slug{number:08d}", "name": f"Service {number}"},
        )


def points(connection: sa.Connection) -> list[tuple[object, ...]]:
    rows = connection.execute(
        sa.text("SELECT id, slug, service_name, state FROM feedback_points ORDER BY id")
    )
    return [tuple(row) for row in rows]


async def test_every_point_gets_its_own_short_code_and_going_back_keeps_them(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0031")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_feedback)
        await connection.run_sync(more_points)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(points)
    assert len(kept) == MORE_POINTS + 1

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(points) == kept
        assert await connection.run_sync(schema_diff) == []
        codes = [
            row[0]
            for row in await connection.execute(sa.text("SELECT short_code FROM feedback_points"))
        ]
    assert len(codes) == MORE_POINTS + 1 and len(set(codes)) == len(codes)
    assert all(len(c) == 6 and set(c) <= set(SHORT_CODE_ALPHABET) for c in codes)

    with pytest.raises(IntegrityError):
        async with empty_db.engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO feedback_points (slug, service_name, state, question_keys,"
                    " short_code, created_at) VALUES ('another-slug', 'Copy', 'open', '[]',"
                    " :code, '2026-04-15 09:00:00')"
                ),
                {"code": codes[0]},
            )

    await run_alembic(empty_db, "downgrade", "0031")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(points) == kept
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in sa.inspect(c).get_columns("feedback_points")}
        )
        assert "short_code" not in columns and "slug" in columns
        entries = (await connection.execute(sa.text("SELECT count(*) FROM feedback_entries"))).one()
        assert entries[0] == 1
