"""Migration 0025 (check-in evidence) on a database that already holds a council, a
provider, an agreement, its monitoring plan and a check-in: they keep every row, a file
goes in against the check-in with its bytes and consent flags, and going back down removes
only the evidence table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.integration.test_monitoring_migration import agreements, record_monitoring
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

PDF = b"%PDF-1.4\n% a report\n"


def checkins(connection: Connection) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text("SELECT id, organisation_id, due_on FROM monitoring_checkins ORDER BY id")
        )
    ]


def record_evidence(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO evidence_files (id, agreement_id, checkin_id, organisation_id, kind,"
            " filename, content_type, size, sha256, data, service_may_see, council_may_quote,"
            " people_shown_agreed, answers_checkin, created_at)"
            " VALUES (1, 1, 1, 1, 'report', 'report.pdf', 'application/pdf', :size, :sha,"
            " :data, TRUE, FALSE, FALSE, TRUE, '2026-04-15 09:00:00')"
        ),
        {"size": len(PDF), "sha": "0" * 64, "data": PDF},
    )


async def test_evidence_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0024")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_monitoring)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(agreements)
        asked = await connection.run_sync(checkins)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        assert await connection.run_sync(checkins) == asked
        assert await connection.run_sync(schema_diff) == []
        await connection.run_sync(record_evidence)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT data, answers_checkin, council_may_quote FROM evidence_files")
            )
        ).one()
        assert bytes(row[0]) == PDF and row[1] and not row[2]

    await run_alembic(empty_db, "downgrade", "0024")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        assert await connection.run_sync(checkins) == asked
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "evidence_files" not in tables
        assert "monitoring_checkins" in tables
