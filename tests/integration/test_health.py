"""`/healthz` (is the process alive?) and `/readyz` (may it take traffic?).

Anyone on the internet can ask either, so neither says anything about the server, the
database user or the error: the reason goes to the log, for the operator. `/readyz`
also keeps people away from a copy of Convene whose database schema is not the one
its code was written for (migrations not run yet, or run by newer code).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from alembic import command
from sqlalchemy import Connection, text

from bot.app import build_app, build_services
from bot.settings import load_settings
from storage.db import Database
from storage.migrate import alembic_config, upgrade_to_head
from tests.support import databases
from tests.support.servers import RunningApp, start_app

UNREACHABLE = "postgresql+asyncpg://convene:hunter2@127.0.0.1:1/convene"
SECRETS = ("127.0.0.1:1", "convene@", "hunter2", "asyncpg", "refused", "postgres", "sqlite")


async def ask(url: str, path: str) -> tuple[int, dict[str, object], str]:
    """GET a probe: (status, JSON body, Set-Cookie header if any)."""
    async with aiohttp.ClientSession() as client, client.get(url + path) as resp:
        return resp.status, await resp.json(), resp.headers.get("Set-Cookie", "")


@pytest.fixture
async def unreachable() -> AsyncIterator[RunningApp]:
    """The app, with its database gone (nothing listens on port 1)."""
    settings = load_settings(
        database_url=UNREACHABLE, secret_key="test-secret-key", scheduler_enabled=False
    )
    services = build_services(settings)
    running = await start_app(build_app(services))
    yield running
    await running.stop()


@pytest.fixture
async def empty_url(tmp_path: Path, on_postgres: bool) -> AsyncIterator[str]:
    """A database with nothing in it yet, on this run's backend."""
    if on_postgres:
        base = databases.configured_url()
        assert base is not None
        url = await databases.create_postgres_database(base)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    yield url
    if on_postgres:
        await databases.drop_postgres_database(base, url)


async def migrate_to(database: Database, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


# --- /healthz -------------------------------------------------------------------------------


async def test_healthz_says_ok_and_sets_no_cookie(app_server: RunningApp) -> None:
    status, body, cookie = await ask(app_server.url, "/healthz")
    assert (status, body, cookie) == (200, {"ok": True}, "")


async def test_healthz_says_unreachable_and_nothing_more(
    unreachable: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.web.routes"):
        async with (
            aiohttp.ClientSession() as client,
            client.get(unreachable.url + "/healthz") as resp,
        ):
            status, raw = resp.status, await resp.text()
    assert status == 503
    assert raw.replace(" ", "") == '{"ok":false,"database":"unreachable"}'
    for secret in SECRETS:
        assert secret not in raw, secret
    # The operator still learns why, from the log (with the password hidden).
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "unreachable" in logged and "127.0.0.1:1" in logged and "hunter2" not in logged


# --- /readyz --------------------------------------------------------------------------------


async def test_readyz_is_ok_when_the_database_answers_and_is_up_to_date(
    app_server: RunningApp,
) -> None:
    status, body, cookie = await ask(app_server.url, "/readyz")
    assert (status, body, cookie) == (200, {"ok": True}, "")


async def test_readyz_says_when_the_database_is_unreachable(unreachable: RunningApp) -> None:
    status, body, _ = await ask(unreachable.url, "/readyz")
    assert (status, body) == (503, {"ok": False, "reason": "database unreachable"})


async def test_readyz_waits_for_the_migrations(empty_url: str) -> None:
    """A new copy of Convene, started before anyone ran `convene db upgrade`."""
    settings = load_settings(
        database_url=empty_url,
        secret_key="test-secret-key",
        scheduler_enabled=False,
        auto_migrate=False,
    )
    services = build_services(settings)
    running = await start_app(build_app(services))
    try:
        # Nothing at all yet: alive, but not ready.
        assert (await ask(running.url, "/healthz"))[:2] == (200, {"ok": True})
        status, body, _ = await ask(running.url, "/readyz")
        assert (status, body) == (503, {"ok": False, "reason": "migrations behind"})

        await migrate_to(services.db, "0006")  # one migration short
        status, body, _ = await ask(running.url, "/readyz")
        assert (status, body) == (503, {"ok": False, "reason": "migrations behind"})

        await upgrade_to_head(services.db.engine)  # ready now, without a restart
        assert (await ask(running.url, "/readyz"))[:2] == (200, {"ok": True})

        # Newer code migrated it further, and this copy is older: not ready either.
        async with services.db.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        status, body, _ = await ask(running.url, "/readyz")
        assert (status, body) == (503, {"ok": False, "reason": "migrations ahead"})
        assert (await ask(running.url, "/healthz"))[:2] == (200, {"ok": True})
    finally:
        await running.stop()
