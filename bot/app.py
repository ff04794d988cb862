"""The app factory: one aiohttp server for every door, plus the scheduler.

`prepare()` makes the database ready (reachable, migrated, shipped forms stored,
demo data if asked); `build_app()` assembles the doors (`bot.doors.Door`, one small
factory each, None when the door is off) and the background loops.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.core.files import FileDesk
from bot.doors import Door
from bot.email import routes as email_routes
from bot.email.backends import backend_for
from bot.email.sender import EmailSender
from bot.observability.metrics import Metrics
from bot.observability.requests import (
    ACCESS_LOGGER,
    AccessLogger,
    echo_request_id,
    request_middleware,
)
from bot.outbox.sender import OutboxSender
from bot.scheduler import DueSweep, build_scheduler
from bot.services import Services
from bot.settings import Settings
from bot.slack.door import SlackDoor
from bot.teams.door import TeamsDoor
from bot.turns import DoorPipeline
from bot.web.door import WebDoor
from handlers import build_router, features, reminder_handlers
from storage.db import Database
from storage.email_door import open_email_door
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
METRICS = web.AppKey("metrics", Metrics)


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
        nav=features().nav_links(),
    )


async def prepare(
    services: Services, *, demo_if_empty: bool = False, demo_agreements: bool = False
) -> None:
    """Check the database, migrate it, store shipped forms, and load demo data if it is empty.

    `demo_agreements` adds the demo council's agreements with the demo (`make run`); tests
    that start from the demo leave them out, so each test makes only the agreements it is
    about.

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
            if demo_agreements:
                from bot.demo_agreements import load_demo_agreements

                await load_demo_agreements(services)
                log.info("loaded the demo council's agreements")


def web_door(services: Services, pipeline: DoorPipeline) -> WebDoor:
    """The web pages are always on: sign-in, forms and dashboards for everyone."""
    return WebDoor(services, pipeline)


def slack_door(services: Services, pipeline: DoorPipeline) -> SlackDoor | None:
    """Slack, when there is a bot token (one workspace) or a client id (several)."""
    settings = services.settings
    if settings.slack_enabled:
        return SlackDoor(services, pipeline)
    if settings.slack_signing_secret is not None:
        log.warning("SLACK_SIGNING_SECRET is set but no SLACK_BOT_TOKEN or SLACK_CLIENT_ID")
    return None


def teams_door(services: Services, pipeline: DoorPipeline) -> TeamsDoor | None:
    """Teams, when there is a Microsoft app id (or in a local trial without one)."""
    settings = services.settings
    if not settings.teams_enabled:
        log.warning("Teams is off: set MICROSOFT_APP_ID to use /api/messages on %s", settings.host)
        return None
    if not settings.teams_authenticated:
        log.warning(
            "TEAMS ENDPOINT IS UNAUTHENTICATED: MICROSOFT_APP_ID is not set, so /api/messages "
            "accepts requests without checking who sent them. This is only allowed in a "
            "local trial (listening on %s, with no public address).",
            settings.host,
        )
    return TeamsDoor(services, pipeline)


DoorFactory = Callable[[Services, DoorPipeline], Door | None]
#: Every door, in the order they are mounted and started.
DOORS: tuple[DoorFactory, ...] = (web_door, slack_door, teams_door)


def build_app(services: Services, *, background: bool | None = None) -> web.Application:
    """The whole service. `background` runs the scheduler loops (default: settings)."""
    settings = services.settings
    metrics = Metrics(services) if settings.metrics else None
    # Outermost: a request id (and the request counted) before any door sees it.
    app = web.Application(client_max_size=1024 * 1024, middlewares=[request_middleware(metrics)])
    app.on_response_prepare.append(echo_request_id)
    sender = OutboxSender(services)
    if metrics is not None:
        app[METRICS] = metrics
        sender.on_result = metrics.count_send
        token = settings.metrics_token
        app.router.add_routes([metrics.route(token.get_secret_value() if token else None)])
    pipeline = DoorPipeline(services, kick=sender.kick)
    doors = [door for make in DOORS if (door := make(services, pipeline)) is not None]
    for door in doors:
        door.mount(app)
        sender.register(door.sender)
    # Email is outbound only: a sender for the outbox, and the unsubscribe link's page.
    email_backend = backend_for(services.settings)
    open_email_door(email_backend is not None)
    if email_backend is not None:
        sender.register(EmailSender(services, email_backend))
        email_routes.mount(app, services)
    for door in doors:
        if isinstance(door, SlackDoor):
            app[SLACK] = door
        elif isinstance(door, TeamsDoor):
            app[TEAMS] = door
    sweep = DueSweep(services, reminder_handlers())
    app[SENDER] = sender
    app[SWEEP] = sweep
    run_loops = services.settings.scheduler_enabled if background is None else background

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(services, sweep, sender) if run_loops else None
        if scheduler is not None:
            scheduler.start()
        for door in doors:
            await door.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await sender.idle()
            for door in doors:
                await door.stop()
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
        app,
        host=host,
        port=port,
        print=None,
        access_log=ACCESS_LOGGER if access_log else None,
        access_log_class=AccessLogger,
    )
