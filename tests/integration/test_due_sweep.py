"""The due sweep: reminders are claimed with a lease, so no two sweepers ever take the same one.

The race tests run two sweepers, each with its own engine (as two replicas would), on
one database, and check that every reminder was handled exactly once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import build_services
from bot.clock import FixedClock
from bot.scheduler import DueSweep, ReminderHandler
from bot.services import Services
from bot.settings import load_settings
from storage.claims import release
from storage.models import Reminder, WorkState
from storage.reminders import schedule_reminder

KIND = "test.nudge"


@pytest.fixture
async def second_services(database_url: str, services: Services) -> AsyncIterator[Services]:
    """Another replica: its own settings, engine and connection pool, on the same database."""
    settings = load_settings(database_url=database_url, scheduler_enabled=False)
    other = build_services(settings)
    yield other
    await other.db.dispose()


async def schedule_many(services: Services, count: int, due_at: datetime) -> list[int]:
    async with services.db.session() as session:
        reminders = [
            await schedule_reminder(
                session, kind=KIND, due_at=due_at, target_type="test", target_id=n
            )
            for n in range(count)
        ]
        return [r.id for r in reminders]


async def reminder(services: Services, reminder_id: int) -> Reminder:
    async with services.db.session() as session:
        row = await session.get(Reminder, reminder_id)
    assert row is not None
    return row


async def race(sweepers: list[DueSweep], count: int) -> list[tuple[int, str]]:
    """Run the sweepers concurrently until every reminder is done. Returns (id, worker) pairs."""
    handled: list[tuple[int, str]] = []

    def handler_for(worker: str) -> ReminderHandler:
        async def handle(row: Reminder, _services: Services) -> None:
            handled.append((row.id, worker))
            await asyncio.sleep(random.uniform(0, 0.003))

        return handle

    for sweep in sweepers:
        sweep.on(KIND, handler_for(sweep.worker))
    deadline = time.monotonic() + 60
    probe = sweepers[0].services

    async def unfinished() -> int:
        async with probe.db.session() as session:
            left = await session.scalar(
                select(func.count()).select_from(Reminder).where(Reminder.state != WorkState.DONE)
            )
        return int(left or 0)

    async def loop(sweep: DueSweep) -> None:
        while time.monotonic() < deadline:
            if await sweep.run_once(limit=10) == 0:
                # Nothing claimable for us: stop once the others have finished everything.
                if await unfinished() == 0:
                    return
                await asyncio.sleep(0.005)
        raise TimeoutError(f"{sweep.worker} did not finish")

    # Connect every engine first, so the sweepers really start together and their
    # first claims collide (a cold engine would start late and never race).
    for sweep in sweepers:
        async with sweep.services.db.session() as session:
            await session.execute(select(func.count()).select_from(Reminder))
    await asyncio.gather(*(loop(s) for s in sweepers))
    assert len(handled) >= count
    return handled


def assert_each_handled_once(handled: list[tuple[int, str]], ids: list[int]) -> None:
    seen: dict[int, list[str]] = {}
    for reminder_id, worker in handled:
        seen.setdefault(reminder_id, []).append(worker)
    twice = {rid: workers for rid, workers in seen.items() if len(workers) > 1}
    assert not twice, f"claimed more than once: {twice}"
    assert sorted(seen) == sorted(ids)


async def assert_all_done(services: Services, count: int) -> None:
    async with services.db.session() as session:
        states = dict(
            (
                await session.execute(select(Reminder.state, func.count()).group_by(Reminder.state))
            ).all()
        )
        attempts = set((await session.scalars(select(Reminder.attempts))).all())
    assert states == {WorkState.DONE: count}
    assert attempts == {1}, "a reminder done by one sweeper was never claimed again"


async def test_two_sweepers_on_postgres_never_claim_the_same_reminder(
    services: Services, second_services: Services, on_postgres: bool
) -> None:
    if not on_postgres:
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; see the SQLite variant below")
    count = 300
    ids = await schedule_many(services, count, datetime.now(UTC) - timedelta(minutes=1))
    sweepers = [
        DueSweep(services, worker="sweeper-a"),
        DueSweep(second_services, worker="sweeper-b"),
    ]

    handled = await race(sweepers, count)

    assert_each_handled_once(handled, ids)
    workers = {worker for _, worker in handled}
    assert workers == {"sweeper-a", "sweeper-b"}, "both sweepers should have done some"
    await assert_all_done(services, count)


async def test_two_engines_on_one_sqlite_file_never_claim_the_same_reminder(
    services: Services, second_services: Services, on_postgres: bool
) -> None:
    """On SQLite the compare-and-set UPDATE alone must stop double claims."""
    if on_postgres:
        pytest.skip("the PostgreSQL variant above covers this with SKIP LOCKED")
    count = 120
    ids = await schedule_many(services, count, datetime.now(UTC) - timedelta(minutes=1))
    sweepers = [
        DueSweep(services, worker="sweeper-a"),
        DueSweep(second_services, worker="sweeper-b"),
    ]

    handled = await race(sweepers, count)

    assert_each_handled_once(handled, ids)
    assert {worker for _, worker in handled} == {"sweeper-a", "sweeper-b"}
    await assert_all_done(services, count)


async def test_a_failing_handler_puts_the_reminder_back_with_the_error(
    services: Services,
) -> None:
    now = datetime.now(UTC)
    services.clock = FixedClock(now)
    (reminder_id,) = await schedule_many(services, 1, now - timedelta(seconds=1))
    calls: list[int] = []

    async def broken(row: Reminder, _services: Services) -> None:
        calls.append(row.id)
        raise ConnectionError("the council's calendar did not answer")

    sweep = DueSweep(services, {KIND: broken}, worker="sweeper-a")
    assert await sweep.run_once() == 0

    row = await reminder(services, reminder_id)
    assert calls == [reminder_id]
    assert row.state == WorkState.PENDING
    assert row.attempts == 1
    assert row.last_error == "ConnectionError: the council's calendar did not answer"
    assert row.due_at > now, "it waits (backoff) before the next try"
    assert row.lease_until is None and row.done_at is None

    assert await sweep.run_once() == 0
    assert calls == [reminder_id], "not tried again before its new due time"


async def test_an_expired_lease_makes_a_claimed_reminder_claimable_again(
    services: Services, second_services: Services
) -> None:
    now = datetime.now(UTC)
    clock = FixedClock(now)
    services.clock = clock
    second_services.clock = clock
    (reminder_id,) = await schedule_many(services, 1, now - timedelta(seconds=1))
    handled: list[int] = []

    async def handle(row: Reminder, _services: Services) -> None:
        handled.append(row.id)

    crashed = DueSweep(services, {KIND: handle}, worker="sweeper-a")
    other = DueSweep(second_services, {KIND: handle}, worker="sweeper-b")

    # sweeper-a claims the reminder and then dies without finishing it.
    claimed = await crashed.due_reminders()
    assert [r.id for r in claimed] == [reminder_id]
    row = await reminder(services, reminder_id)
    assert row.state == WorkState.CLAIMED and row.claimed_by == "sweeper-a"
    assert row.lease_until == now + timedelta(seconds=services.settings.lease_seconds)

    # While the lease holds, nobody else may take it.
    assert await other.run_once() == 0 and handled == []

    clock.advance(timedelta(seconds=services.settings.lease_seconds, milliseconds=1))
    assert await other.run_once() == 1
    row = await reminder(services, reminder_id)
    assert row.state == WorkState.DONE and row.claimed_by == "sweeper-b" and row.attempts == 2
    assert handled == [reminder_id]

    # sweeper-a coming back late cannot overwrite what sweeper-b finished.
    async with services.db.session() as session:
        stale = await release(
            session, Reminder, reminder_id, worker="sweeper-a", values={"state": WorkState.PENDING}
        )
    assert stale is False
    assert (await reminder(services, reminder_id)).state == WorkState.DONE


async def test_a_reminder_not_yet_due_is_not_claimed(services: Services) -> None:
    now = datetime.now(UTC)
    clock = FixedClock(now)
    services.clock = clock
    (reminder_id,) = await schedule_many(services, 1, now + timedelta(hours=1))
    handled: list[int] = []

    async def handle(row: Reminder, _services: Services) -> None:
        handled.append(row.id)

    sweep = DueSweep(services, {KIND: handle}, worker="sweeper-a")
    assert await sweep.due_reminders() == []
    assert await sweep.run_once() == 0
    row = await reminder(services, reminder_id)
    assert row.state == WorkState.PENDING and row.attempts == 0 and row.claimed_by is None
    assert handled == []

    clock.advance(timedelta(hours=1))
    assert await sweep.run_once() == 1
    assert handled == [reminder_id]


async def effects(services: Services) -> list[str]:
    """What the handlers below leave behind: reminders of another kind, one per firing."""
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(Reminder.target_id).where(Reminder.kind == "test.effect")
                )
            ).all()
        )


async def leave_effect(services: Services, row: Reminder) -> None:
    async with services.db.session() as session:
        await schedule_reminder(
            session,
            kind="test.effect",
            due_at=row.due_at + timedelta(days=1),
            target_type="test",
            target_id=row.id,
        )


async def test_a_backlog_bigger_than_a_batch_is_done_in_one_pass(services: Services) -> None:
    """Before, a pass took one batch (50) and the rest waited for the next tick (30 s):
    100,000 reminders due within minutes fell hours behind (bench/reminders_at_scale.py)."""
    now = datetime.now(UTC)
    services.clock = FixedClock(now)
    ids = await schedule_many(services, 125, now - timedelta(seconds=1))
    handled: list[int] = []

    async def handle(row: Reminder, _services: Services) -> None:
        handled.append(row.id)

    sweep = DueSweep(services, {KIND: handle}, worker="sweeper-a")
    assert await sweep.run_once(limit=50) == 125
    assert sorted(handled) == sorted(ids)
    await assert_all_done(services, 125)


async def test_a_handlers_work_is_kept_only_if_its_reminder_is_done(
    services: Services, second_services: Services
) -> None:
    """The handler's writes and `done` commit together: work done under a claim that has
    meanwhile gone to another worker (its lease ran out) is rolled back, so the reminder's
    effect happens once, by the worker that finishes it. A process killed between its
    handler and `done` is the same case: its work was never committed."""
    now = datetime.now(UTC)
    clock = FixedClock(now)
    services.clock = clock
    second_services.clock = clock
    (reminder_id,) = await schedule_many(services, 1, now - timedelta(seconds=1))
    other = DueSweep(second_services, worker="sweeper-b")

    async def slow(row: Reminder, handler_services: Services) -> None:
        # This worker takes longer than its lease; meanwhile sweeper-b claims the reminder.
        clock.advance(timedelta(seconds=handler_services.settings.lease_seconds + 1))
        assert [r.id for r in await other.due_reminders()] == [reminder_id]
        await leave_effect(handler_services, row)

    slow_sweep = DueSweep(services, {KIND: slow}, worker="sweeper-a")
    assert await slow_sweep.run_once() == 0
    assert await effects(services) == [], "the late worker's work was rolled back"
    row = await reminder(services, reminder_id)
    assert row.state == WorkState.CLAIMED and row.claimed_by == "sweeper-b"

    async def quick(row: Reminder, handler_services: Services) -> None:
        await leave_effect(handler_services, row)

    other.on(KIND, quick)
    clock.advance(timedelta(seconds=services.settings.lease_seconds + 1))
    assert await other.run_once() == 1
    assert await effects(services) == [str(reminder_id)]
    assert (await reminder(services, reminder_id)).state == WorkState.DONE


async def test_a_failing_handlers_half_done_work_is_not_kept(services: Services) -> None:
    now = datetime.now(UTC)
    services.clock = FixedClock(now)
    (reminder_id,) = await schedule_many(services, 1, now - timedelta(seconds=1))

    async def half(row: Reminder, handler_services: Services) -> None:
        await leave_effect(handler_services, row)
        raise ConnectionError("the council's calendar did not answer")

    sweep = DueSweep(services, {KIND: half}, worker="sweeper-a")
    assert await sweep.run_once() == 0
    assert await effects(services) == []
    row = await reminder(services, reminder_id)
    assert row.state == WorkState.PENDING and row.attempts == 1
    assert row.last_error == "ConnectionError: the council's calendar did not answer"


# --------------------------------------------------------------------------
# Several handlers at once (sweep_concurrency), small batches (sweep_batch_size)
# --------------------------------------------------------------------------


class InFlight:
    """Counts the handlers running at the same moment."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    async def __aenter__(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    async def __aexit__(self, *exc: object) -> None:
        self.now -= 1


