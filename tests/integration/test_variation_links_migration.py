"""Migration 0029 (linked variations, the value and term on award) on a database that
already holds an agreement varied twice under 0028: one approved variation that moved the
end by 30 days, one still waiting. Every row is kept; the agreement's original row is worked
out (its value as it stands, since 0028 never changed it, and its end less the approved 30
days); a link between the two goes in; and going back down removes only the new tables."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import THIRTY_MILLION_PENCE, record_agreement
from tests.integration.test_follow_and_briefing_migration import WHEN, populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

NEW_TABLES = ("agreement_variation_links", "agreement_originals")
ENDS = WHEN.date().replace(year=2029)


def record_variations(connection: Connection) -> None:
    """Two variations as 0028 kept them: the approved one already moved the end."""
    table = sa.table(
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
    for number, state in ((1, "approved"), (2, "requested")):
        connection.execute(
            table.insert().values(
                id=number,
                agreement_id=1,
                side="council",
                what_changes=f"Change {number}",
                why="Demand",
                value_change_pence=1_000_000,
                term_change_days=30,
                state=state,
                change_notice_required=False,
                created_at=WHEN,
            )
        )
    connection.execute(
        sa.text("UPDATE agreements SET ends_on = :ends WHERE id = 1"),
        {"ends": ENDS + timedelta(days=30)},
    )


def variation_rows(connection: Connection) -> list[tuple[object, ...]]:
    return [
        *(
            tuple(r)
            for r in connection.execute(
                sa.text("SELECT id, value_pence, ends_on FROM agreements ORDER BY id")
            )
        ),
        *(
            tuple(r)
            for r in connection.execute(
                sa.text(
                    "SELECT id, state, value_change_pence, term_change_days"
                    " FROM agreement_variations ORDER BY id"
                )
            )
        ),
    ]


async def test_links_and_originals_arrive_and_leave_without_losing_a_row(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0028")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_variations)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(variation_rows)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(variation_rows) == kept
        assert await connection.run_sync(schema_diff) == []
        original = (
            await connection.execute(
                sa.text("SELECT agreement_id, value_pence, ends_on FROM agreement_originals")
            )
        ).one()
        assert (original[0], original[1], str(original[2])) == (
            1,
            THIRTY_MILLION_PENCE,
            ENDS.isoformat(),
        )
        await connection.execute(
            sa.text(
                "INSERT INTO agreement_variation_links (variation_id, linked_variation_id)"
                " VALUES (2, 1)"
            )
        )
        # Now an approved change is written to the current value (the original stays).
        await connection.execute(sa.text("UPDATE agreements SET value_pence = value_pence + 1"))
    async with empty_db.engine.connect() as connection:
        links = (await connection.execute(sa.text("SELECT * FROM agreement_variation_links"))).all()
        assert [tuple(r) for r in links] == [(2, 1)]

    await run_alembic(empty_db, "downgrade", "0028")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        # The value goes back to the value on award, as 0028 reads it.
        assert await connection.run_sync(variation_rows) == kept
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(NEW_TABLES) & set(tables)
    assert date.fromisoformat(str(kept[0][2])) == ENDS + timedelta(days=30)
