"""Migration 0008 turns free-text areas into ONS GSS codes, on SQLite and PostgreSQL: what
maps is converted, what does not is kept in a report for an admin, never guessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.services import Services
from storage.areas import unconverted_areas
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import AreaMigrationNote, Base
from tests.integration.test_cli import convene
from tests.support.areas import code, codes
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _populate_at_0007(database: Database) -> None:
    """Rows as Convene saved them before areas were codes (raw SQL: the 0007 schema)."""
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO authorities (id, name, slug, created_at) "
                "VALUES (1, 'Riverside Borough Council', 'riverside', :now)"
            ),
            {"now": NOW},
        )
        for org_id, slug in ((1, "one"), (2, "two")):
            await connection.execute(
                text(
                    "INSERT INTO organisations (id, name, slug, created_at, updated_at) "
                    "VALUES (:id, :slug, :slug, :now, :now)"
                ),
                {"id": org_id, "slug": slug, "now": NOW},
            )
        served = [
            (1, "Leeds"),
            (1, "north ward"),  # a made-up ward: no such council
            (1, "St Helens"),  # ONS writes "St. Helens"
            (2, "LEEDS"),
            (2, "leeds"),  # two spellings, one place: one row after
            (2, "Lancashire"),
        ]
        for org_id, value in served:
            await connection.execute(
                text("INSERT INTO organisation_areas_served VALUES (:org, :value)"),
                {"org": org_id, "value": value},
            )
        empty = json.dumps([])
        for engagement_id, area_text in ((1, "Leeds; Narnia, PR1 2"), (2, None)):
            await connection.execute(
                text(
                    "INSERT INTO engagements (id, authority_id, title, purpose, area_served, "
                    "funding_routes, closes_at, confidentiality, question_ids, must_answer, "
                    "own_questions, state, created_at) VALUES (:id, 1, 'Warm spaces', 'Warmth', "
                    ":area, :empty, :now, 'Private', :empty, :empty, :empty, 'draft', :now)"
                ),
                {"id": engagement_id, "area": area_text, "empty": empty, "now": NOW},
            )


async def _served(database: Database) -> dict[int, list[str]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT organisation_id, value FROM organisation_areas_served")
        )
        found: dict[int, list[str]] = {}
        for org_id, value in rows:
            found.setdefault(org_id, []).append(value)
    return {org_id: sorted(values) for org_id, values in found.items()}


async def _engagement_areas(database: Database, *, as_json: bool = True) -> dict[int, object]:
    """Each engagement's areas; SQLite hands JSON back as text, PostgreSQL as a list."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, area_served FROM engagements"))
        return {
            engagement_id: json.loads(value) if as_json and isinstance(value, str) else value
            for engagement_id, value in rows
        }


async def test_an_empty_database_gets_the_codes_schema(empty_db: Database) -> None:
    await upgrade_to_head(empty_db.engine)
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(schema_diff) == []
    async with empty_db.session() as session:
        assert await unconverted_areas(session) == []


async def test_free_text_areas_become_codes_and_the_rest_is_reported(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0007")
    await _populate_at_0007(empty_db)

    await run_alembic(empty_db, "upgrade", "0008")

    assert await _served(empty_db) == {
        1: sorted(codes("Leeds", "St. Helens")),
        2: sorted(codes("Leeds", "Lancashire")),
    }
    assert await _engagement_areas(empty_db) == {1: codes("Leeds", "Preston"), 2: []}
    async with empty_db.session() as session:
        notes = await unconverted_areas(session)
    assert [(n.table_name, n.row_id, n.original) for n in notes] == [
        ("engagements", 1, "Narnia"),
        ("organisation_areas_served", 1, "north ward"),
    ]
    assert all(n.reason for n in notes)

    # The rest of the chain runs on from here, and the schema matches the models.
    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []
    assert AreaMigrationNote.__tablename__ in Base.metadata.tables


async def test_downgrading_turns_codes_back_into_names(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0007")
    await _populate_at_0007(empty_db)
    await run_alembic(empty_db, "upgrade", "0008")

    await run_alembic(empty_db, "downgrade", "0007")

    assert await _served(empty_db) == {1: ["Leeds", "St. Helens"], 2: ["Lancashire", "Leeds"]}
    assert await _engagement_areas(empty_db, as_json=False) == {1: "Leeds, Preston", 2: None}
    assert code("Leeds") not in str(await _served(empty_db))


async def test_areas_report_lists_what_did_not_map(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    ran = await convene("areas-report", cwd=tmp_path, env={"DATABASE_URL": database_url})
    assert ran.code == 0, ran.err
    assert "Nothing to fix" in ran.out

    async with services.db.session() as session:
        session.add(
            AreaMigrationNote(
                table_name="organisation_areas_served",
                row_id=7,
                original="north ward",
                reason="no council, county or postcode by that name",
            )
        )
    ran = await convene("areas-report", cwd=tmp_path, env={"DATABASE_URL": database_url})
    assert ran.code == 0, ran.err
    assert "1 typed area(s) could not be matched" in ran.out
    assert "organisation_areas_served 7: 'north ward'" in ran.out
