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
from storage.email_door import open_email_door
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


async def _load_demo(url: str) -> None:
    settings = load_settings(
        database_url=url, secret_key="test-secret-key-not-for-production", scheduler_enabled=False
    )
    services = build_services(settings)
    try:
        await prepare(services, demo_if_empty=True)
    finally:
        await services.db.dispose()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[databases.Backend]:
    """This session's two templates, migrated once: empty, and with the demo council."""
    configured = databases.configured_url()
    if configured and databases.is_postgres(configured):
        try:
            empty = asyncio.run(databases.create_postgres_database(configured))
        except Exception as exc:
            pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
        asyncio.run(databases.migrate(empty))
        demo = asyncio.run(databases.clone_postgres(empty))
        asyncio.run(_load_demo(demo))
        yield databases.Backend("postgresql", empty, demo, base=configured)
        for url in (demo, empty):
            asyncio.run(databases.drop_postgres_database(configured, url))
        return
    if os.environ.get("CONVENE_REQUIRE_POSTGRES") == "1":
        pytest.exit("CONVENE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not PostgreSQL", 3)
    folder = tmp_path_factory.mktemp("templates")
    empty_file, demo_file = folder / "empty.db", folder / "demo.db"
    asyncio.run(databases.migrate(f"sqlite+aiosqlite:///{empty_file}"))
    asyncio.run(_load_demo(databases.copy_sqlite(empty_file, demo_file)))
    yield databases.Backend("sqlite", str(empty_file), str(demo_file))


@pytest.fixture
def database_url(backend: databases.Backend, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, with the demo council in it (the app's `prepare()`
    still runs for each test, finds the demo there and leaves it, as a restarted server does).
    """
    url = asyncio.run(backend.fresh(tmp_path))
    yield url
    asyncio.run(backend.discard(url))


@pytest.fixture
def on_postgres(backend: databases.Backend) -> bool:
    return backend.on_postgres


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


@pytest.fixture(autouse=True)
def email_door_closed() -> Iterator[None]:
    """Whether the app sends email is set when an app is built; no test inherits another's."""
    open_email_door(False)
    yield
    open_email_door(False)


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
