"""Engine, session factory and units of work.

One `Database` per process. SQLite is tuned for a single writer (WAL, busy timeout)
so the web door, the sweeper and the outbox sender can share one file safely.

A chat turn is one unit of work (`unit_of_work()`): the handler's changes, the door's
replies queued in the outbox and the mark that a platform event was handled commit
together or not at all. Handlers keep opening `session()` as they always have; inside
a unit of work those sessions are the unit's own, so nothing in the handlers changes.
Every wait for the database is bounded (`timeout`), so a database that is down or
locked gives a plain answer in time for Slack's 3 seconds and Teams' 15.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached: the message names DATABASE_URL and the reason."""


#: libpq's TLS settings, which managed PostgreSQL services put in their URLs. asyncpg
#: takes none of them as keywords, so they become one `ssl` argument (see `_tls`).
LIBPQ_TLS = ("sslmode", "sslrootcert", "sslcert", "sslkey")


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `postgresql://`, `sqlite:///`) and pick async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _tls(url: URL) -> tuple[URL, dict[str, Any]]:
    """Turn libpq's `?sslmode=require&sslrootcert=...` into asyncpg's `ssl` argument.

    `require` encrypts without checking the certificate (as libpq does); `verify-ca` checks
    it against the CA; `verify-full` also checks the host name. `disable` turns TLS off.
    """
    query = dict(url.query)
    found = {key: query.pop(key) for key in LIBPQ_TLS if key in query}
    if not found:
        return url, {}
    values = {k: (v[0] if isinstance(v, tuple) else v) for k, v in found.items()}
    mode = values.get("sslmode", "prefer")
    stripped = url.set(query=query)
    if mode in ("disable", "allow", "prefer") and "sslrootcert" not in values:
        return stripped, {"ssl": mode}
    context = ssl.create_default_context(cafile=values.get("sslrootcert"))
    if mode in ("require", "prefer", "allow") and "sslrootcert" not in values:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode in ("require", "verify-ca"):
        context.check_hostname = False
    if "sslcert" in values:
        context.load_cert_chain(values["sslcert"], values.get("sslkey"))
    return stripped, {"ssl": context}


@dataclass(frozen=True)
class _Unit:
    """The session of the unit of work in progress, and the task that owns it.

    Only that task shares it: a task it starts (an outbox kick, say) inherits the context
    variable, but must never use a session that another task is using.
    """

    database: int
    session: AsyncSession
    task: asyncio.Task[Any] | None


_unit: ContextVar[_Unit | None] = ContextVar("convene_unit_of_work", default=None)


def redact(url: str) -> str:
    """The URL with any password hidden, for error messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def now_for(session: AsyncSession) -> datetime:
    """The app's "now" for work done in `session` (real time for a session made elsewhere)."""
    clock = session.info.get("now")
    return clock() if callable(clock) else _utc_now()


class Database:
    """Owns the engine. `session()` gives one unit of work that commits or rolls back."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 40, timeout: float = 30.0
    ) -> None:
        self.url = normalise_url(url)
        self.timeout = timeout
        # Error messages and logs name the statement but never the values bound to it: those
        # are people's answers and names, which must not end up in a log.
        kwargs: dict[str, Any] = {"echo": echo, "pool_timeout": timeout, "hide_parameters": True}
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": timeout}
            # SQLite has one writer. With many connections, the ones kept waiting for the lock
            # sleep in SQLite's busy handler (up to 100 ms a try), which made the slowest Teams
            # turns take about a second under load. Two connections (one can read while the
            # other writes) queue everyone else fairly in the pool instead. Nothing in Convene
            # holds one session while opening another.
            kwargs["pool_size"] = 2
            kwargs["max_overflow"] = 0
        else:
            parsed, tls = _tls(parsed)
            kwargs["connect_args"] = {
                "timeout": timeout,
                # A row or table lock held elsewhere is waited for this long, like SQLite's
                # busy timeout; migrating lifts it for its own connection (storage/migrate.py).
                "server_settings": {"lock_timeout": str(max(1, int(timeout * 1000)))},
                **tls,
            }
            # A ping on every checkout cost more than a tenth of a chat turn. Connections are
            # recycled instead, and one that fails is discarded by SQLAlchemy and replaced.
            kwargs["pool_recycle"] = 1800
            # Keep enough connections for a busy moment (every request in flight, plus the
            # sender's parallel deliveries): a connection made beyond the pool is closed when
            # returned, and opening a new PostgreSQL connection for each busy request tripled
            # the slowest Teams turns (bench/teams_turn.py).
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 10
        #: What the driver is given on connect (timeouts, TLS), kept for tests and `check`.
        self.connect_args: dict[str, Any] = dict(kwargs.get("connect_args", {}))
        self.engine: AsyncEngine = create_async_engine(parsed, **kwargs)
        if self.is_sqlite:
            busy_ms = int(timeout * 1000)

            def pragmas(dbapi_connection: Any, _record: Any) -> None:
                _sqlite_pragmas(dbapi_connection, busy_ms)

            event.listen(self.engine.sync_engine, "connect", pragmas)
        #: The app's clock, as storage sees it: what a row written "now" is stamped with (the
        #: outbox's first attempt). The app points it at its own clock (bot/services.py), so a
        #: frozen or moved clock moves the whole app, not only the parts that ask for it.
        self.now: Callable[[], datetime] = _utc_now
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={"now": lambda: self.now()}
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _current_unit(self) -> _Unit | None:
        unit = _unit.get()
        if unit is None or unit.database != id(self):
            return None
        if unit.task is not _task():
            return None
        return unit

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work that commits or rolls back; inside `unit_of_work()`, a part of
        that unit (flushed here, committed with the rest)."""
        unit = self._current_unit()
        if unit is not None:
            yield unit.session
            await unit.session.flush()
            return
        async with self._committing() as session:
            yield session

    @asynccontextmanager
    async def _committing(self) -> AsyncIterator[AsyncSession]:
        """A new session that commits at the end, or rolls back if anything went wrong."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """Everything inside, every `session()` and `transaction()`, commits together at the
        end or not at all. A chat turn runs in one, so a crash can't keep its changes and
        lose its replies, or mark an event handled whose handling failed."""
        outer = self._current_unit()
        if outer is not None:
            yield outer.session
            return
        async with self._committing() as session:
            token = _unit.set(_Unit(id(self), session, _task()))
            try:
                yield session
            finally:
                _unit.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction that commits or rolls back, for the hottest
        one-statement writes (an event marked handled, a message marked sent): about a
        third cheaper than an ORM session, which matters on SQLite's single writer.
        Inside `unit_of_work()` it is the unit's own connection."""
        unit = self._current_unit()
        if unit is not None:
            yield await unit.session.connection()
            return
        async with self.engine.begin() as connection:
            yield connection

    async def check(self) -> None:
        """Connect once, or raise `DatabaseUnavailable` with a reason a person can act on."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # every driver raises its own types
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailable(
                f"Cannot reach the database at DATABASE_URL={redact(self.url)}: {reason}"
            ) from exc

    async def dispose(self) -> None:
        await self.engine.dispose()


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL is SQLite's recommended setting: an application crash loses nothing;
    # only a power cut can lose the last commits. FULL fsyncs on every commit, and every turn
    # commits several small units of work.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A writer waits this long for the lock, then fails plainly (bounded like the pool).
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
