"""The outbox sender: delivers queued messages exactly once, or marks them dead for a person to see.

Each pass claims due rows (with a lease, see `storage.claims`), then for each:
1. if the row was tried before and the door can check, asks the door whether the
   earlier attempt landed (so a crash between delivering and recording never
   sends twice);
2. otherwise delivers it;
3. records the result. A failure waits with exponential backoff and jitter (or
   the platform's `Retry-After`); after `outbox_max_attempts` the row is dead.

A crash before step 3 leaves the row claimed; when the lease runs out, another
pass picks it up and step 1 finds the delivery. Nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.request_id import request_id_of, reset_request_id, set_request_id
from bot.services import Services
from storage.claims import claim_due, release
from storage.models import Door, OutboxMessage, WorkState

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429, 5xx, network trouble)."""

    def __init__(self, reason: str, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_seconds = after_seconds


class Deferred(Exception):
    """Not now, and not a failure: our own rate limit, or the platform's 429. No attempt is used."""

    def __init__(self, after_seconds: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.after_seconds = after_seconds
        self.reason = reason


class Undeliverable(Exception):
    """Trying again will not help (revoked token, deleted conversation): mark dead now."""


@dataclass(frozen=True)
class Delivered:
    external_id: str | None = None


class DoorSender(Protocol):
    door: Door

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        """If an earlier attempt of this message landed, say so. Return None if not (or can't tell)."""
        ...

    async def deliver(self, message: OutboxMessage) -> Delivered:
        """Send it. Raise `RetryLater` or `Undeliverable` on failure."""
        ...


def backoff_seconds(attempts: int, *, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter: spreads retries so a recovering API is not stampeded."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempts - 1)))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class OutboxSender:
    """Runs delivery passes. Safe to run in several processes at once."""

    def __init__(self, services: Services, senders: list[DoorSender] | None = None) -> None:
        self.services = services
        self.senders: dict[str, DoorSender] = {s.door: s for s in senders or []}
        self.worker = worker_name()
        self._kicked: asyncio.Future[int] | None = None
        #: Told each attempt's door and result ("sent", "429", "deferred", "retried", "dead"):
        #: the metrics, when they are on.
        self.on_result: Callable[[str, str], None] | None = None

    def register(self, sender: DoorSender) -> None:
        self.senders[sender.door] = sender

    @property
    def busy(self) -> bool:
        """A pass started by `kick()` is still running."""
        return self._kicked is not None and not self._kicked.done()

    async def idle(self) -> None:
        """Wait for a pass started by `kick()` to finish (shutdown, tests)."""
        if self._kicked is not None and not self._kicked.done():
            await asyncio.wait({self._kicked})

    def kick(self) -> None:
        """Start a pass now (after a person's action queued a reply) instead of at the next tick.
        It takes one batch: a backlog is the scheduled passes' work, so a kick never adds a
        second long-running pass beside them."""
        if self._kicked is None or self._kicked.done():
            self._kicked = asyncio.ensure_future(self._one_batch())

    async def run_once(self) -> int:
        """One pass: a batch, and straight away the next while batches come back full and
        every message in them went (a backlog, such as an engagement's invitations to
        thousands, then goes at the rate limits' pace, not one batch per tick). Anything
        deferred or failed ends the pass, so it waits for the next tick as before.
        Returns how many messages it finished (sent or dead)."""
        batch = self.services.settings.outbox_batch_size
        total = 0
        while True:
            claimed, finished = await self._batch()
            total += finished
            if claimed < batch or finished < claimed:
                return total

    async def _one_batch(self) -> int:
        return (await self._batch())[1]

    async def _batch(self) -> tuple[int, int]:
        """Claim one batch and deliver it: (messages claimed, messages finished)."""
        settings = self.services.settings
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            claimed = await claim_due(
                session,
                OutboxMessage,
                OutboxMessage.next_attempt_at,
                worker=self.worker,
                now=now,
                lease=timedelta(seconds=settings.lease_seconds),
                limit=settings.outbox_batch_size,
            )
            session.expunge_all()
        if not claimed:
            return 0, 0
        # One conversation's messages go in the order they were queued (and one at a time,
        # so parallel connections can't reorder them); different conversations go in parallel.
        conversations: dict[tuple[str, str | None, str, int | None], list[OutboxMessage]] = {}
        for message in claimed:
            key = (message.door, message.workspace_id, message.address, message.person_id)
            conversations.setdefault(key, []).append(message)

        # A bounded number of conversations at once, so a busy pass never takes every
        # database connection from the people whose requests are waiting.
        room = asyncio.Semaphore(self.services.settings.outbox_concurrency)

        async def in_order(messages: list[OutboxMessage]) -> int:
            async with room:
                finished = 0
                for position, message in enumerate(messages):
                    held_until = await self._send_one(message)
                    if held_until is None:
                        finished += 1
                        continue
                    # It must wait (a rate limit, a retry): the rest of this conversation
                    # waits behind it, due at the same moment, so the next claim takes them
                    # in queue order and nothing overtakes it.
                    for later in messages[position + 1 :]:
                        await self._hold(later, until=held_until)
                    break
                return finished

        results = await asyncio.gather(*(in_order(ms) for ms in conversations.values()))
        return len(claimed), sum(results)

    async def drain(self, max_passes: int = 100) -> int:
        """Run passes until nothing is due (for tests, the CLI and shutdown)."""
        total = 0
        for _ in range(max_passes):
            done = await self.run_once()
            if done == 0:
                break
            total += done
        return total

    async def _send_one(self, message: OutboxMessage) -> datetime | None:
        """Send it, or give it up as dead (None: finished), or put it back for later
        (the moment it is due again). Its log lines carry the id of the request that
        queued it."""
        token = set_request_id(request_id_of(message.payload))
        try:
            return await self._send_traced(message)
        finally:
            reset_request_id(token)

    def _result(self, message: OutboxMessage, result: str) -> None:
        # Our own rate limit holding a fan-out back is routine: a line each only when asked.
        log.log(
            logging.DEBUG if result == "deferred" else logging.INFO,
            "outbox message %s to %s: %s (attempt %s)",
            message.id,
            message.door,
            result,
            message.attempts,
            extra={"outbox_id": message.id, "door": message.door, "result": result},
        )
        if self.on_result is not None:
            self.on_result(message.door, result)

    async def _send_traced(self, message: OutboxMessage) -> datetime | None:
        sender = self.senders.get(message.door)
        if sender is None:
            await self._finish(message, dead=f"no sender for door {message.door}")
            return None
        try:
            found = await sender.find_delivered(message) if message.attempts > 1 else None
            delivered = found or await sender.deliver(message)
        except Deferred as exc:
            # The platform's own "slow down" says 429; our limiter's wait does not.
            self._result(message, "429" if "429" in exc.reason else "deferred")
            return await self._defer(message, exc.after_seconds, exc.reason)
        except RetryLater as exc:
            return await self._retry(message, exc.reason, exc.after_seconds)
        except Undeliverable as exc:
            await self._finish(message, dead=str(exc))
            return None
        except Exception as exc:  # a bug or an unexpected platform answer: retry, then dead
            log.exception("outbox message %s failed", message.id)
            return await self._retry(message, f"{type(exc).__name__}: {exc}", None)
        await self._finish(message, external_id=delivered.external_id)
        self._result(message, "sent")
        return None

    async def _retry(
        self, message: OutboxMessage, reason: str, after: float | None
    ) -> datetime | None:
        if message.attempts >= self.services.settings.outbox_max_attempts:
            await self._finish(message, dead=reason)
            return None
        self._result(message, "retried")
        wait = after if after is not None else backoff_seconds(message.attempts)
        return await self._reschedule(message, wait, reason, attempts=message.attempts)

    async def _defer(self, message: OutboxMessage, after: float, reason: str) -> datetime:
        # Being asked to wait is not a failed attempt: give back the one the claim counted.
        # Deferred rows of one pass finish in any order; rounding their time up to the whole
        # second gives them the same due time, so the next claim takes them in queue order.
        now = self.services.clock.now()
        due = now + timedelta(seconds=after)
        if due.microsecond:
            due = due.replace(microsecond=0) + timedelta(seconds=1)
        wait = (due - now).total_seconds()
        return await self._reschedule(message, wait, reason, attempts=max(0, message.attempts - 1))

    async def _reschedule(
        self, message: OutboxMessage, after: float, reason: str, *, attempts: int
    ) -> datetime:
        due = self.services.clock.now() + timedelta(seconds=after)
        await self._release(
            message,
            {
                "state": WorkState.PENDING,
                "next_attempt_at": due,
                "attempts": attempts,
                "last_error": reason[:2000],
                "lease_until": None,
            },
        )
        return due

    async def _hold(self, message: OutboxMessage, *, until: datetime) -> None:
        """Put back a message that was not tried, behind an earlier one of its conversation.
        Not trying is no attempt: the one the claim counted is given back."""
        await self._release(
            message,
            {
                "state": WorkState.PENDING,
                "next_attempt_at": until,
                "attempts": max(0, message.attempts - 1),
                "lease_until": None,
            },
        )

    async def _release(self, message: OutboxMessage, values: dict[str, object]) -> None:
        async with self.services.db.transaction() as connection:
            await release(connection, OutboxMessage, message.id, worker=self.worker, values=values)

    async def _finish(
        self, message: OutboxMessage, *, external_id: str | None = None, dead: str | None = None
    ) -> None:
        values: dict[str, object] = {"lease_until": None}
        if dead is not None:
            log.warning("outbox message %s is dead: %s", message.id, dead)
            if self.on_result is not None:
                self.on_result(message.door, "dead")
            values.update(state=WorkState.DEAD, last_error=dead[:2000])
        else:
            values.update(
                state=WorkState.DONE, sent_at=self.services.clock.now(), external_id=external_id
            )
        # One Core statement: the mark and the platform's id land together, at once.
        await self._release(message, values)
