"""Migration 0027 (agreement details) on a database that already holds an agreement whose
reviews, price rises, payments and named people were written as words: every row stays,
the words move into the agreement's notes under their headings (nothing is lost), the new
tables take people, dates and payments, and going back down puts the words back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.integration.test_agreements_migration import record_agreement
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

DETAILS = ("agreement_people", "agreement_dates", "agreement_payments")
OLD_WORDS = {
    "review_points": "Every April",
    "price_uplifts": "1 April each year, by CPI",
    "payment_schedule": "Monthly in arrears",
    "council_people": "Priya Shah, contract manager",
    "provider_contacts": "Tom Okafor, service manager",
}


def write_old_words(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "UPDATE agreements SET review_points = :review_points, price_uplifts = "
            ":price_uplifts, payment_schedule = :payment_schedule, council_people = "
            ":council_people, provider_contacts = :provider_contacts WHERE id = 1"
        ),
        OLD_WORDS,
    )


def agreements(connection: Connection) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text("SELECT id, title, value_pence, starts_on, ends_on FROM agreements ORDER BY id")
        )
    ]


def record_details(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO agreement_people (id, agreement_id, position, side, role, person_id,"
            " organisation_id, name, email) VALUES (1, 1, 1, 'council', 'finance', NULL, NULL,"
            " 'Jo Bloggs', 'jo@preston.example')"
        )
    )
    connection.execute(
        sa.text(
            'INSERT INTO agreement_dates (id, agreement_id, kind, "on", yearly)'
            " VALUES (1, 1, 'review', '2026-06-01', TRUE)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO agreement_payments (id, agreement_id, due_on, amount_pence, payer,"
            " payee_organisation_id, invoice_received_on, created_at)"
            " VALUES (1, 1, '2026-04-30', 3000000000, 'council', 1, '2026-05-01',"
            " '2026-01-12 09:00:00')"
        )
    )


async def test_old_words_become_notes_and_the_details_tables_arrive_and_leave(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0026")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        await connection.run_sync(record_agreement)
        await connection.run_sync(write_old_words)
        before = await connection.run_sync(read_back)
        kept = await connection.run_sync(agreements)

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        assert await connection.run_sync(schema_diff) == []
        notes = (await connection.execute(sa.text("SELECT notes FROM agreements"))).scalar_one()
        for heading, words in (
            ("Reviews", "Every April"),
            ("Price rises", "1 April each year, by CPI"),
            ("Payments", "Monthly in arrears"),
            ("Named for the council", "Priya Shah, contract manager"),
            ("Named for the provider", "Tom Okafor, service manager"),
        ):
            assert f"{heading}: {words}" in notes
        columns = await connection.run_sync(
            lambda c: {column["name"] for column in sa.inspect(c).get_columns("agreements")}
        )
        assert not set(OLD_WORDS) & columns
        await connection.run_sync(record_details)
    async with empty_db.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT amount_pence, invoice_received_on FROM agreement_payments")
            )
        ).one()
        assert row[0] == 3_000_000_000 and str(row[1]) == "2026-05-01"

    await run_alembic(empty_db, "downgrade", "0026")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(agreements) == kept
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert not set(DETAILS) & set(tables)
        row = (
            await connection.execute(
                sa.text("SELECT review_points, council_people FROM agreements")
            )
        ).one()
        # The notes go back in the reviews column; the named people go back as lines.
        assert "Reviews: Every April" in row[0] and "Payments: Monthly in arrears" in row[0]
        assert row[1] == "Jo Bloggs, finance"
