"""Shared fixtures: a fresh database per test, the real app on loopback, a web user.

Set TEST_DATABASE_URL to run everything on PostgreSQL (CI does both). With
CONVENE_REQUIRE_POSTGRES=1 an unreachable PostgreSQL fails the run instead of
skipping the PostgreSQL-only tests.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.app import build_app, build_services, prepare
from bot.services import Services
from bot.settings import load_settings
from storage.db import Database
from tests.support import databases
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp, start_app
from tests.support.web import WebUser

# Property tests check what is true, never how fast: hypothesis's default 200 ms deadline per
# example is a timed assertion that fails on a loaded 2-core CI machine, so it is off.
hypothesis_settings.register_profile(
    "convene", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("convene")

logging.getLogger("apscheduler").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def backend() -> Iterator[tuple[str, str | None]]:
    """('sqlite', template file) or ('postgresql', database url): migrated once per session."""
    configured = databases.configured_url()
    if configured and databases.is_postgres(configured):
        try:
            url = asyncio.run(databases.create_postgres_database(configured))
        except Exception as exc:
            pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
        asyncio.run(databases.migrate(url))
        yield ("postgresql", url)
        asyncio.run(databases.drop_postgres_database(configured, url))
        return
    if os.environ.get("CONVENE_REQUIRE_POSTGRES") == "1":
        pytest.exit("CONVENE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not PostgreSQL", 3)
    template_dir = Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / f"convene-tpl-{os.getpid()}"
    template_dir.mkdir(parents=True, exist_ok=True)
    template = template_dir / "template.db"
    if template.exists():
        template.unlink()
    asyncio.run(databases.migrate(f"sqlite+aiosqlite:///{template}"))
    yield ("sqlite", str(template))


@pytest.fixture
def database_url(backend: tuple[str, str | None], tmp_path: Path) -> str:
    kind, where = backend
    assert where is not None
    if kind == "postgresql":
        asyncio.run(databases.reset_postgres(where))
        return where
    return databases.copy_sqlite(Path(where), tmp_path / "convene.db")


@pytest.fixture
def on_postgres(backend: tuple[str, str | None]) -> bool:
    return backend[0] == "postgresql"


@pytest.fixture
async def empty_db(tmp_path: Path, on_postgres: bool) -> AsyncIterator[Database]:
    """A database with nothing in it, on this run's backend: a new SQLite file, or a new
    PostgreSQL database made beside TEST_DATABASE_URL and dropped after (migration tests)."""
    if on_postgres:
        base = databases.configured_url()
        assert base is not None
        url = await databases.create_postgres_database(base)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    database = Database(url)
    yield database
    await database.dispose()
    if on_postgres:
        assert base is not None
        await databases.drop_postgres_database(base, url)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
async def services(
    database_url: str, tmp_path: Path, settings_overrides: dict[str, object]
) -> AsyncIterator[Services]:
    settings = load_settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        **settings_overrides,
    )
    built = build_services(settings)
    await prepare(built, demo_if_empty=True)
    yield built
    await built.db.dispose()


@pytest.fixture
async def app_server(services: Services) -> AsyncIterator[RunningApp]:
    running = await start_app(build_app(services))
    yield running
    await running.stop()


@pytest.fixture
async def web_user(app_server: RunningApp) -> AsyncIterator[WebUser]:
    user = WebUser(app_server.url)
    yield user
    await user.close()


@pytest.fixture
def door(services: Services) -> TestDoor:
    """The in-process test door on this test's services (see tests/support/inprocess.py)."""
    return TestDoor(services)
