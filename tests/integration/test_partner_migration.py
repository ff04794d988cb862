"""Migration 0016 (partners and consortia) on a database that already holds a council, two
providers and an open opportunity: every organisation keeps its row and is not a CVS until
someone says so, the new tables start empty, an introduction stores its pair in order, and
going back down drops only what 0016 added."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_TABLES = {"partner_posts", "partner_introductions", "consortia", "consortium_members"}


def created_at() -> sa.ColumnClause[object]:
    return sa.column("created_at", UTCDateTime(timezone=True))


def populate(connection: Connection) -> None:
    """Rows as the 0015 schema holds them."""
    connection.execute(
        sa.table("authorities", sa.column("id"), sa.column("name"), sa.column("slug"), created_at())
        .insert()
        .values(id=1, name="Riverside Council", slug="riverside", created_at=WHEN)
    )
    organisations = sa.table(
        "organisations",
        sa.column("id"),
        sa.column("name"),
        sa.column("slug"),
        sa.column("updated_at", UTCDateTime(timezone=True)),
        created_at(),
    )
    connection.execute(
        organisations.insert(),
        [
            {"id": 1, "name": "Youth Trust", "slug": "yt", "created_at": WHEN, "updated_at": WHEN},
            {"id": 2, "name": "Asha", "slug": "asha", "created_at": WHEN, "updated_at": WHEN},
        ],
    )
    # Rows that cascade from an organisation: a rebuilt `organisations` table must not take
    # them with it (SQLite drops the old table with foreign keys on).
    connection.execute(
        sa.table("organisation_service_areas", sa.column("organisation_id"), sa.column("value"))
        .insert()
        .values(organisation_id=1, value="children_young_people")
    )
    json_columns = ("service_areas", "cpv_codes", "area_served", "submission_formats")
    connection.execute(
        sa.table(
            "opportunities",
            *(sa.column(c) for c in ("id", "authority_id", "title", "purpose", "state")),
            *(sa.column(c, JSONType) for c in (*json_columns, "notice_links")),
            *(sa.column(c) for c in ("quality_weight", "price_weight", "social_value_weight")),
            sa.column("partners_wanted"),
            sa.column("updated_at", UTCDateTime(timezone=True)),
            created_at(),
        ).insert(),
        [
            {
                "id": 3,
                "authority_id": 1,
                "title": "Youth clubs",
                "purpose": "Safe places.",
                "state": "open",
                **{c: [] for c in (*json_columns, "notice_links")},
                "quality_weight": 70,
                "price_weight": 20,
                "social_value_weight": 10,
                "partners_wanted": True,
                "created_at": WHEN,
                "updated_at": WHEN,
            }
        ],
    )


def read_back(connection: Connection) -> list[tuple[object, ...]]:
    rows = connection.execute(sa.text("SELECT id, name FROM organisations ORDER BY id"))
    areas = connection.execute(
        sa.text("SELECT organisation_id, value FROM organisation_service_areas")
    )
    return [tuple(row) for row in rows] + [tuple(row) for row in areas]


def tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


INTRODUCTIONS = sa.table(
    "partner_introductions",
    sa.column("opportunity_id"),
    sa.column("first_organisation_id"),
    sa.column("second_organisation_id"),
    sa.column("state"),
    created_at(),
)


async def test_populated_database_keeps_its_rows_and_takes_partners(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0015")
    async with empty_db.engine.begin() as connection:
        assert not NEW_TABLES & await connection.run_sync(tables)
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "0016")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(read_back) == before
        flags = await connection.execute(sa.text("SELECT is_infrastructure FROM organisations"))
        assert [bool(f) for (f,) in flags] == [False, False]
        for table in NEW_TABLES:
            count = (await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table
        pair = {"opportunity_id": 3, "state": "asked", "created_at": WHEN}
        await connection.execute(
            INTRODUCTIONS.insert().values(first_organisation_id=1, second_organisation_id=2, **pair)
        )
    with pytest.raises(IntegrityError):  # a pair is stored lowest id first, once
        async with empty_db.engine.begin() as connection:
            await connection.execute(
                INTRODUCTIONS.insert().values(
                    first_organisation_id=2, second_organisation_id=1, **pair
                )
            )

    await run_alembic(empty_db, "downgrade", "0015")
    async with empty_db.engine.connect() as connection:
        assert not NEW_TABLES & await connection.run_sync(tables)
        assert await connection.run_sync(read_back) == before

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
