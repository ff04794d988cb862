"""Test databases: SQLite files by default, PostgreSQL when TEST_DATABASE_URL says so.

A migrated template is made once per test session; each test gets a fresh copy
(SQLite: a file copy; PostgreSQL: TRUNCATE of every table), so tests never see
each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, normalise_url
from storage.migrate import upgrade_to_head
from storage.models import Base


def configured_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return normalise_url(url) if url else None


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


async def create_postgres_database(base_url: str) -> str:
    """A new empty database beside the configured one, so runs never collide."""
    url = make_url(base_url)
    name = f"convene_t_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(base_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_async_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade_to_head(database.engine)
    finally:
        await database.dispose()


async def reset_postgres(url: str) -> None:
    database = Database(url)
    try:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