async def test_a_pass_runs_up_to_the_concurrency_setting_at_once_and_no_more(
    services: Services, on_postgres: bool
) -> None:
    now = datetime.now(UTC)
    services.clock = FixedClock(now)
    ids = await schedule_many(services, 40, now - timedelta(seconds=1))
    flight = InFlight()
    handled: list[int] = []

    async def slow(row: Reminder, _services: Services) -> None:
        async with flight:
            await asyncio.sleep(0.02)
            handled.append(row.id)

    sweep = DueSweep(services, {KIND: slow}, worker="sweeper-a", concurrency=4)
    assert await sweep.run_once(limit=10) == 40
    assert sorted(handled) == sorted(ids)
    await assert_all_done(services, 40)
    if on_postgres:
        assert flight.most == 4, "four handlers ran side by side, never a fifth"
    else:
        assert flight.most == 1, "SQLite has one writer: one handler at a time"


async def test_a_handler_that_fails_stops_none_of_the_others_and_is_tried_again_later(
    services: Services,
) -> None:
    now = datetime.now(UTC)
    clock = FixedClock(now)
    services.clock = clock
    ids = await schedule_many(services, 12, now - timedelta(seconds=1))
    unlucky = ids[3]
    calls: list[int] = []
    calendar_down = True

    async def handle(row: Reminder, handler_services: Services) -> None:
        calls.append(row.id)
        await leave_effect(handler_services, row)
        await asyncio.sleep(0)
        if row.id == unlucky and calendar_down:
            raise ConnectionError("the council's calendar did not answer")

    sweep = DueSweep(services, {KIND: handle}, worker="sweeper-a", concurrency=4)
    assert await sweep.run_once(limit=5) == 11
    assert sorted(calls) == sorted(ids)
    assert sorted(await effects(services)) == sorted(str(i) for i in ids if i != unlucky), (
        "each done reminder's work was kept; the failed one's was rolled back"
    )
    row = await reminder(services, unlucky)
    assert row.state == WorkState.PENDING and row.attempts == 1
    assert row.last_error == "ConnectionError: the council's calendar did not answer"

    assert await sweep.run_once() == 0, "not before its backoff"
    calendar_down = False
    clock.advance(timedelta(hours=1))
    assert await sweep.run_once() == 1
    assert calls.count(unlucky) == 2
    assert sorted(await effects(services)) == sorted(str(i) for i in ids)
    assert (await reminder(services, unlucky)).state == WorkState.DONE


