"""The scheduler: APScheduler wakes two loops; the database holds all the state.

- the due sweep claims due reminders in small batches (row leases; `FOR UPDATE SKIP
  LOCKED` on PostgreSQL) and hands each to the handler registered for its kind, several
  at once, a backlog batch after batch; the handler's database work and the reminder
  marked done commit together;
- the outbox loop runs a delivery pass.

APScheduler's own job store is in memory and holds nothing that matters: if the
process dies, the next one finds the same rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.request_id import new_request_id, reset_request_id, set_request_id
from bot.outbox.sender import OutboxSender, backoff_seconds, worker_name
from bot.services import Services
from storage.claims import claim_due, release
from storage.models import Reminder, WorkState

log = logging.getLogger(__name__)

ReminderHandler = Callable[[Reminder, Services], Awaitable[None]]


class ClaimLost(Exception):
    """The reminder's lease ran out while it was being handled and another worker took it."""


class DueSweep:
    """Claims due reminders and runs their handlers. Several sweepers may run at once.

    A pass claims a small batch (`sweep_batch_size`) and hands its reminders to a bounded
    number of handlers running at once (`sweep_concurrency`), each in its own unit of work,
    so one that fails or is slow never holds up, loses or repeats another. The next batch
    is claimed while this one is handled, so at most two batches wait beside the handlers
    running: a process killed mid-pass strands only those (they come back when their
    lease runs out), not a backlog.
    """

    def __init__(
        self,
        services: Services,
        handlers: dict[str, ReminderHandler] | None = None,
        *,
        worker: str | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.services = services
        self.handlers: dict[str, ReminderHandler] = dict(handlers or {})
        self.worker = worker or worker_name()
        wanted = concurrency or services.settings.sweep_concurrency
        # SQLite has one writer: handlers side by side would only queue for its lock and for
        # its two pooled connections (and time out there under load), so one at a time.
        self.concurrency = 1 if services.db.is_sqlite else max(1, wanted)

    def on(self, kind: str, handler: ReminderHandler) -> None:
        self.handlers[kind] = handler

    async def due_reminders(self, limit: int | None = None) -> list[Reminder]:
        """Claim what is due now for this worker (up to a batch)."""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            rows = await claim_due(
                session,
                Reminder,
                Reminder.due_at,
                worker=self.worker,
                now=now,
                lease=timedelta(seconds=self.services.settings.lease_seconds),
                limit=limit or self.services.settings.sweep_batch_size,
            )
            session.expunge_all()
        return list(rows)

    async def run_once(self, limit: int | None = None) -> int:
        """One pass: a batch, and straight away the next while batches come back full (a
        backlog, such as thousands of check-ins due in the same minutes, goes at the
        database's pace, not a batch per tick). Up to `concurrency` handlers run at once;
        the pass ends when they have all finished. Returns how many reminders were done."""
        batch_size = limit or self.services.settings.sweep_batch_size
        room = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[None]] = set()
        done = 0

        async def handle(reminder: Reminder) -> None:
            nonlocal done
            try:
                finished = await self._handle(reminder)
                done += finished  # not `done += await ...`: that reads `done` before waiting
            finally:
                room.release()

        # The next batch is claimed while this one is handled, so the handlers never stand
        # idle through a claim (a claim took about as long as a round of handlers).
        claiming: asyncio.Future[list[Reminder]] = asyncio.ensure_future(
            self.due_reminders(batch_size)
        )
        try:
            while True:
                batch = await claiming
                full = len(batch) == batch_size
                if full:
                    claiming = asyncio.ensure_future(self.due_reminders(batch_size))
                for reminder in batch:
                    await room.acquire()
                    task = asyncio.ensure_future(handle(reminder))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if not full:
                    break
        except asyncio.CancelledError:
            # Stopping (shutdown) mid-pass: the handlers stop too and their units of work
            # roll back; their reminders come back when the lease runs out.
            claiming.cancel()
            for task in running:
                task.cancel()
            raise
        finally:
            # The pass ends when every handler it started has (a claim that failed, say
            # the database went away, leaves the ones already running to finish).
            await asyncio.gather(*running, return_exceptions=True)
        return done

    async def _handle(self, reminder: Reminder) -> int:
        """`_handle_traced` with a request id of its own (`reminder-<id>-...`), so the log
        lines of handling it and of sending what it queued can be followed like a request."""
        token = set_request_id(f"reminder-{reminder.id}-{new_request_id()[:8]}")
        try:
            return await self._handle_traced(reminder)
        finally:
            reset_request_id(token)

    async def _handle_traced(self, reminder: Reminder) -> int:
        """Run one claimed reminder's handler. Its database work and the reminder marked
        done commit together, in one unit of work: a process killed in between keeps
        neither, so the reminder comes back when the lease runs out and is handled once, not
        twice. If the lease ran out meanwhile and another worker holds the claim now, this
        worker's work is rolled back and left to that one. 1 if done, else 0."""
        handler = self.handlers.get(reminder.kind)
        try:
            async with self.services.db.unit_of_work() as session:
                if handler is None:
                    raise LookupError(f"no handler for reminder kind {reminder.kind!r}")
                await handler(reminder, self.services)
                # The unit's own connection, Core rather than the ORM: the same transaction,
                # for about a third of the cost (it is paid once per reminder).
                finished = await release(
                    await session.connection(),
                    Reminder,
                    reminder.id,
                    worker=self.worker,
                    values={
                        "state": WorkState.DONE,
                        "done_at": self.services.clock.now(),
                        "lease_until": None,
                    },
                )
                if not finished:
                    raise ClaimLost
            return 1
        except ClaimLost:
            log.warning(
                "reminder %s (%s): the lease ran out before it was done; another worker has it now",
                reminder.id,
                reminder.kind,
            )
            return 0
        except Exception as exc:
            log.exception("reminder %s (%s) failed", reminder.id, reminder.kind)
            dead = reminder.attempts >= self.services.settings.outbox_max_attempts
            values: dict[str, object] = {
                "state": WorkState.DEAD if dead else WorkState.PENDING,
                "due_at": self.services.clock.now()
                + timedelta(seconds=backoff_seconds(reminder.attempts)),
                "last_error": f"{type(exc).__name__}: {exc}"[:2000],
                "lease_until": None,
            }
            async with self.services.db.session() as session:
                await release(session, Reminder, reminder.id, worker=self.worker, values=values)
            return 0


