"""Migrations and models agree, migrate cleanly both ways, and protect the audit log.

Each test here starts from an empty database on the backend of the run: a new SQLite
file, or a new PostgreSQL database made beside TEST_DATABASE_URL and dropped after.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import AuditEvent, Authority, Base
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_empty_database_to_head_matches_the_models(empty_db: Database) -> None:
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(tables) == set()

    await upgrade_to_head(empty_db.engine)

    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(tables) == {
            *Base.metadata.tables,
            "alembic_version",
        }
        diff = await connection.run_sync(schema_diff)
    assert diff == [], f"models and migrations disagree; a migration is missing:\n{diff}"


async def test_upgrading_twice_changes_nothing(empty_db: Database) -> None:
    await upgrade_to_head(empty_db.engine)
    now = datetime.now(UTC)
    async with empty_db.session() as session:
        session.add(Authority(name="Riverside Borough Council", slug="riverside", created_at=now))

    await upgrade_to_head(empty_db.engine)

    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []
    async with empty_db.session() as session:
        slugs = (await session.scalars(select(Authority.slug))).all()
    assert slugs == ["riverside"]


async def test_audit_events_refuse_update_and_delete(empty_db: Database) -> None:
    await upgrade_to_head(empty_db.engine)
    async with empty_db.session() as session:
        event = AuditEvent(
            at=datetime.now(UTC),
            action="form.submitted",
            object_type="form_response",
            object_id="1",
            details={"why": "test"},
        )
        session.add(event)
        await session.flush()
        event_id = event.id

    with pytest.raises(DBAPIError, match="append-only"):
        async with empty_db.session() as session:
            await session.execute(
                update(AuditEvent).where(AuditEvent.id == event_id).values(action="tampered")
            )
    with pytest.raises(DBAPIError, match="append-only"):
        async with empty_db.session() as session:
            await session.execute(delete(AuditEvent).where(AuditEvent.id == event_id))

    async with empty_db.session() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert actions == ["form.submitted"]

    # Appending is still allowed.
    async with empty_db.session() as session:
        session.add(
            AuditEvent(at=datetime.now(UTC), action="form.opened", object_type="form_response")
        )
    async with empty_db.engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM audit_events"))).scalar()
    assert count == 2


async def test_downgrade_to_base_then_upgrade_to_head(empty_db: Database) -> None:
    await upgrade_to_head(empty_db.engine)

    await run_alembic(empty_db, "downgrade", "base")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) is None
        assert await connection.run_sync(tables) <= {"alembic_version"}

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []

    # The audit trigger came back with the table.
    async with empty_db.session() as session:
        session.add(AuditEvent(at=datetime.now(UTC), action="x", object_type="y"))
    with pytest.raises(DBAPIError, match="append-only"):
        async with empty_db.session() as session:
            await session.execute(delete(AuditEvent))
