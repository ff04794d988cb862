"""Migration 0031 (feedback testimony) on a database that already holds a council, an
agreement, a feedback point and an anonymous entry: every row stays, a photo goes in with
its consent flags, and going back down removes only the testimony table."""

from __future__ import annotations

import sqlalchemy as sa

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_feedback_migration import record_feedback
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.integration.test_monitoring_migration import agreements
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

ENTRY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


async def test_testimony_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0030")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_feedback)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(agreements)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        assert await connection.run_sync(schema_diff) == []
        await connection.execute(
            sa.text(
                "INSERT INTO feedback_testimony (entry_id, kind, content_type, extension, size,"
                " sha256, data, service_may_see, council_may_quote) VALUES (:entry, 'photo',"
                " 'image/png', 'png', 4, :sha, :data, TRUE, FALSE)"
            ),
            {"entry": ENTRY, "sha": "0" * 64, "data": b"\x89PNG"},
        )
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT e.comments, t.kind, t.service_may_see, t.council_may_quote"
                    " FROM feedback_entries e JOIN feedback_testimony t ON t.entry_id = e.id"
                )
            )
        ).one()
        assert row[1] == "photo" and bool(row[2]) and not row[3]

    await run_alembic(empty_db, "downgrade", "0030")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "feedback_testimony" not in tables
        assert "feedback_entries" in tables
        count = (await connection.execute(sa.text("SELECT count(*) FROM feedback_entries"))).one()
        assert count[0] == 1
