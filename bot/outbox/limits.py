"""Per-key rate limits for outbound messages (per channel, per workspace or tenant).

A GCRA-style limiter: each key has a rate and a burst. `slot()` books the
earliest time a message may go under every key it touches and says how long to
wait. Booking keeps messages to the same channel in order within a pass; a wait
longer than the caller will sleep is not booked, and the message is deferred.

`RateLimiter` keeps its keys in memory: right for one process (SQLite). On PostgreSQL,
where several replicas send at once, `SharedRateLimiter` books the same way against
rows every replica shares (storage/rate_limits.py), so two replicas together keep to
Slack's and Teams' limits. `limiter_for(db)` chooses by the database; the senders
use either through the same three methods.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from storage import rate_limits
from storage.db import Database

log = logging.getLogger(__name__)

#: When the shared limits cannot be read (the database is briefly away), a message waits
#: this long, unbooked and using up none of its tries, rather than risk going over a limit.
UNREADABLE_WAIT = 1.0


@dataclass(frozen=True)
class Limit:
    key: str
    per_second: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}  # theoretical arrival time per key
        self._lock = asyncio.Lock()

    def _wait_for(self, limit: Limit, now: float) -> float:
        tat = max(self._tat.get(limit.key, now), now)
        allowance = limit.interval * limit.burst
        return max(0.0, tat + limit.interval - allowance - now)

    async def slot(self, limits: Sequence[Limit], *, max_wait: float) -> float:
        """Book a slot under every limit. Returns the wait before sending (<= max_wait),
        or, if that would be longer, returns it without booking so the caller can defer."""
        async with self._lock:
            now = self._clock()
            wait = max((self._wait_for(limit, now) for limit in limits), default=0.0)
            if wait > max_wait:
                return wait
            at = now + wait
            for limit in limits:
                self._tat[limit.key] = max(self._tat.get(limit.key, at), at) + limit.interval
            return wait

    async def acquire(self, limits: Sequence[Limit], *, max_wait: float) -> float | None:
        """Wait for a booked slot and return None, or return how long to defer by."""
        wait = await self.slot(limits, max_wait=max_wait)
        if wait > max_wait:
            return wait
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    def penalise(self, key: str, seconds: float) -> None:
        """The platform said 429: hold every later message for this key until it allows us."""
        now = self._clock()
        self._tat[key] = max(self._tat.get(key, now), now + seconds)


class SharedRateLimiter(RateLimiter):
    """The same limits, shared by every replica through PostgreSQL rows.

    Time is the database's (`clock_timestamp()`), so replicas whose clocks differ still
    agree on every key's allowance. A 429 is also kept here in memory until the shared row
    has it, so the next message from this replica cannot slip in first."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self._db = db
        self._held: dict[str, float] = {}  # key -> end of a 429's hold on our own clock
        self._writes: set[asyncio.Task[None]] = set()

    def _held_for(self, limits: Sequence[Limit]) -> float:
        now = self._clock()
        return max((self._held.get(limit.key, now) - now for limit in limits), default=0.0)

    async def slot(self, limits: Sequence[Limit], *, max_wait: float) -> float:
        held = self._held_for(limits)
        if held > max_wait:
            return held
        budgets = [rate_limits.Budget(limit.key, limit.interval, limit.burst) for limit in limits]
        try:
            booking = await rate_limits.book(self._db, budgets, max_wait=max_wait)
        except Exception:  # the database is away: wait rather than guess
            log.warning("could not book a shared rate limit; waiting", exc_info=True)
            return max_wait + UNREADABLE_WAIT
        return booking.wait

    def penalise(self, key: str, seconds: float) -> None:
        self._held[key] = max(self._held.get(key, 0.0), self._clock() + seconds)
        task = asyncio.get_running_loop().create_task(self._hold(key, seconds))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _hold(self, key: str, seconds: float) -> None:
        try:
            await rate_limits.hold(self._db, key, seconds)
        except Exception:
            log.warning("could not share a rate limit's hold for %s", key, exc_info=True)

    async def settled(self) -> None:
        """Wait for holds still being written (tests, and a tidy shutdown)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)


def limiter_for(db: Database) -> RateLimiter:
    """Shared limits on PostgreSQL (any number of replicas), in memory on SQLite (one)."""
    return SharedRateLimiter(db) if db.is_postgres else RateLimiter()
