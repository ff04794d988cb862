"""Rate limits shared by every replica (storage/rate_limits.py, bot/outbox/limits.py).

Two `SharedRateLimiter`s on two separate engines stand for two replicas. Whatever they
book between them, no key ever gets more than its burst plus one message per interval.
PostgreSQL only: SQLite runs one process and keeps its limits in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.outbox.limits import Limit, RateLimiter, SharedRateLimiter, limiter_for
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.rate_limits import Budget, book
from tests.integration.test_follow_and_briefing_migration import populate, read_back
from tests.support.migrations import HEAD, run_alembic, schema_diff


@pytest.fixture
async def two_replicas(
    empty_db: Database, on_postgres: bool
) -> AsyncIterator[tuple[SharedRateLimiter, SharedRateLimiter]]:
    if not on_postgres:
        pytest.skip("shared rate limits are for several replicas on PostgreSQL; SQLite is one")
    await upgrade_to_head(empty_db.engine)
    other = Database(empty_db.url)
    try:
        yield SharedRateLimiter(empty_db), SharedRateLimiter(other)
    finally:
        await other.dispose()


def test_sqlite_keeps_limits_in_memory(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    assert type(limiter_for(database)) is RateLimiter


def allowed(times: list[float], budget: Budget, slack: float = 1e-4) -> bool:
    """No run of the times holds more than the GCRA allows: `burst` at once, then one an
    interval (`slack`, a tenth of a millisecond, only for rounding: times are
    doubles of seconds since 1970)."""
    times = sorted(times)
    for first in range(len(times)):
        for last in range(first, len(times)):
            span = times[last] - times[first]
            if last - first + 1 > budget.burst + (span + slack) / budget.interval:
                return False
    return True


async def book_all(db: Database, budgets: list[Budget], count: int, booked: list[float]) -> None:
    """Book `count` messages as the sender would: sleep a short wait, retry after a long one.
    Each booking's time is on the database's clock, as both replicas see it."""
    for _ in range(count):
        while True:
            booking = await book(db, budgets, max_wait=0.2)
            if booking.at is not None:
                booked.append(booking.at)
                await asyncio.sleep(booking.wait)
                break
            await asyncio.sleep(min(booking.wait, 0.2))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    per_second=st.sampled_from([10.0, 25.0, 50.0]),
    burst=st.integers(min_value=1, max_value=4),
    counts=st.tuples(st.integers(1, 10), st.integers(1, 10)),
    with_workspace=st.booleans(),
)
async def test_two_replicas_bookings_never_go_over_a_limit(
    two_replicas: tuple[SharedRateLimiter, SharedRateLimiter],
    per_second: float,
    burst: int,
    counts: tuple[int, int],
    with_workspace: bool,
) -> None:
    first, second = (limiter._db for limiter in two_replicas)
    tag = f"{time.monotonic_ns()}"  # every example its own keys
    channel = Budget(f"c:{tag}", 1 / per_second, burst)
    workspace = Budget(f"w:{tag}", 1 / (per_second * 1.5), burst + 1)
    budgets = [channel, workspace] if with_workspace else [channel]
    booked: list[float] = []
    await asyncio.gather(
        book_all(first, budgets, counts[0], booked),
        book_all(second, list(reversed(budgets)), counts[1], booked),
    )
    assert len(booked) == sum(counts)
    assert allowed(booked, channel)
    if with_workspace:
        assert allowed(booked, workspace)


async def test_two_limiters_together_take_as_long_as_one_limit_allows(
    two_replicas: tuple[SharedRateLimiter, SharedRateLimiter],
) -> None:
    """Through the senders' interface: 30 messages, 15 from each replica, to one channel
    allowed 20 a second and 3 at once, cannot all be sent in less than (30 - 3) / 20 s.
    (Kept separately, each replica would have sent its 15 in 0.6 s.)"""
    first, second = two_replicas
    channel = Limit("slack:channel:T1:C1", per_second=20, burst=3)
    started = time.monotonic()

    async def send(limiter: SharedRateLimiter) -> None:
        for _ in range(15):
            while True:
                wait = await limiter.acquire([channel], max_wait=0.3)
                if wait is None:
                    break
                await asyncio.sleep(min(wait, 0.3))

    await asyncio.gather(send(first), send(second))
    assert time.monotonic() - started >= (30 - 3) / 20


async def test_a_long_wait_books_nothing(
    two_replicas: tuple[SharedRateLimiter, SharedRateLimiter],
) -> None:
    first, second = two_replicas
    slow = Limit("slack:history:T1", per_second=1 / 60)  # one look a minute
    assert await first.slot([slow], max_wait=1) == 0
    wait = await second.slot([slow], max_wait=1)
    assert 59 < wait <= 60
    # Refused, so not booked: asking again says the same, not two minutes.
    assert 58 < await first.slot([slow], max_wait=1) <= 60


async def test_all_keys_or_none(
    two_replicas: tuple[SharedRateLimiter, SharedRateLimiter],
) -> None:
    first, second = two_replicas
    channel = Limit("teams:conversation:a", per_second=1, burst=1)
    tenant = Limit("teams:tenant:t", per_second=1 / 30, burst=1)
    assert await first.slot([tenant], max_wait=1) == 0
    # The tenant is full for half a minute, so the channel must not be booked either.
    assert await second.slot([channel, tenant], max_wait=1) > 1
    assert await first.slot([channel], max_wait=1) == 0


async def test_a_429_holds_every_replica(
    two_replicas: tuple[SharedRateLimiter, SharedRateLimiter],
) -> None:
    first, second = two_replicas
    channel = Limit("slack:channel:T1:C9", per_second=50, burst=5)
    first.penalise(channel.key, 5.0)
    # The replica that heard the 429 holds at once, before the shared row is written.
    assert await first.slot([channel], max_wait=1) > 4
    await first.settled()
    assert await second.slot([channel], max_wait=1) > 4


async def test_migration_on_a_populated_database_adds_and_removes_only_the_table(
    empty_db: Database,
) -> None:
    """0036 on a database that already holds records: they are kept both ways, the new
    table is empty and matches the model, and going back down removes only that table."""
    await run_alembic(empty_db, "upgrade", "0035")
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(populate)
        before = await connection.run_sync(read_back)

    await run_alembic(empty_db, "upgrade", "0036")
    async with empty_db.engine.begin() as connection:
        assert await connection.run_sync(read_back) == before
        assert await connection.run_sync(schema_diff) == [] or HEAD != "0036"
        count = await connection.scalar(sa.text("SELECT count(*) FROM rate_limits"))
        assert count == 0
        await connection.execute(sa.text("INSERT INTO rate_limits (key, tat) VALUES ('k', 1.5)"))

    await run_alembic(empty_db, "downgrade", "0035")
    async with empty_db.engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert "rate_limits" not in names
        assert await connection.run_sync(read_back) == before
