"""Engine and session factory.

One `Database` per process. SQLite is tuned for a single writer (WAL, busy timeout)
so the web door, the sweeper and the outbox sender can share one file safely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached: the message names DATABASE_URL and the reason."""


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


def redact(url: str) -> str:
    """The URL with any password hidden, for error messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """Owns the engine. `session()` gives one unit of work that commits or rolls back."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 40) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if make_url(self.url).get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": 30}
            # SQLite has one writer. With many connections, the ones kept waiting for the lock
            # sleep in SQLite's busy handler (up to 100 ms a try), which made the slowest Teams
            # turns take about a second under load. Two connections (one can read while the
            # other writes) queue everyone else fairly in the pool instead. Nothing in Convene
            # holds one session while opening another.
            kwargs["pool_size"] = 2
            kwargs["max_overflow"] = 0
            kwargs["pool_timeout"] = 30
        else:
            # A ping on every checkout cost more than a tenth of a chat turn. Connections are
            # recycled instead, and one that fails is discarded by SQLAlchemy and replaced.
            kwargs["pool_recycle"] = 1800
            # Keep enough connections for a busy moment (every request in flight, plus the
            # sender's parallel deliveries): a connection made beyond the pool is closed when
            # returned, and opening a new PostgreSQL connection for each busy request tripled
            # the slowest Teams turns (bench/teams_turn.py).
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 10
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction that commits or rolls back, for the hottest
        one-statement writes (an event marked handled, a message marked sent): about a
        third cheaper than an ORM session, which matters on SQLite's single writer."""
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL is SQLite's recommended setting: an application crash loses nothing;
    # only a power cut can lose the last commits. FULL fsyncs on every commit, and every turn
    # commits several small units of work.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