async def test_each_reminders_work_commits_with_its_own_done_mark(
    services: Services, on_postgres: bool
) -> None:
    """Handlers side by side each have their own unit of work: one that is still running
    has committed nothing, while those that finished are done with their work kept."""
    now = datetime.now(UTC)
    services.clock = FixedClock(now)
    ids = await schedule_many(services, 6, now - timedelta(seconds=1))
    slow_one = ids[0]
    seen_while_slow: list[str] = []

    async def handle(row: Reminder, handler_services: Services) -> None:
        await leave_effect(handler_services, row)
        if row.id == slow_one and on_postgres:
            # Wait (10 s at most) until the other handlers' work shows from outside: another
            # task has its own session, outside this handler's unit of work.
            for _ in range(1000):
                seen = await asyncio.ensure_future(effects(services))
                if len(seen) >= len(ids) - 1:
                    break
                await asyncio.sleep(0.01)
            seen_while_slow.extend(seen)

    sweep = DueSweep(services, {KIND: handle}, worker="sweeper-a", concurrency=6)
    assert await sweep.run_once(limit=6) == 6
    assert sorted(await effects(services)) == sorted(str(i) for i in ids)
    assert {(await reminder(services, i)).state for i in ids} == {WorkState.DONE}
    if on_postgres:
        # The others were done and their work kept while the slow one's was not yet seen.
        assert sorted(seen_while_slow) == sorted(str(i) for i in ids if i != slow_one)


