"""Feature tests run in-process on the test door, so their setup is most of their cost.

On SQLite every test here starts from a copy of a template that already holds the demo
council (migrated and loaded once per session), instead of loading the demo into a fresh
copy each time. The app's own `prepare()` still runs for every test (the `services`
fixture), finds the demo there and leaves it, exactly as a restarted server does. On
PostgreSQL the database is emptied and the demo loaded for each test, as everywhere else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import build_services, prepare
from bot.settings import load_settings
from tests.support import databases


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
def demo_template(
    backend: tuple[str, str | None], tmp_path_factory: pytest.TempPathFactory
) -> Path | None:
    """A migrated SQLite file with the demo council in it; None on PostgreSQL."""
    kind, where = backend
    if kind != "sqlite" or where is None:
        return None
    template = tmp_path_factory.mktemp("demo-template") / "demo.db"
    asyncio.run(_load_demo(databases.copy_sqlite(Path(where), template)))
    return template


@pytest.fixture
def database_url(
    backend: tuple[str, str | None], demo_template: Path | None, tmp_path: Path
) -> str:
    where = backend[1]
    assert where is not None
    if demo_template is None:
        asyncio.run(databases.reset_postgres(where))
        return where
    return databases.copy_sqlite(demo_template, tmp_path / "convene.db")
