"""Migration 0026 (check-in conversations) on a database that already holds an agreement
with an outcomes framework, a monitoring plan and a check-in: every row is kept, the plan
gains an empty "targets", a reply, a call offer, an indicator value and an indicator
opening go in against them, and going back down removes only what 0026 added."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.integration.test_monitoring_migration import record_monitoring
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

ADDED = ("checkin_messages", "checkin_calls", "indicator_values", "indicator_opens")


def record_indicator(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO outcome_items (id, agreement_id, kind, position, text, created_at,"
            " updated_at) VALUES (1, 1, 'outcome', 1, 'Young people feel safer',"
            " '2026-01-12 09:00:00', '2026-01-12 09:00:00')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO outcome_items (id, agreement_id, kind, outcome_id, position, text,"
            " created_at, updated_at) VALUES (2, 1, 'indicator', 1, 1, 'They say they feel safe',"
            " '2026-01-12 09:00:00', '2026-01-12 09:00:00')"
        )
    )


def monitoring_rows(connection: Connection) -> list[tuple[object, ...]]:
    return [
        *(tuple(r) for r in connection.execute(sa.text("SELECT id, method FROM monitoring_plans"))),
        *(
            tuple(r)
            for r in connection.execute(sa.text("SELECT id, due_on FROM monitoring_checkins"))
        ),
        *(tuple(r) for r in connection.execute(sa.text("SELECT id, text FROM outcome_items"))),
    ]


def record_conversation(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO checkin_messages (checkin_id, side, text, sent_at)"
            " VALUES (1, 'team', 'Could we hear more?', '2026-04-15 09:00:00')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO checkin_calls (checkin_id, offered_at, options, state)"
            " VALUES (1, '2026-04-15 09:00:00', '[\"2026-04-20T10:00:00+01:00\"]', 'offered')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO indicator_values (checkin_id, item_id, value, recorded_at)"
            " VALUES (1, 2, '8 out of 10', '2026-04-15 09:00:00')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO indicator_opens (item_id, opened_at) VALUES (2, '2026-04-16 09:00:00')"
        )
    )


async def test_conversations_arrive_and_leave_without_losing_a_row(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0025")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(record_monitoring)
        await connection.run_sync(record_indicator)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(monitoring_rows)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(monitoring_rows) == kept
        assert await connection.run_sync(schema_diff) == []
        targets = (
            await connection.execute(sa.text("SELECT targets FROM monitoring_plans"))
        ).scalar_one()
        assert targets is None
        await connection.run_sync(record_conversation)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT m.text, v.value, c.state FROM checkin_messages m"
                    " JOIN indicator_values v ON v.checkin_id = m.checkin_id"
                    " JOIN checkin_calls c ON c.checkin_id = m.checkin_id"
                )
            )
        ).one()
        assert tuple(row) == ("Could we hear more?", "8 out of 10", "offered")

    await run_alembic(empty_db, "downgrade", "0025")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(monitoring_rows) == kept
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(ADDED) & set(tables)
        columns = await connection.run_sync(
            lambda c: [col["name"] for col in sa.inspect(c).get_columns("monitoring_plans")]
        )
        assert "targets" not in columns
