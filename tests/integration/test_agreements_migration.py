"""Migration 0021 (the agreements register) on a database that already holds a council, a
provider and an opportunity with a lot and interest: they keep every row, an agreement worth
£30m (more than a 32-bit column holds, in pence) goes in and reads back whole, and going
back down removes only the register's tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.integration.test_follow_and_briefing_migration import WHEN, populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

REGISTER = ("agreements", "agreement_parties", "agreement_kpis")
THIRTY_MILLION_PENCE = 3_000_000_000


def record_agreement(connection: Connection) -> None:
    connection.execute(
        sa.table(
            "agreements",
            *(sa.column(c) for c in ("id", "authority_id", "opportunity_id", "title", "route")),
            *(
                sa.column(c)
                for c in ("light_touch", "below_threshold", "reserved", "framework_call_off")
            ),
            sa.column("grant_funded"),
            sa.column("value_pence"),
            sa.column("vat_basis"),
            sa.column("area_served", JSONType),
            sa.column("break_clauses", JSONType),
            sa.column("starts_on", sa.Date()),
            sa.column("ends_on", sa.Date()),
            sa.column("payment_terms_days"),
            sa.column("created_at", UTCDateTime(timezone=True)),
            sa.column("updated_at", UTCDateTime(timezone=True)),
        )
        .insert()
        .values(
            id=1,
            authority_id=1,
            opportunity_id=7,
            title="Youth clubs",
            route="standard_contract",
            light_touch=False,
            below_threshold=False,
            reserved=False,
            framework_call_off=False,
            grant_funded=False,
            value_pence=THIRTY_MILLION_PENCE,
            vat_basis="including",
            area_served=[],
            break_clauses=[{"on": "2027-03-31", "notice_days": 90}],
            starts_on=WHEN.date(),
            ends_on=WHEN.date().replace(year=2029),
            payment_terms_days=30,
            created_at=WHEN,
            updated_at=WHEN,
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO agreement_parties (id, agreement_id, organisation_id, role, share_percent)"
            " VALUES (1, 1, 1, 'sole', NULL)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO agreement_kpis (id, agreement_id, position, name, measure, target)"
            " VALUES (1, 1, 1, 'Attendance', 'register', '120 a month')"
        )
    )


async def test_the_register_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0020")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
        await connection.run_sync(record_agreement)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT value_pence, opportunity_id, payment_terms_days FROM agreements")
            )
        ).one()
        assert tuple(row) == (THIRTY_MILLION_PENCE, 7, 30)

    await run_alembic(empty_db, "downgrade", "0020")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(REGISTER) & set(tables)
