"""Migration 0011 (opportunities) runs on an empty database and on one that already holds
a council, a provider and an engagement: the old rows keep what they had, the new tables
start empty and take an opportunity, and going back down drops only the new tables."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_TABLES = {
    "opportunities",
    "opportunity_lots",
    "opportunity_interest",
    "opportunity_amendments",
    "opportunity_announcements",
}


def populate(connection: Connection) -> None:
    """Rows as the 0010 schema holds them: a council, a provider and an engagement."""
    at = sa.column("created_at", UTCDateTime(timezone=True))
    connection.execute(
        sa.table("authorities", sa.column("id"), sa.column("name"), sa.column("slug"), at).insert(),
        [{"id": 1, "name": "Riverside Council", "slug": "riverside", "created_at": WHEN}],
    )
    connection.execute(
        sa.table(
            "organisations",
            sa.column("id"),
            sa.column("name"),
            sa.column("slug"),
            sa.column("created_at", UTCDateTime(timezone=True)),
            sa.column("updated_at", UTCDateTime(timezone=True)),
        ).insert(),
        [{"id": 1, "name": "Youth Trust", "slug": "ryt", "created_at": WHEN, "updated_at": WHEN}],
    )
    connection.execute(
        sa.table(
            "engagements",
            sa.column("id"),
            sa.column("authority_id"),
            sa.column("title"),
            sa.column("purpose"),
            sa.column("funding_routes", JSONType),
            sa.column("area_served", JSONType),
            sa.column("closes_at", UTCDateTime(timezone=True)),
            sa.column("confidentiality"),
            sa.column("question_ids", JSONType),
            sa.column("must_answer", JSONType),
            sa.column("own_questions", JSONType),
            sa.column("state"),
            sa.column("created_at", UTCDateTime(timezone=True)),
        ).insert(),
        [
            {
                "id": 7,
                "authority_id": 1,
                "title": "Youth work",
                "purpose": "Help.",
                "funding_routes": [],
                "area_served": ["E07000123"],
                "closes_at": WHEN,
                "confidentiality": "Promise.",
                "question_ids": [],
                "must_answer": [],
                "own_questions": [],
                "state": "open",
                "created_at": WHEN,
            }
        ],
    )


def read_back(connection: Connection) -> dict[str, object]:
    return {
        "authority": tuple(connection.execute(sa.text("SELECT id, name FROM authorities")).one()),
        "organisation": tuple(
            connection.execute(sa.text("SELECT id, name FROM organisations")).one()
        ),
        "engagement": tuple(
            connection.execute(sa.text("SELECT id, title, state FROM engagements")).one()
        ),
    }


def tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_empty_database_gets_the_opportunity_tables(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0011")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == "0011"
        assert await connection.run_sync(tables) >= NEW_TABLES


async def test_populated_database_keeps_its_rows_and_takes_an_opportunity(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0010")
    async with empty_db.engine.begin() as connection:
        assert not NEW_TABLES & await connection.run_sync(tables)
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "0011")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(read_back) == before
        for table in NEW_TABLES:
            count = (await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table
        opportunities = sa.table(
            "opportunities",
            sa.column("id"),
            sa.column("authority_id"),
            sa.column("title"),
            sa.column("purpose"),
            sa.column("service_areas", JSONType),
            sa.column("cpv_codes", JSONType),
            sa.column("area_served", JSONType),
            sa.column("submission_formats", JSONType),
            sa.column("notice_links", JSONType),
            sa.column("quality_weight"),
            sa.column("price_weight"),
            sa.column("social_value_weight"),
            sa.column("partners_wanted"),
            sa.column("state"),
            sa.column("created_at", UTCDateTime(timezone=True)),
            sa.column("updated_at", UTCDateTime(timezone=True)),
        )
        await connection.execute(
            opportunities.insert(),
            [
                {
                    "id": 3,
                    "authority_id": 1,
                    "title": "Youth clubs",
                    "purpose": "Safe places.",
                    "service_areas": ["children_young_people"],
                    "cpv_codes": ["85312000"],
                    "area_served": ["E07000123"],
                    "submission_formats": ["writing", "video"],
                    "notice_links": [],
                    "quality_weight": 70,
                    "price_weight": 20,
                    "social_value_weight": 10,
                    "partners_wanted": False,
                    "state": "draft",
                    "created_at": WHEN,
                    "updated_at": WHEN,
                }
            ],
        )
        stored = (
            await connection.execute(
                sa.select(opportunities.c.area_served, opportunities.c.cpv_codes)
            )
        ).one()
        assert tuple(stored) == (["E07000123"], ["85312000"])

    await run_alembic(empty_db, "downgrade", "0010")
    async with empty_db.engine.connect() as connection:
        assert not NEW_TABLES & await connection.run_sync(tables)
        assert await connection.run_sync(read_back) == before

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
