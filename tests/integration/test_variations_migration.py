"""Migration 0023 (variations) on a database that already holds an agreement with its party
and KPI: they keep every row, a variation that takes £30m off (signed, more than a 32-bit
column holds, in pence) goes in and reads back whole, and going back down removes only the
variations table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import WHEN, populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

MINUS_THIRTY_MILLION_PENCE = -3_000_000_000


def agreement_rows(connection: Connection) -> list[tuple[object, ...]]:
    return [
        *(
            tuple(r)
            for r in connection.execute(sa.text("SELECT id, title, ends_on FROM agreements"))
        ),
        *(tuple(r) for r in connection.execute(sa.text("SELECT id, role FROM agreement_parties"))),
        *(tuple(r) for r in connection.execute(sa.text("SELECT id, name FROM agreement_kpis"))),
    ]


def record_variation(connection: Connection) -> None:
    connection.execute(
        sa.table(
            "agreement_variations",
            *(
                sa.column(c)
                for c in (
                    "id",
                    "agreement_id",
                    "side",
                    "what_changes",
                    "why",
                    "value_change_pence",
                    "term_change_days",
                    "state",
                    "change_notice_required",
                )
            ),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        .insert()
        .values(
            id=1,
            agreement_id=1,
            side="council",
            what_changes="Fewer clubs",
            why="Budget",
            value_change_pence=MINUS_THIRTY_MILLION_PENCE,
            term_change_days=-30,
            state="requested",
            change_notice_required=False,
            created_at=WHEN,
        )
    )


async def test_variations_arrive_and_leave_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0022")
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
        await connection.run_sync(record_variation)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT value_change_pence, term_change_days FROM agreement_variations")
            )
        ).one()
        assert tuple(row) == (MINUS_THIRTY_MILLION_PENCE, -30)

    await run_alembic(empty_db, "downgrade", "0022")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreement_rows) == agreements_before
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "agreement_variations" not in tables
