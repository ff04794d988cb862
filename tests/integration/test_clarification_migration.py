"""Migration 0015 (opportunity clarifications) on a database that already holds an
engagement with a published question and a private one's worth of columns to come, and an
opportunity with a lot: the engagement's questions keep everything (and went to everyone),
the opportunity and its lot are untouched (no table copy cascades into them), a question
can now be about an opportunity but never about both or neither, and going back down keeps
the engagement's questions and drops only the opportunity's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.integration.test_opportunity_migration import populate as populate_0010
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AT = UTCDateTime(timezone=True)


def populate(connection: Connection) -> None:
    """A council, a provider and engagement 7 (from the 0011 test), a published question
    on the engagement, and opportunity 3 with one lot."""
    populate_0010(connection)
    connection.execute(
        sa.table(
            "clarifications",
            sa.column("id"),
            sa.column("engagement_id"),
            sa.column("kind"),
            sa.column("question"),
            sa.column("original_question"),
            sa.column("asked_for"),
            sa.column("answer"),
            sa.column("asked_at", AT),
            sa.column("published_at", AT),
        ).insert(),
        [
            {
                "id": 11,
                "engagement_id": 7,
                "kind": "question",
                "question": "Can two groups bid together?",
                "original_question": "Can we and Asha bid together?",
                "asked_for": 1,
                "answer": "Yes.",
                "asked_at": WHEN,
                "published_at": WHEN,
            }
        ],
    )
    connection.execute(
        sa.table(
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
            sa.column("created_at", AT),
            sa.column("updated_at", AT),
        ).insert(),
        [
            {
                "id": 3,
                "authority_id": 1,
                "title": "Youth clubs",
                "purpose": "Safe places.",
                "service_areas": [],
                "cpv_codes": [],
                "area_served": [],
                "submission_formats": ["writing"],
                "notice_links": [],
                "quality_weight": 70,
                "price_weight": 20,
                "social_value_weight": 10,
                "partners_wanted": False,
                "state": "open",
                "created_at": WHEN,
                "updated_at": WHEN,
            }
        ],
    )
    connection.execute(
        sa.table(
            "opportunity_lots",
            sa.column("id"),
            sa.column("opportunity_id"),
            sa.column("number"),
            sa.column("title"),
            sa.column("area_served", JSONType),
        ).insert(),
        [{"id": 5, "opportunity_id": 3, "number": 1, "title": "North", "area_served": []}],
    )


def read_back(connection: Connection) -> dict[str, object]:
    return {
        "question": tuple(
            connection.execute(
                sa.text(
                    "SELECT id, engagement_id, question, original_question, asked_for, answer "
                    "FROM clarifications WHERE engagement_id IS NOT NULL"
                )
            ).one()
        ),
        "opportunity": tuple(
            connection.execute(sa.text("SELECT id, title, state FROM opportunities")).one()
        ),
        "lots": connection.execute(sa.text("SELECT id, title FROM opportunity_lots")).all(),
    }


def _add_question(
    connection: Connection, engagement_id: int | None, opportunity: int | None
) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO clarifications (engagement_id, opportunity_id, kind, question) "
            "VALUES (:e, :o, 'question', 'Is there a briefing?')"
        ),
        {"e": engagement_id, "o": opportunity},
    )


async def test_populated_database_keeps_its_questions_and_takes_an_opportunitys(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0014")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "0015")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(read_back) == before
        audience = await connection.execute(
            sa.text("SELECT audience, private_reason FROM clarifications WHERE id = 11")
        )
        assert tuple(audience.one()) == ("everyone", None)
        engagement_of = await connection.execute(
            sa.text("SELECT engagement_id FROM opportunities WHERE id = 3")
        )
        assert engagement_of.scalar() is None
        await connection.run_sync(_add_question, None, 3)
        await connection.execute(sa.text("UPDATE opportunities SET engagement_id = 7"))
    for both_or_neither in ((7, 3), (None, None)):
        with pytest.raises(IntegrityError):
            async with empty_db.engine.begin() as connection:
                await connection.run_sync(_add_question, *both_or_neither)

    await run_alembic(empty_db, "downgrade", "0014")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(read_back) == before
        count = await connection.execute(sa.text("SELECT count(*) FROM clarifications"))
        assert count.scalar() == 1

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
