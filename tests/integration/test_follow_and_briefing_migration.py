"""Migrations 0019 (followers) and 0020 (briefings) on a database that already holds an
open opportunity with a lot, interest and announcements: everything keeps its rows, the
opportunity has no briefing and nobody follows it, and going back down keeps them too
(the briefing columns are added and dropped in place, never by rebuilding `opportunities`,
whose children would go with it)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHILDREN = ("opportunity_lots", "opportunity_interest")


def _at(name: str) -> sa.ColumnClause[object]:
    return sa.column(name, UTCDateTime(timezone=True))


def populate(connection: Connection) -> None:
    """Rows as the 0018 schema holds them."""
    connection.execute(
        sa.table(
            "authorities", sa.column("id"), sa.column("name"), sa.column("slug"), _at("created_at")
        )
        .insert()
        .values(id=1, name="Riverside Council", slug="riverside", created_at=WHEN)
    )
    connection.execute(
        sa.table(
            "organisations",
            sa.column("id"),
            sa.column("name"),
            sa.column("slug"),
            _at("created_at"),
            _at("updated_at"),
        )
        .insert()
        .values(id=1, name="Youth Trust", slug="yt", created_at=WHEN, updated_at=WHEN)
    )
    json_columns = (
        "service_areas",
        "cpv_codes",
        "area_served",
        "submission_formats",
        "notice_links",
    )
    connection.execute(
        sa.table(
            "opportunities",
            *(sa.column(c) for c in ("id", "authority_id", "title", "purpose", "state")),
            *(sa.column(c, JSONType) for c in json_columns),
            *(sa.column(c) for c in ("quality_weight", "price_weight", "social_value_weight")),
            sa.column("partners_wanted"),
            _at("created_at"),
            _at("updated_at"),
            _at("submission_deadline"),
        )
        .insert()
        .values(
            id=7,
            authority_id=1,
            title="Youth clubs",
            purpose="Safe places.",
            state="open",
            **{c: [] for c in json_columns},
            quality_weight=70,
            price_weight=20,
            social_value_weight=10,
            partners_wanted=False,
            created_at=WHEN,
            updated_at=WHEN,
            submission_deadline=WHEN,
        )
    )
    connection.execute(
        sa.table(
            "opportunity_lots",
            sa.column("id"),
            sa.column("opportunity_id"),
            sa.column("number"),
            sa.column("title"),
            sa.column("area_served", JSONType),
        )
        .insert()
        .values(id=1, opportunity_id=7, number=1, title="North", area_served=[])
    )
    connection.execute(
        sa.table(
            "opportunity_interest",
            sa.column("id"),
            sa.column("opportunity_id"),
            sa.column("organisation_id"),
            sa.column("state"),
            _at("registered_at"),
        )
        .insert()
        .values(id=1, opportunity_id=7, organisation_id=1, state="interested", registered_at=WHEN)
    )


def read_back(connection: Connection) -> dict[str, list[tuple[object, ...]]]:
    found = {
        table: [
            tuple(r) for r in connection.execute(sa.text(f"SELECT id FROM {table} ORDER BY id"))
        ]
        for table in (*CHILDREN, "opportunities")
    }
    found["titles"] = [
        tuple(r) for r in connection.execute(sa.text("SELECT id, title, state FROM opportunities"))
    ]
    return found


async def test_followers_and_briefings_arrive_and_leave_without_losing_a_row(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0018")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)
    assert before["opportunity_lots"] == [(1,)] and before["opportunity_interest"] == [(1,)]

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        briefing = (
            await connection.execute(
                sa.text("SELECT briefing_at, briefing_where FROM opportunities")
            )
        ).one()
        assert tuple(briefing) == (None, None)
        followers = await connection.execute(sa.text("SELECT count(*) FROM opportunity_followers"))
        assert followers.scalar() == 0
        assert await connection.run_sync(schema_diff) == []

    await run_alembic(empty_db, "downgrade", "0018")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        columns = {
            c["name"]
            for c in await connection.run_sync(lambda c: sa.inspect(c).get_columns("opportunities"))
        }
        assert "briefing_at" not in columns
        assert "opportunity_followers" not in await connection.run_sync(
            lambda c: sa.inspect(c).get_table_names()
        )
