"""Test databases: SQLite files by default, PostgreSQL when TEST_DATABASE_URL says so.

Two templates are made once per test session (per xdist worker): one migrated and empty,
one migrated with the demo council loaded. Each test gets a fresh copy of one: on SQLite a
file copy, on PostgreSQL `CREATE DATABASE ... TEMPLATE` (a tenth of a second, where
emptying every table and loading the demo again took two), dropped after the test. Tests
never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
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


async def clone_postgres(template_url: str) -> str:
    """A new database copied from `template_url` (which must have no open connections)."""
    url = make_url(template_url)
    name = f"convene_t_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for attempt in range(50):
                try:
                    await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
                    break
                except DBAPIError as exc:
                    # A connection that was just closed may not have left the server yet.
                    if "being accessed by other users" not in str(exc) or attempt == 49:
                        raise
                    await asyncio.sleep(0.1)
    finally:
        await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Backend:
    """This session's templates: `kind` is "sqlite" or "postgresql"; `empty` and `demo` are
    SQLite file paths or PostgreSQL urls. `fresh()` gives a test its own copy of one."""

    kind: str
    empty: str
    demo: str
    base: str | None = None  # the configured PostgreSQL url, where new databases are made

    @property
    def on_postgres(self) -> bool:
        return self.kind == "postgresql"

    async def fresh(self, folder: Path, *, demo: bool = True, name: str = "convene.db") -> str:
        """A database of its own: migrated, with the demo council unless `demo` is False."""
        template = self.demo if demo else self.empty
        if self.on_postgres:
            return await clone_postgres(template)
        return copy_sqlite(Path(template), folder / name)

    async def discard(self, url: str) -> None:
        """Drop a PostgreSQL copy made by `fresh()` (a SQLite copy goes with its folder)."""
        if self.on_postgres:
            assert self.base is not None
            await drop_postgres_database(self.base, url)


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
