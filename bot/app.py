"""The app factory: one aiohttp server for every door, plus the scheduler.

`prepare()` makes the database ready (reachable, migrated, shipped forms stored,
demo data if asked); `build_app()` assembles the doors and background loops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.clock import Clock
from bot.outbox.sender import OutboxSender
from bot.outbox.web_inbox import WebInboxSender
from bot.scheduler import DueSweep, build_scheduler
from bot.services import Services
from bot.settings import Settings
from bot.web.routes import setup_web
from handlers import build_router
from storage.db import Database
from storage.forms import sync_shipped_definitions
from storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)

SENDER = web.AppKey("outbox_sender", OutboxSender)
SWEEP = web.AppKey("due_sweep", DueSweep)


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    return Services(
        settings=settings,
        db=Database(settings.database_url),
        router=build_router(),
        clock=clock or Clock(),
    )


async def prepare(services: Services, *, demo_if_empty: bool = False) -> None:
    """Check the database, migrate it, store shipped forms, and load demo data if it is empty.

    Raises `storage.db.DatabaseUnavailable` with a one-line reason if the database
    cannot be reached.
    """
    await services.db.check()
    if services.settings.auto_migrate:
        await upgrade_to_head(services.db.engine)
    async with services.db.session() as session:
        await sync_shipped_definitions(session)
    if demo_if_empty:
        from bot.demo import load_demo_if_empty

        if await load_demo_if_empty(services):
            log.info("loaded the demo council, providers and people")


def build_app(services: Services, *, background: bool | None = None) -> web.Application:
    """The whole service. `background` runs the scheduler loops (default: settings)."""
    app = web.Application(client_max_size=1024 * 1024)
    setup_web(app, services)
    sender = OutboxSender(services, [WebInboxSender(services)])
    sweep = DueSweep(services)
    app[SENDER] = sender
    app[SWEEP] = sweep
    run_loops = services.settings.scheduler_enabled if background is None else background

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(services, sweep, sender) if run_loops else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await services.db.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