def until_shutdown(job: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """A job that stops quietly when the server shuts down mid-pass. APScheduler would log
    the cancellation as a failed job, with a traceback, on every ordinary stop. Nothing is
    lost: claimed rows go back to the queue when their lease runs out."""

    async def run() -> int:
        try:
            return await job()
        except asyncio.CancelledError:
            log.info("%s stopped for shutdown", getattr(job, "__qualname__", "a job"))
            return 0

    run.__qualname__ = getattr(job, "__qualname__", "job")
    return run


def build_scheduler(services: Services, sweep: DueSweep, sender: OutboxSender) -> AsyncIOScheduler:
    """Two interval jobs; never overlapping with themselves; missed runs coalesce.

    Both run once as soon as the scheduler starts, so work left by a crashed process
    (claims whose lease ran out, messages due while it was down) resumes at once rather
    than a tick later.
    """
    settings = services.settings
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    start = datetime.now(settings.tz)
    scheduler.add_job(
        until_shutdown(sweep.run_once),
        "interval",
        seconds=settings.sweep_interval_seconds,
        id="due_sweep",
        next_run_time=start,
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        until_shutdown(sender.run_once),
        "interval",
        seconds=settings.outbox_interval_seconds,
        id="outbox",
        next_run_time=start,
        max_instances=1,
        coalesce=True,
    )
    return scheduler
