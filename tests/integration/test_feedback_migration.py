"""Migration 0030 (feedback points) on a database that already holds a council, providers
and an agreement: they keep every row, a point, an anonymous entry and a "you said, we
did" post go in, and going back down removes only the feedback tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.integration.test_monitoring_migration import agreements
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

TABLES = ("feedback_points", "feedback_entries", "feedback_posts")


def record_feedback(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO feedback_points (id, slug, service_name, state, question_keys,"
            " agreement_id, authority_id, safeguarding_lead_id, created_by, created_at)"
            " VALUES (1, 'abcDEF123456', 'Youth club', 'open', :keys, 1, 1, NULL, NULL,"
            " '2026-04-15 09:00:00')"
        ),
        {"keys": '["helping", "anything_else"]'},
    )
    connection.execute(
        sa.text(
            "INSERT INTO feedback_entries (id, point_id, given_on, answers, comments, with_help,"
            " safeguarding) VALUES ('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 1, '2026-04-15',"
            " :answers, :comments, FALSE, FALSE)"
        ),
        {"answers": '{"helping": "yes"}', "comments": '{"anything_else": "Good"}'},
    )
    connection.execute(
        sa.text(
            "INSERT INTO feedback_posts (id, point_id, text, posted_at)"
            " VALUES (1, 1, 'We changed the times.', '2026-05-01 10:00:00')"
        )
    )


async def test_feedback_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0029")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(agreements)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        assert await connection.run_sync(schema_diff) == []
        await connection.run_sync(record_feedback)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT p.service_name, e.given_on, s.text FROM feedback_points p"
                    " JOIN feedback_entries e ON e.point_id = p.id"
                    " JOIN feedback_posts s ON s.point_id = p.id"
                )
            )
        ).one()
        assert row[0] == "Youth club" and str(row[1]) == "2026-04-15"
        assert row[2] == "We changed the times."

    await run_alembic(empty_db, "downgrade", "0029")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(TABLES) & set(tables)
        assert "agreements" in tables
