"""Per-key rate limits for outbound messages (per channel, per workspace or tenant).

A GCRA-style limiter: each key has a rate and a burst. `slot()` books the
earliest time a message may go under every key it touches and says how long to
wait. Booking keeps messages to the same channel in order within a pass; a wait
longer than the caller will sleep is not booked, and the message is deferred.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


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
