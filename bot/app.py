"""The app factory: one aiohttp server for every door, plus the scheduler.

`prepare()` makes the database ready (reachable, migrated, shipped forms stored,
demo data if asked); `build_app()` assembles the doors and background loops.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.core.files import FileDesk
from bot.outbox.sender import OutboxSender
from bot.outbox.web_inbox import WebInboxSender
from bot.scheduler import DueSweep, build_scheduler
from bot.services import Services
from bot.settings import Settings
from bot.slack.door import SlackDoor
from bot.teams.door import TeamsDoor
from bot.web.routes import setup_web
from handlers import build_router, features, reminder_handlers
from storage.db import Database
from storage.forms import sync_shipped_definitions
from storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)
# "Skipped: maximum number of running instances" is how our loops are meant to behave
# under load (a pass is still running), not something to warn an operator about.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
# Two lines a second ("Running job", "executed successfully") buried everything else at INFO;
# a job that fails is still logged, as an error.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)

SENDER = web.AppKey("outbox_sender", OutboxSender)
SWEEP = web.AppKey("due_sweep", DueSweep)
SLACK = web.AppKey("slack_door", SlackDoor)
TEAMS = web.AppKey("teams_door", TeamsDoor)


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    return Services(
        settings=settings,
        db=Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeout=settings.database_timeout_seconds,
        ),
        router=build_router(),
        clock=clock or Clock(),
        files=FileDesk(features().file_sources(settings)),
        pages=features().pages(),
    )


async def prepare(services: Services, *, demo_if_empty: bool = False) -> None:
    """Check the database, migrate it, store shipped forms, and load demo data if it is empty.

    Raises `storage.db.DatabaseUnavailable` with a one-line reason if the database
    cannot be reached.
    """
    await services.db.check()
    if services.settings.auto_migrate:
        await upgrade_to_head(services.db.engine)
    for attempt in range(2):
        try:
            async with services.db.session() as session:
                await sync_shipped_definitions(session)
            break
        except IntegrityError:
            # Another replica starting at the same moment stored the same definitions
            # first: look again, and find them there.
            if attempt:
                raise
    if demo_if_empty:
        from bot.demo import load_demo_if_empty

        if await load_demo_if_empty(services):
            log.info("loaded the demo council, providers and people")


def build_app(services: Services, *, background: bool | None = None) -> web.Application:
    """The whole service. `background` runs the scheduler loops (default: settings)."""
    app = web.Application(client_max_size=1024 * 1024)
    setup_web(app, services)
    sender = OutboxSender(services, [WebInboxSender(services)])
    sweep = DueSweep(services, reminder_handlers())
    app[SENDER] = sender
    app[SWEEP] = sweep
    run_loops = services.settings.scheduler_enabled if background is None else background
    slack = None
    if services.settings.slack_enabled:
        slack = SlackDoor(services, sender)
        slack.mount(app)
        app[SLACK] = slack
    elif services.settings.slack_signing_secret is not None:
        log.warning("SLACK_SIGNING_SECRET is set but no SLACK_BOT_TOKEN or SLACK_CLIENT_ID")

    teams = None
    settings = services.settings
    if settings.teams_enabled:
        teams = TeamsDoor(services, sender)
        teams.mount(app)
        app[TEAMS] = teams
        if not settings.teams_authenticated:
            log.warning(
                "TEAMS ENDPOINT IS UNAUTHENTICATED: MICROSOFT_APP_ID is not set, so /api/messages "
                "accepts requests without checking who sent them. This is only allowed in a "
                "local trial (listening on %s, with no public address).",
                settings.host,
            )
    else:
        log.warning("Teams is off: set MICROSOFT_APP_ID to use /api/messages on %s", settings.host)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(services, sweep, sender) if run_loops else None
        if scheduler is not None:
            scheduler.start()
        if slack is not None:
            await slack.start()
        if teams is not None:
            await teams.start()
        socket_mode = None
        app_token = services.settings.slack_app_token
        if slack is not None and app_token is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(slack.app, app_token.get_secret_value())
            await socket_mode.connect_async()
            log.info("Slack Socket Mode connected")
        try:
            yield
        finally:
            if socket_mode is not None:
                await socket_mode.close_async()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await sender.idle()
            if slack is not None:
                await slack.stop()
            if teams is not None:
                await teams.stop()
            await services.db.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app


def serve(services: Services, *, host: str, port: int, access_log: bool = True) -> None:
    """Run the whole service until it is stopped (`convene serve`, and the benchmarks, which
    measure exactly this)."""

    async def settle_memory(_app: web.Application) -> None:
        # Everything made by now (modules, mappings, the doors) lives as long as the process.
        # Freezing it keeps the collector from scanning it again in every full collection,
        # each a pause for every request in flight. Only here, in a long-running server:
        # the tests build hundreds of apps in one process and would pay for a full
        # collection each time.
        gc.collect()
        gc.freeze()

    app = build_app(services)
    app.on_startup.append(settle_memory)
    web.run_app(
        app, host=host, port=port, print=None, access_log=web.access_logger if access_log else None
    )
