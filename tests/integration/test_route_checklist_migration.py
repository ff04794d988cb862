"""Migration 0014 (routes and checklists) on a database that already holds opportunities:
the setup form's old route words become route keys (or empty, where they named no one
route), the new tables start empty, money columns take £30m in pence (more than 32 bits
hold, which PostgreSQL refused before), and going back down restores the old words."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_TABLES = {"opportunity_routes", "opportunity_checklist_steps"}
THIRTY_MILLION = 3_000_000_000  # pence
OLD_WORDS = {
    1: "contract",
    2: "light_touch_contract",
    3: "reserved_contract",
    4: "not_decided",
    5: "grant",
    6: "framework",
    7: None,
}
MAPPED = {
    1: "standard_contract",
    2: "light_touch",
    3: None,
    4: None,
    5: "grant",
    6: "framework_call_off",
    7: None,
}

OPPORTUNITIES = sa.table(
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
    sa.column("route"),
    sa.column("value_min_pence"),
    sa.column("value_max_pence"),
    sa.column("created_at", UTCDateTime(timezone=True)),
    sa.column("updated_at", UTCDateTime(timezone=True)),
)
LOTS = sa.table(
    "opportunity_lots",
    sa.column("id"),
    sa.column("opportunity_id"),
    sa.column("number"),
    sa.column("title"),
    sa.column("value_min_pence"),
    sa.column("value_max_pence"),
    sa.column("area_served", JSONType),
)


def populate(connection: Connection) -> None:
    """A council and opportunities as the 0013 schema holds them, one per old route word."""
    connection.execute(
        sa.table(
            "authorities",
            sa.column("id"),
            sa.column("name"),
            sa.column("slug"),
            sa.column("created_at", UTCDateTime(timezone=True)),
        ).insert(),
        [{"id": 1, "name": "Riverside Council", "slug": "riverside", "created_at": WHEN}],
    )
    connection.execute(
        OPPORTUNITIES.insert(),
        [
            {
                "id": n,
                "authority_id": 1,
                "title": f"Opportunity {n}",
                "purpose": "Help.",
                "service_areas": ["children_young_people"],
                "cpv_codes": [],
                "area_served": ["E07000123"],
                "submission_formats": ["writing"],
                "notice_links": [],
                "quality_weight": 70,
                "price_weight": 20,
                "social_value_weight": 10,
                "partners_wanted": False,
                "state": "draft",
                "route": word,
                "value_min_pence": 5_000_000,
                "value_max_pence": 8_000_000,
                "created_at": WHEN,
                "updated_at": WHEN,
            }
            for n, word in OLD_WORDS.items()
        ],
    )
    connection.execute(
        LOTS.insert(),
        [
            {
                "id": 1,
                "opportunity_id": 1,
                "number": 1,
                "title": "North",
                "value_min_pence": 2_000_000,
                "value_max_pence": 3_000_000,
                "area_served": [],
            }
        ],
    )


def routes(connection: Connection) -> dict[int, str | None]:
    rows = connection.execute(sa.select(OPPORTUNITIES.c.id, OPPORTUNITIES.c.route))
    return {row.id: row.route for row in rows}


def values(connection: Connection) -> list[tuple[int, int]]:
    found = connection.execute(
        sa.select(OPPORTUNITIES.c.value_min_pence, OPPORTUNITIES.c.value_max_pence)
        .order_by(OPPORTUNITIES.c.id)
        .limit(1)
    ).one()
    lot = connection.execute(sa.select(LOTS.c.value_min_pence, LOTS.c.value_max_pence)).one()
    return [tuple(found), tuple(lot)]


def tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def money_types(connection: Connection) -> set[str]:
    inspector = sa.inspect(connection)
    return {
        str(column["type"])
        for table in ("opportunities", "opportunity_lots")
        for column in inspector.get_columns(table)
        if column["name"] in ("value_min_pence", "value_max_pence")
    }


async def test_old_routes_become_route_keys_and_money_takes_thirty_million_pounds(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0013")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        assert empty_db.engine.dialect.name == "sqlite" or await connection.run_sync(
            money_types
        ) == {"INTEGER"}

    await run_alembic(empty_db, "upgrade", "0014")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(current_revision) == "0014"
        assert await connection.run_sync(routes) == MAPPED
        assert await connection.run_sync(tables) >= NEW_TABLES
        for table in NEW_TABLES:
            count = (await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table
        # The old values are kept, and £30m in pence now fits.
        assert await connection.run_sync(values) == [(5_000_000, 8_000_000), (2_000_000, 3_000_000)]
        if empty_db.engine.dialect.name != "sqlite":
            assert await connection.run_sync(money_types) == {"BIGINT"}
        await connection.execute(
            OPPORTUNITIES.update()
            .where(OPPORTUNITIES.c.id == 1)
            .values(value_min_pence=THIRTY_MILLION - 1, value_max_pence=THIRTY_MILLION)
        )
        await connection.execute(
            LOTS.update().values(value_min_pence=THIRTY_MILLION - 1, value_max_pence=THIRTY_MILLION)
        )
        assert await connection.run_sync(values) == [
            (THIRTY_MILLION - 1, THIRTY_MILLION),
            (THIRTY_MILLION - 1, THIRTY_MILLION),
        ]
        # Back to values a 32-bit column holds, so the way down can be tried.
        await connection.execute(
            OPPORTUNITIES.update().values(value_min_pence=5_000_000, value_max_pence=8_000_000)
        )
        await connection.execute(
            LOTS.update().values(value_min_pence=2_000_000, value_max_pence=3_000_000)
        )

    await run_alembic(empty_db, "downgrade", "0013")
    async with empty_db.engine.connect() as connection:
        assert not NEW_TABLES & await connection.run_sync(tables)
        # Words that named one route come back; the two that named none stay empty.
        assert await connection.run_sync(routes) == {
            n: (None if word in ("reserved_contract", "not_decided") else word)
            for n, word in OLD_WORDS.items()
        }

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []
