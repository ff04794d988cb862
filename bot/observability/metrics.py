"""Prometheus metrics at `/metrics` (off unless `CONVENE_METRICS=true`).

Counted in the process as things happen: requests by door and status, how long each took
(a histogram by door), and outbox sends by door and result. Read from the database when
Prometheus scrapes (two small queries on indexed columns): how many messages wait in the
outbox and how old the oldest is, and how far the due sweep is behind (now minus the oldest
reminder that is due and not yet handled). The database pool's size, connections in use
and overflow are read from SQLAlchemy's pool at the same moment.

`convene serve` runs one process per replica, so each replica's `/metrics` is the whole of
that replica: scrape every replica (Prometheus adds them up), no multiprocess mode needed.
Each app has its own registry, so the numbers start at zero with the app.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select

from bot.services import Services
from storage.models import OutboxMessage, Reminder, WorkState

log = logging.getLogger(__name__)

#: What `sends_total`'s `result` label can say.
SENT, RATE_LIMITED, DEFERRED, RETRIED, DEAD = "sent", "429", "deferred", "retried", "dead"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WAITING = (WorkState.PENDING, WorkState.CLAIMED)


def door_of(path: str) -> str:
    """Which door a request came in by, from its path."""
    if path.startswith("/slack/"):
        return "slack"
    if path.startswith("/api/messages"):
        return "teams"
    return "web"


class Metrics:
    """Every metric of one app, in a registry of its own."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "convene_requests",
            "Requests answered, by door and HTTP status.",
            ["door", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "convene_request_seconds",
            "Time from a request arriving to its answer, by door.",
            ["door"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "convene_outbox_sends",
            "Outbox delivery attempts by door and result: sent, 429 (the platform asked us "
            "to wait), deferred (our own rate limit), retried (failed, will try again), dead.",
            ["door", "result"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "convene_outbox_depth",
            "Messages waiting in the outbox (pending or being sent).",
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "convene_outbox_oldest_age_seconds",
            "How long the oldest waiting outbox message has waited since it was queued.",
            registry=r,
        )
        self.sweep_lag = Gauge(
            "convene_sweep_lag_seconds",
            "Now minus the oldest reminder that is due and not yet handled (0 when none).",
            registry=r,
        )
        self.pool_size = Gauge(
            "convene_db_pool_size", "Connections the database pool keeps.", registry=r
        )
        self.pool_in_use = Gauge(
            "convene_db_pool_checked_out", "Database connections in use right now.", registry=r
        )
        self.pool_overflow = Gauge(
            "convene_db_pool_overflow",
            "Connections opened beyond the pool's size (above 0: requests wait or will soon).",
            registry=r,
        )

        self.database_read = Gauge(
            "convene_metrics_database_read",
            "1 when this scrape read the outbox, sweep and pool from the database, else 0 "
            "(those gauges then keep their last values).",
            registry=r,
        )

    def count_request(self, door: str, status: int, seconds: float) -> None:
        self.requests.labels(door, str(status)).inc()
        self.latency.labels(door).observe(seconds)

    def count_send(self, door: str, result: str) -> None:
        self.sends.labels(door, result).inc()

    async def read_database(self) -> None:
        """Set the gauges that come from the database and its pool (at scrape time)."""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            depth, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.state.in_(_WAITING)
                    )
                )
            ).one()
            due = await session.scalar(
                select(func.min(Reminder.due_at)).where(
                    Reminder.state.in_(_WAITING), Reminder.due_at <= now
                )
            )
        self.outbox_depth.set(depth)
        self.outbox_oldest.set(_age(now, oldest))
        self.sweep_lag.set(_age(now, due))
        pool: Any = self.services.db.engine.pool
        for gauge, reading in (
            (self.pool_size, "size"),
            (self.pool_in_use, "checkedout"),
            (self.pool_overflow, "overflow"),
        ):
            read = getattr(pool, reading, None)
            if callable(read):
                gauge.set(max(0, read()))

    def route(self, token: str | None) -> web.RouteDef:
        """`GET /metrics`, asking for `Authorization: Bearer <token>` when a token is set."""

        async def metrics(request: web.Request) -> web.Response:
            if token is not None:
                given = request.headers.get("Authorization", "")
                if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    return web.Response(
                        status=401,
                        text="A metrics token is needed.\n",
                        headers={"WWW-Authenticate": "Bearer"},
                    )
            try:
                await self.read_database()
                self.database_read.set(1)
            except Exception:  # the counters still answer while the database is away
                log.warning("metrics: could not read the outbox and sweep from the database")
                self.database_read.set(0)
            return web.Response(
                body=generate_latest(self.registry),
                headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
            )

        return web.get("/metrics", metrics)


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None and now.tzinfo is not None:
        then = then.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - then).total_seconds())
