"""Migration 0010 on a populated database: "CIC number" goes, and nothing typed is lost.

A CIC's only number is its Companies House number. A stored CIC number moves into an empty
company number; where the company number is already there and differs, the CIC number is
kept in a note on the organisation and named in the migration's log. Rows that hang off an
organisation (its service areas here) survive: on SQLite a table rebuild would delete them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.support.migrations import run_alembic

NOW = datetime(2026, 3, 1, tzinfo=UTC)


#: slug -> (company number, CIC number) as stored before 0010.
BEFORE = {
    "only-cic": (None, "12345678"),
    "blank-company": ("  ", "SC012345"),
    "same-number": ("SC012345", "sc 12345"),
    "different": ("01234567", "C123"),
    "no-cic": ("07654321", None),
    "charity": (None, None),
}


async def populate(database: Database) -> None:
    async with database.engine.begin() as conn:
        for slug, (company, cic) in BEFORE.items():
            await conn.execute(
                sa.text(
                    "INSERT INTO organisations (name, slug, company_number, cic_number, "
                    "created_at, updated_at) VALUES (:name, :slug, :company, :cic, :at, :at)"
                ),
                {"name": slug.title(), "slug": slug, "company": company, "cic": cic, "at": NOW},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO organisation_service_areas (organisation_id, value) "
                    "SELECT id, 'food' FROM organisations WHERE slug = :slug"
                ),
                {"slug": slug},
            )


async def organisations(database: Database) -> dict[str, dict[str, object]]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT slug, company_number, registration_note, oscr_number, ppon, "
                "public_service_mutual FROM organisations"
            )
        )
        return {row.slug: dict(row._mapping) for row in rows}


async def test_cic_numbers_move_or_are_kept_in_a_note(
    empty_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await run_alembic(empty_db, "upgrade", "0009")
    await populate(empty_db)

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        await run_alembic(empty_db, "upgrade", "0010")

    after = await organisations(empty_db)
    assert {slug: row["company_number"] for slug, row in after.items()} == {
        "only-cic": "12345678",  # moved into the empty company number
        "blank-company": "SC012345",  # a blank company number counts as empty
        "same-number": "SC012345",  # the same number typed twice: nothing to keep
        "different": "01234567",  # the company number is not overwritten
        "no-cic": "07654321",
        "charity": None,
    }
    notes = {slug: row["registration_note"] for slug, row in after.items()}
    assert notes.pop("different") == (
        "You gave a CIC number, C123, as well as your company number. A CIC's only number "
        "is its company number, so we no longer keep a separate one. Check your company "
        "number is right."
    )
    assert set(notes.values()) == {None}
    # The new columns start empty: nobody is a mutual until they say so.
    assert {(r["oscr_number"], r["ppon"], r["public_service_mutual"]) for r in after.values()} == {
        (None, None, None)
    }
    # The migration says which CIC numbers went into a note, and only those.
    logged = [r.getMessage() for r in caplog.records if "CIC number" in r.getMessage()]
    assert any("(different)" in line and "'C123'" in line for line in logged), logged
    assert not any("only-cic" in line or "same-number" in line for line in logged), logged
    # Nothing that hangs off an organisation was lost on the way.
    async with empty_db.engine.connect() as conn:
        areas = await conn.scalar(sa.text("SELECT COUNT(*) FROM organisation_service_areas"))
        columns = {c["name"] for c in await conn.run_sync(_columns)}
    assert areas == len(BEFORE)
    assert "cic_number" not in columns
    assert {"oscr_number", "ccni_number", "mutuals_number", "ppon"} <= columns
    assert {"public_service_mutual", "supported_employment", "registration_note"} <= columns


def _columns(connection: Connection) -> list[dict[str, object]]:
    return list(sa.inspect(connection).get_columns("organisations"))  # type: ignore[arg-type]


async def test_down_and_up_again_keeps_the_organisations(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0009")
    await populate(empty_db)
    await run_alembic(empty_db, "upgrade", "0010")
    await run_alembic(empty_db, "downgrade", "0009")
    async with empty_db.engine.connect() as conn:
        kept = await conn.execute(sa.text("SELECT slug, company_number FROM organisations"))
        rows = {slug: company for slug, company in kept.all()}
        areas = await conn.scalar(sa.text("SELECT COUNT(*) FROM organisation_service_areas"))
    assert rows["only-cic"] == "12345678", "a moved number stays where it belongs"
    assert areas == len(BEFORE)
    await run_alembic(empty_db, "upgrade", "head")
    assert set(await organisations(empty_db)) == set(BEFORE)
