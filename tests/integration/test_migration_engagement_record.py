"""Migration 0009 (the engagement record corrections) runs on an empty database and on one
that already holds engagements, questions and private conversations: every old row keeps
what it had, the new columns start empty, and going back down keeps the old data too."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handlers.engagements.setup import DEFAULT_CONFIDENTIALITY
from storage.db import Database
from storage.types import JSONType, UTCDateTime
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD_DEFAULT = (
    "What you tell us stays between your organisation and our commissioning team. We never "
    "share one provider's ideas, costs or answers with another. Questions asked in the open "
    "are answered for everyone, without saying who asked."
)


def _table(name: str, *columns: sa.Column[object] | sa.ColumnClause[object]) -> sa.TableClause:
    return sa.table(name, *columns)  # type: ignore[arg-type]


def populate(connection: Connection) -> None:
    """Rows as the 0008 schema holds them: an engagement, a question, a private talk."""

    def at() -> sa.ColumnClause[object]:
        return sa.column("created_at", UTCDateTime(timezone=True))

    connection.execute(
        _table("authorities", sa.column("id"), sa.column("name"), sa.column("slug"), at()).insert(),
        [{"id": 1, "name": "Riverside Council", "slug": "riverside", "created_at": WHEN}],
    )
    connection.execute(
        _table(
            "organisations",
            sa.column("id"),
            sa.column("name"),
            sa.column("slug"),
            at(),
            sa.column("updated_at", UTCDateTime(timezone=True)),
        ).insert(),
        [
            {
                "id": 1,
                "name": "Riverside Youth Trust",
                "slug": "ryt",
                "created_at": WHEN,
                "updated_at": WHEN,
            }
        ],
    )
    connection.execute(
        _table(
            "engagements",
            sa.column("id"),
            sa.column("authority_id"),
            sa.column("title"),
            sa.column("purpose"),
            sa.column("funding_routes", JSONType),
            # A JSON list of ONS codes since 0008 (empty: everywhere).
            sa.column("area_served", JSONType),
            sa.column("closes_at", UTCDateTime(timezone=True)),
            sa.column("confidentiality"),
            sa.column("question_ids", JSONType),
            sa.column("must_answer", JSONType),
            sa.column("own_questions", JSONType),
            sa.column("state"),
            at(),
        ).insert(),
        [
            {
                "id": 7,
                "authority_id": 1,
                "title": "Youth work",
                "purpose": "Help.",
                "funding_routes": [],
                "area_served": [],
                "closes_at": WHEN,
                "confidentiality": "Old promise.",
                "question_ids": [],
                "must_answer": [],
                "own_questions": [],
                "state": "open",
                "created_at": WHEN,
            },
            *(
                {
                    "id": number,
                    "authority_id": 1,
                    "title": f"Old default, {state}",
                    "purpose": "Help.",
                    "funding_routes": [],
                    "area_served": [],
                    "closes_at": WHEN,
                    "confidentiality": OLD_DEFAULT,
                    "question_ids": [],
                    "must_answer": [],
                    "own_questions": [],
                    "state": state,
                    "created_at": WHEN,
                }
                for number, state in ((8, "draft"), (9, "open"))
            ),
        ],
    )
    connection.execute(
        _table(
            "clarifications",
            sa.column("id"),
            sa.column("engagement_id"),
            sa.column("kind"),
            sa.column("question"),
        ).insert(),
        [{"id": 3, "engagement_id": 7, "kind": "question", "question": "As asked?"}],
    )
    connection.execute(
        _table(
            "meeting_requests",
            sa.column("id"),
            sa.column("engagement_id"),
            sa.column("organisation_id"),
            sa.column("state"),
            sa.column("proposed", JSONType),
            at(),
        ).insert(),
        [
            {
                "id": 5,
                "engagement_id": 7,
                "organisation_id": 1,
                "state": "agreed",
                "proposed": [],
                "created_at": WHEN,
            }
        ],
    )


def read_back(connection: Connection) -> dict[str, object]:
    return {
        "engagement": connection.execute(
            sa.text("SELECT title, confidentiality FROM engagements WHERE id = 7")
        ).one(),
        "question": connection.execute(
            sa.text("SELECT question FROM clarifications WHERE id = 3")
        ).scalar_one(),
        "meeting": connection.execute(
            sa.text("SELECT state FROM meeting_requests WHERE id = 5")
        ).scalar_one(),
    }


async def test_upgrade_keeps_existing_rows_and_starts_new_columns_empty(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0008")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "0009")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == "0009"
        assert await connection.run_sync(read_back) == before
        new = (
            await connection.execute(
                sa.text(
                    "SELECT procurement_reference, above_threshold, intended_route "
                    "FROM engagements WHERE id = 7"
                )
            )
        ).one()
        assert tuple(new) == (None, None, None)
        assert (
            await connection.execute(
                sa.text("SELECT original_question FROM clarifications WHERE id = 3")
            )
        ).scalar_one() is None
        notes = (
            await connection.execute(
                sa.text("SELECT notes, outcome, notes_by, notes_at FROM meeting_requests")
            )
        ).one()
        assert tuple(notes) == (None, None, None, None)
        assert (
            await connection.execute(sa.text("SELECT count(*) FROM conflict_declarations"))
        ).scalar_one() == 0
        # A draft with the old untrue default gets the honest one; what providers were
        # already promised in a published engagement stays as it was.
        promises = dict(
            (await connection.execute(sa.text("SELECT id, confidentiality FROM engagements"))).all()
        )
        assert promises == {7: "Old promise.", 8: DEFAULT_CONFIDENTIALITY, 9: OLD_DEFAULT}

    await run_alembic(empty_db, "downgrade", "0008")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(read_back) == before
        assert "conflict_declarations" not in await connection.run_sync(
            lambda c: sa.inspect(c).get_table_names()
        )

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == []
