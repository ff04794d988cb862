"""Migration 0024 (monitoring plans) on a database that already holds a council, a
provider, an opportunity and an agreement: they keep every row, a plan and a check-in go
in against the agreement, and going back down removes only the monitoring tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

MONITORING = ("monitoring_plans", "monitoring_checkins", "monitoring_away")


def agreements(connection: Connection) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text("SELECT id, title, value_pence FROM agreements ORDER BY id")
        )
    ]


def record_monitoring(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO monitoring_plans (id, agreement_id, state, frequency, dates, method,"
            " questions, rag, proposed_by_side, proposed_at)"
            " VALUES (1, 1, 'agreed', 'quarterly', '[]', 'a form', '[\"effective\"]', TRUE,"
            " 'team', '2026-01-12 09:00:00')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO monitoring_checkins (id, agreement_id, plan_id, organisation_id,"
            " due_on, sent_at, questions, answers)"
            " VALUES (1, 1, 1, 1, '2026-04-14', '2026-04-14 07:00:00', '[\"effective\"]', '{}')"
        )
    )


async def test_monitoring_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0023")
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
        await connection.run_sync(record_monitoring)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT p.frequency, c.due_on FROM monitoring_checkins c"
                    " JOIN monitoring_plans p ON p.id = c.plan_id"
                )
            )
        ).one()
        assert row[0] == "quarterly" and str(row[1]) == "2026-04-14"

    await run_alembic(empty_db, "downgrade", "0023")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(MONITORING) & set(tables)
