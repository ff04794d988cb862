"""Migration 0028 (performance assessments and endings) on a database that already holds an
agreement with its party and KPI: they keep every row, an assessment with a rating of that
KPI and an ending go in and read back, and going back down removes only the three new
tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import WHEN, populate, read_back
from tests.integration.test_variations_migration import agreement_rows
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

NEW_TABLES = ("performance_assessments", "performance_ratings", "agreement_endings")


def record_assessment_and_ending(connection: Connection) -> None:
    kpi_id = connection.execute(sa.text("SELECT id FROM agreement_kpis")).scalar_one()
    connection.execute(
        sa.table(
            "performance_assessments",
            *(
                sa.column(c)
                for c in (
                    "id",
                    "agreement_id",
                    "state",
                    "on_termination",
                    "required_by_law",
                    "notice_required",
                )
            ),
            sa.column("drafted_at", sa.DateTime(timezone=True)),
        )
        .insert()
        .values(
            id=1,
            agreement_id=1,
            state="draft",
            on_termination=False,
            required_by_law=True,
            notice_required=False,
            drafted_at=WHEN,
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO performance_ratings (id, assessment_id, kpi_id, position, kpi_name, "
            "rating, note) VALUES (1, 1, :kpi, 1, 'Attendance', 'requires_improvement', "
            "'Below target')"
        ),
        {"kpi": kpi_id},
    )
    connection.execute(
        sa.table(
            "agreement_endings",
            *(sa.column(c) for c in ("id", "agreement_id", "reason", "notice_required")),
            sa.column("ended_on", sa.Date()),
            sa.column("planned_ends_on", sa.Date()),
            sa.column("recorded_at", sa.DateTime(timezone=True)),
        )
        .insert()
        .values(
            id=1,
            agreement_id=1,
            reason="terminated_early",
            notice_required=True,
            ended_on=WHEN.date(),
            planned_ends_on=WHEN.date(),
            recorded_at=WHEN,
        )
    )


async def test_assessments_arrive_and_leave_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0027")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        before = await connection.run_sync(read_back)
        agreements_before = await connection.run_sync(agreement_rows)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreement_rows) == agreements_before
        assert await connection.run_sync(schema_diff) == []
        await connection.run_sync(record_assessment_and_ending)
    async with empty_db.engine.connect() as connection:
        rating = (
            await connection.execute(
                sa.text(
                    "SELECT a.state, r.rating, r.note FROM performance_ratings r "
                    "JOIN performance_assessments a ON a.id = r.assessment_id"
                )
            )
        ).one()
        assert tuple(rating) == ("draft", "requires_improvement", "Below target")
        ending = (
            await connection.execute(sa.text("SELECT reason FROM agreement_endings"))
        ).scalar_one()
        assert ending == "terminated_early"

    await run_alembic(empty_db, "downgrade", "0027")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreement_rows) == agreements_before
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(NEW_TABLES) & set(tables)
        assert "agreement_kpis" in tables
