"""Migration 0022 (outcomes frameworks) on a database that already holds a council, a
provider, an opportunity and an agreement with its party and KPI: they keep every row; a
framework goes in (an outcome with an indicator, an output, a proposal); removing the
outcome takes its indicator with it and leaves the proposal on the record; going back
down removes only the framework's tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.types import UTCDateTime
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import WHEN, populate, read_back
from tests.support.migrations import run_alembic, schema_diff

FRAMEWORK = ("outcome_items", "outcome_proposals")


def everything(connection: Connection) -> list[tuple[object, ...]]:
    # The columns every revision since 0021 keeps (0027 moved the free-text ones to `notes`).
    rows = [
        tuple(r)
        for r in connection.execute(
            sa.text(
                "SELECT id, authority_id, title, value_pence, starts_on, ends_on FROM agreements"
            )
        )
    ]
    rows += [tuple(r) for r in connection.execute(sa.text("SELECT * FROM agreement_parties"))]
    rows += [tuple(r) for r in connection.execute(sa.text("SELECT * FROM agreement_kpis"))]
    return [*read_back(connection), *rows]


def add_framework(connection: Connection) -> None:
    items = sa.table(
        "outcome_items",
        *(sa.column(c) for c in ("id", "agreement_id", "kind", "outcome_id", "position", "text")),
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("updated_at", UTCDateTime(timezone=True)),
    )
    for row in (
        (1, "outcome", None, "Young people feel safer"),
        (2, "indicator", 1, "Young people say they feel safe"),
        (3, "output", None, "Sessions run each month"),
    ):
        connection.execute(
            items.insert().values(
                id=row[0],
                agreement_id=1,
                kind=row[1],
                outcome_id=row[2],
                position=1,
                text=row[3],
                created_at=WHEN,
                updated_at=WHEN,
            )
        )
    connection.execute(
        sa.table(
            "outcome_proposals",
            *(
                sa.column(c)
                for c in ("id", "agreement_id", "action", "kind", "item_id", "outcome_id")
            ),
            *(sa.column(c) for c in ("text", "status", "proposed_side", "proposed_by")),
            sa.column("proposed_at", UTCDateTime(timezone=True)),
        )
        .insert()
        .values(
            id=1,
            agreement_id=1,
            action="change",
            kind="indicator",
            item_id=2,
            outcome_id=1,
            text="Young people say they feel safe at home",
            status="pending",
            proposed_side="provider",
            proposed_by=None,
            proposed_at=WHEN,
        )
    )


async def test_the_framework_arrives_and_leaves_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0021")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        before = await connection.run_sync(everything)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(everything) == before
        assert await connection.run_sync(schema_diff) == []
        await connection.run_sync(add_framework)
    async with empty_db.engine.begin() as connection:
        await connection.execute(sa.text("DELETE FROM outcome_items WHERE id = 1"))
    async with empty_db.engine.connect() as connection:
        left = (await connection.execute(sa.text("SELECT id FROM outcome_items"))).all()
        assert [tuple(r) for r in left] == [(3,)]
        proposal = (
            await connection.execute(
                sa.text("SELECT item_id, outcome_id, text FROM outcome_proposals")
            )
        ).one()
        assert tuple(proposal) == (None, None, "Young people say they feel safe at home")

    await run_alembic(empty_db, "downgrade", "0021")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(everything) == before
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(FRAMEWORK) & set(tables)