async def test_a_sweep_stopped_mid_pass_keeps_no_half_work_and_strands_few(
    services: Services, second_services: Services, on_postgres: bool
) -> None:
    """A process stopping (or killed) mid-pass: its running handlers' work is rolled back
    and what it had claimed but not finished is at most the handlers running plus two
    batches (the one waiting for a place and the next, claimed ahead); another sweeper
    takes those once their lease has run out."""
    now = datetime.now(UTC)
    clock = FixedClock(now)
    services.clock = clock
    second_services.clock = clock
    ids = await schedule_many(services, 60, now - timedelta(seconds=1))
    started = asyncio.Event()
    stuck = asyncio.Event()

    async def hangs(row: Reminder, handler_services: Services) -> None:
        await leave_effect(handler_services, row)
        started.set()
        await stuck.wait()

    sweep = DueSweep(services, {KIND: hangs}, worker="sweeper-a", concurrency=3)
    running = asyncio.ensure_future(sweep.run_once(limit=5))
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.2)  # let it claim what it will
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    assert await effects(services) == [], "the handlers' work was rolled back"
    async with services.db.session() as session:
        claimed = int(
            await session.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.state == WorkState.CLAIMED, Reminder.kind == KIND)
            )
            or 0
        )
    running_at_most = sweep.concurrency
    assert 1 <= claimed <= running_at_most + 2 * 5, "the handlers running plus two batches at most"

    handled: list[int] = []

    async def quick(row: Reminder, handler_services: Services) -> None:
        handled.append(row.id)
        await leave_effect(handler_services, row)

    other = DueSweep(second_services, {KIND: quick}, worker="sweeper-b")
    assert await other.run_once() == 60 - claimed, "the stranded ones wait for their lease"
    clock.advance(timedelta(seconds=services.settings.lease_seconds, milliseconds=1))
    assert await other.run_once() == claimed
    assert sorted(handled) == sorted(ids)
    assert sorted(await effects(services)) == sorted(str(i) for i in ids)


async def test_two_sweepers_side_by_side_with_many_handlers_each_handle_each_reminder_once(
    services: Services, second_services: Services, on_postgres: bool
) -> None:
    """The race again, with 8 handlers at once in each sweeper and small batches."""
    if not on_postgres:
        pytest.skip("SQLite handles one at a time; the SQLite race test above covers it")
    count = 400
    ids = await schedule_many(services, count, datetime.now(UTC) - timedelta(minutes=1))
    sweepers = [
        DueSweep(services, worker="sweeper-a", concurrency=8),
        DueSweep(second_services, worker="sweeper-b", concurrency=8),
    ]

    handled = await race(sweepers, count)

    assert_each_handled_once(handled, ids)
    assert {worker for _, worker in handled} == {"sweeper-a", "sweeper-b"}
    await assert_all_done(services, count)
