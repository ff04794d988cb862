"""100,000 reminders due over a few minutes, two Convene processes sweeping at once, one killed.

Everything Convene schedules (check-ins, key dates, deadlines) is a row in the reminders
table, claimed and handled by the due sweep (`bot.scheduler.DueSweep`). This bench asks
whether that holds up at scale, with a crash in the middle:

- a fresh PostgreSQL database of its own beside BENCH_DATABASE_URL (default: the `test`
  database on 127.0.0.1:5432), dropped afterwards;
- `--reminders` (100,000) pending reminders of a bench-only kind, due evenly over
  `--spread-seconds` (300) starting a few seconds after they are made due (they are
  inserted far in the future first, then moved to their real times in one UPDATE, so how
  long inserting takes does not count as lateness);
- two `convene serve` processes (the real command, the real scheduler and DueSweep) on that
  database. The bench kind's handler is registered only in these processes (a small bench
  feature added before the app is built): it inserts a row saying which reminder fired,
  in which process, when it was due and when it ran (its own transaction, like a real
  handler's work). `CONVENE_SWEEP_INTERVAL_SECONDS` is set to `--sweep-interval` (1 s; the
  product default is 30 s, which alone would make lateness up to 30 s);
- at `--kill-at` (40%) of the spread one process is killed with SIGKILL and started again
  at once. What it had claimed comes back when its lease (`--lease-seconds`, the product
  default of 60 s) runs out.

Then a baseline: one process holding one APScheduler job per reminder (`date` trigger, an
in-memory job store, `misfire_grace_time=None` so a late job still runs rather than being
dropped), the same handler work, the same count and spread unless `--baseline-reminders`
says otherwise (it is then a scaled sample, and said so). It is not killed: its jobs live
only in its memory, so a kill would lose every one not yet run.

Prints, for each: fired (distinct reminders handled), duplicates (reminders handled more
than once), lost (for the sweep counted row by row: no firing recorded and no longer pending
or claimed; for the baseline, jobs never run), lateness after due (p50, p99, max), how many
reminders the killed process left claimed (they wait for the lease, so they are late by up to
it: small batches keep them a small share),
and each process's peak RSS (VmHWM from /proc, read every 0.2 s while it runs; the
killed one's is its last reading). Targets: 0 duplicates, 0 lost, p99 lateness under 2 s,
peak RSS under 200 MB per process. Ends with `targets met` or what fell short.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.reminders_at_scale
    python -m bench.reminders_at_scale --reminders 5000 --spread-seconds 30   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.common import ChildServer, bench_database

KIND = "bench.reminder_fired"
TARGET_TYPE = "bench"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
TARGET_P99_SECONDS = 2.0
TARGET_RSS_MB = 200.0

FIRED_TABLE = """
CREATE TABLE bench_fired (
    id BIGSERIAL PRIMARY KEY,
    run TEXT NOT NULL,
    reminder_id BIGINT NOT NULL,
    pid INTEGER NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    fired_at TIMESTAMPTZ NOT NULL
)
"""
RECORD = text(
    "INSERT INTO bench_fired (run, reminder_id, pid, due_at, fired_at)"
    " VALUES (:run, :reminder_id, :pid, :due_at, :fired_at)"
)


# --------------------------------------------------------------------------
# In the child processes
# --------------------------------------------------------------------------


async def record(db: Any, run: str, reminder_id: int, due_at: datetime) -> None:
    """What a firing does here: one row, in its own transaction."""
    fired_at = datetime.now(UTC)
    async with db.session() as session:
        await session.execute(
            RECORD,
            {
                "run": run,
                "reminder_id": reminder_id,
                "pid": os.getpid(),
                "due_at": due_at,
                "fired_at": fired_at,
            },
        )


async def fired(reminder: Any, services: Any) -> None:
    """The bench kind's reminder handler (registered only in the bench's serve processes)."""
    await record(services.db, "sweep", reminder.id, reminder.due_at)


def _log_to(path: str) -> None:
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)


def serve() -> None:
    """Child process: `convene serve`, with the bench kind's handler added to the features."""
    _log_to(os.environ["BENCH_LOG"])
    from bot.core.feature import Feature
    from handlers import features

    registry = features()
    registry.features = (*registry.features, Feature(name="bench", reminders={KIND: fired}))
    from bot.cli import app

    app(
        ["serve", "--host", "127.0.0.1", "--port", os.environ["BENCH_PORT"]],
        prog_name="convene",
    )


def baseline() -> None:
    """Child process: one APScheduler job per reminder, in memory, in one process."""
    _log_to(os.environ["BENCH_LOG"])
    asyncio.run(_baseline(int(os.environ["BENCH_REMINDERS"]), float(os.environ["BENCH_SPREAD"])))


async def _baseline(count: int, spread: float) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from storage.db import Database

    db = Database(os.environ["DATABASE_URL"])
    done = asyncio.Event()
    remaining = count

    async def job(reminder_id: int, due_at: datetime) -> None:
        nonlocal remaining
        await record(db, "baseline", reminder_id, due_at)
        remaining -= 1
        if remaining == 0:
            done.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    lead = float(os.environ["BENCH_LEAD"])
    started = time.perf_counter()
    first = datetime.now(UTC) + timedelta(seconds=lead)
    for n in range(count):
        due = first + timedelta(seconds=spread * n / count)
        scheduler.add_job(
            job,
            "date",
            run_date=due,
            args=(n + 1, due),
            id=str(n + 1),
            misfire_grace_time=None,
        )
    scheduler.start()
    print(f"added {count} jobs in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=lead + spread + 600)
    finally:
        scheduler.shutdown(wait=False)
        await db.dispose()


# --------------------------------------------------------------------------
# Watching processes
# --------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Watched:
    label: str
    pid: int
    peak_mb: float = 0.0


@dataclass
class RssWatch:
    """Reads every watched process's peak RSS every 0.2 s, keeping the last reading."""

    processes: list[Watched] = field(default_factory=list)

    def add(self, label: str, pid: int) -> Watched:
        watched = Watched(label, pid)
        self.processes.append(watched)
        return watched

    def read(self) -> None:
        for watched in self.processes:
            peak = peak_rss_mb(watched.pid)
            if peak is not None:
                watched.peak_mb = max(watched.peak_mb, peak)

    async def run(self) -> None:
        while True:
            self.read()
            await asyncio.sleep(0.2)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def percentile(ordered: Sequence[float], p: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Figures:
    name: str
    expected: int
    fired: int
    duplicates: int
    extra_runs: int
    lateness: list[float]
    processes: list[Watched]
    notes: list[str] = field(default_factory=list)
    #: Not fired yet but still in the reminders table (pending or claimed) when the bench
    #: stopped waiting: late, not lost; the next sweep would take them.
    queued: int = 0
    #: Counted row by row where there are rows (the sweep): never fired and no longer
    #: queued (finished or dead without a firing). None: expected less fired less queued.
    lost_rows: int | None = None

    @property
    def lost(self) -> int:
        if self.lost_rows is not None:
            return self.lost_rows
        return self.expected - self.fired - self.queued

    def lines(self) -> list[str]:
        late = sorted(self.lateness)
        over = sum(1 for s in late if s >= TARGET_P99_SECONDS)
        rss = ", ".join(f"{w.label} {w.peak_mb:.0f} MB" for w in self.processes)
        return [
            f"{self.name}",
            f"  fired {self.fired:,} of {self.expected:,}   duplicates {self.duplicates:,}"
            f" ({self.extra_runs:,} extra runs)   lost {self.lost:,}"
            + (
                f"   still queued when the bench stopped waiting {self.queued:,}"
                if self.queued
                else ""
            ),
            f"  lateness after due: p50 {percentile(late, 50):.3f} s   p99 {percentile(late, 99):.3f} s"
            f"   max {late[-1] if late else float('nan'):.3f} s   {over:,} at {TARGET_P99_SECONDS:.0f} s or more",
            f"  peak RSS: {rss}",
            *(f"  {note}" for note in self.notes),
        ]

    def shortfalls(self) -> list[str]:
        late = sorted(self.lateness)
        p99 = percentile(late, 99)
        missed = []
        if self.duplicates:
            missed.append(f"{self.name}: {self.duplicates} duplicates")
        if self.lost:
            missed.append(f"{self.name}: {self.lost} lost")
        if self.queued:
            missed.append(f"{self.name}: {self.queued} not fired in time (still queued)")
        if not p99 < TARGET_P99_SECONDS:
            missed.append(
                f"{self.name}: p99 lateness {p99:.2f} s (target < {TARGET_P99_SECONDS} s)"
            )
        for w in self.processes:
            if w.peak_mb >= TARGET_RSS_MB:
                missed.append(f"{self.name}: {w.label} peak RSS {w.peak_mb:.0f} MB")
        return missed


async def tally(db: Any, run: str, expected: int, processes: list[Watched]) -> Figures:
    async with db.session() as session:
        distinct, total = (
            await session.execute(
                text(
                    "SELECT count(DISTINCT reminder_id), count(*) FROM bench_fired WHERE run = :run"
                ),
                {"run": run},
            )
        ).one()
        duplicates = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT reminder_id FROM bench_fired WHERE run = :run"
                " GROUP BY reminder_id HAVING count(*) > 1) AS twice"
            ),
            {"run": run},
        )
        # The first firing of each reminder: how late after its due time.
        lateness = list(
            await session.scalars(
                text(
                    "SELECT EXTRACT(EPOCH FROM min(fired_at) - min(due_at)) FROM bench_fired"
                    " WHERE run = :run GROUP BY reminder_id"
                ),
                {"run": run},
            )
        )
        per_pid = (
            await session.execute(
                text(
                    "SELECT pid, count(*) FROM bench_fired WHERE run = :run GROUP BY pid ORDER BY pid"
                ),
                {"run": run},
            )
        ).all()
    by_pid = {w.pid: w.label for w in processes}
    share = ", ".join(f"{by_pid.get(pid, pid)} {n:,}" for pid, n in per_pid)
    return Figures(
        name=run,
        expected=expected,
        fired=int(distinct),
        duplicates=int(duplicates or 0),
        extra_runs=int(total) - int(distinct),
        lateness=[float(s) for s in lateness],
        processes=processes,
        notes=[f"handled by: {share}"],
    )


# --------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------


async def seed(db: Any, count: int) -> None:
    """`count` pending reminders of the bench kind, due far in the future for now."""
    from storage.models import Reminder, WorkState

    async with db.engine.begin() as conn:
        await conn.execute(text(FIRED_TABLE))
    step = 10_000
    for start in range(0, count, step):
        async with db.session() as session:
            await session.execute(
                insert(Reminder),
                [
                    {
                        "kind": KIND,
                        "due_at": FAR_FUTURE,
                        "target_type": TARGET_TYPE,
                        "target_id": str(n),
                        "payload": {},
                        "state": WorkState.PENDING,
                    }
                    for n in range(start, min(count, start + step))
                ],
            )


async def make_due(db: Any, count: int, spread: float, lead: float) -> datetime:
    """Move every bench reminder to its real time in one statement: evenly over `spread`
    seconds from `lead` seconds from now. Returns the first due time."""
    first = datetime.now(UTC) + timedelta(seconds=lead)
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE reminders SET due_at = CAST(:first AS TIMESTAMPTZ) + make_interval("
                "secs => CAST(target_id AS INTEGER) * CAST(:step AS DOUBLE PRECISION))"
                " WHERE kind = :kind"
            ),
            {"first": first, "step": spread / count, "kind": KIND},
        )
    return first


async def states(db: Any) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(
            text("SELECT state, count(*) FROM reminders WHERE kind = :kind GROUP BY state"),
            {"kind": KIND},
        )
        return {str(state): int(n) for state, n in rows}


async def never_fired(db: Any) -> int:
    """Bench reminders with no firing recorded that are no longer queued: really lost."""
    async with db.session() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM reminders r WHERE r.kind = :kind"
                    " AND r.state NOT IN ('pending', 'claimed') AND NOT EXISTS ("
                    "SELECT 1 FROM bench_fired f WHERE f.run = 'sweep' AND f.reminder_id = r.id)"
                ),
                {"kind": KIND},
            )
            or 0
        )


async def stranded(db: Any, pid: int) -> int:
    """Bench reminders claimed by the process `pid` and not finished (after its kill)."""
    async with db.session() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM reminders WHERE kind = :kind AND state = 'claimed'"
                    " AND claimed_by LIKE :worker"
                ),
                {"kind": KIND, "worker": f"%:{pid}"},
            )
            or 0
        )


async def reclaimed(db: Any) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM reminders WHERE kind = :kind AND attempts > 1"),
                {"kind": KIND},
            )
            or 0
        )


async def fired_count(db: Any, run: str) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(
                text("SELECT count(DISTINCT reminder_id) FROM bench_fired WHERE run = :run"),
                {"run": run},
            )
            or 0
        )


def sweep_setting(name: str) -> str:
    """The serve processes' sweep setting (from the environment they inherit, else the default)."""
    from bot.settings import Settings

    return os.environ.get(
        f"CONVENE_SWEEP_{name.upper()}", str(Settings.model_fields[f"sweep_{name}"].default)
    )


def server(db_url: str, log: str, options: argparse.Namespace) -> ChildServer:
    return ChildServer(
        "bench.reminders_at_scale",
        "--serve",
        env={
            "DATABASE_URL": db_url,
            "BENCH_LOG": log,
            "CONVENE_SECRET_KEY": "bench",
            "CONVENE_LOG_LEVEL": "WARNING",
            "CONVENE_SCHEDULER_ENABLED": "true",
            "CONVENE_SWEEP_INTERVAL_SECONDS": str(options.sweep_interval),
            "CONVENE_LEASE_SECONDS": str(options.lease_seconds),
        },
        # On a loaded machine `convene serve` can take well over the usual 30 s to answer.
        start_seconds=180.0,
    )


async def sweep_run(db: Any, db_url: str, folder: Path, options: argparse.Namespace) -> Figures:
    count, spread = options.reminders, options.spread_seconds
    seeding = time.perf_counter()
    await seed(db, count)
    print(f"seeded {count:,} reminders in {time.perf_counter() - seeding:.1f} s")
    watch = RssWatch()
    a = server(db_url, str(folder / "serve-a.log"), options)
    b = server(db_url, str(folder / "serve-b.log"), options)
    watcher = asyncio.ensure_future(watch.run())
    try:
        await a.__aenter__()
        await b.__aenter__()
        assert a.proc is not None and b.proc is not None
        watch.add("A", a.proc.pid)
        watch.add("B", b.proc.pid)
        first = await make_due(db, count, spread, options.lead_seconds)
        last_due = first + timedelta(seconds=spread)
        kill_at = first + timedelta(seconds=spread * options.kill_at)
        await asyncio.sleep(max(0.0, (kill_at - datetime.now(UTC)).total_seconds()))
        watch.read()
        killed = a.proc.pid
        a.proc.kill()  # SIGKILL: no shutdown, no cleanup, its claims left leased
        a.proc.wait()
        down = time.monotonic()
        done_before = await fired_count(db, "sweep")
        left_claimed = await stranded(db, killed)
        await a.__aenter__()
        restart = time.monotonic() - down
        assert a.proc is not None
        watch.add("A restarted", a.proc.pid)
        print(
            f"killed A (SIGKILL) at {options.kill_at:.0%} of the spread, {done_before:,} fired by then;"
            f" it left {left_claimed:,} reminders claimed ({left_claimed / count:.2%} of all), which"
            f" wait for their {options.lease_seconds} s lease; back up in {restart:.1f} s"
        )
        deadline = last_due + timedelta(seconds=options.lease_seconds + options.timeout)
        said = time.monotonic()
        while datetime.now(UTC) < deadline:
            left = await states(db)
            if not left.get("pending") and not left.get("claimed"):
                break
            if time.monotonic() - said >= 30:
                said = time.monotonic()
                elapsed = (datetime.now(UTC) - first) / (last_due - first)
                due = min(count, max(0, int(count * elapsed)))
                print(f"  {await fired_count(db, 'sweep'):,} fired, {due:,} due so far", flush=True)
            await asyncio.sleep(1.0)
        await asyncio.sleep(2.0)  # a late duplicate would show now
        watch.read()
    finally:
        watcher.cancel()
        await a.__aexit__(None, None, None)
        await b.__aexit__(None, None, None)
    figures = await tally(db, "sweep", count, watch.processes)
    left = await states(db)
    figures.queued = left.get("pending", 0) + left.get("claimed", 0)
    figures.lost_rows = await never_fired(db)
    again = await reclaimed(db)
    figures.notes.append(
        f"reminder states at the end: {', '.join(f'{k} {v:,}' for k, v in sorted(left.items()))}"
    )
    figures.notes.append(
        f"claimed more than once: {again:,} ({again / count:.2%} of all): the killed process's"
        f" claims, late by up to the {options.lease_seconds} s lease (the kill's unavoidable"
        f" cost, kept small by small batches: sweep batch {sweep_setting('batch_size')},"
        f" {sweep_setting('concurrency')} at once per process)"
    )
    return figures


async def baseline_run(db_url: str, folder: Path, options: argparse.Namespace) -> Figures:
    count = options.baseline_reminders or options.reminders
    spread = options.spread_seconds * count / options.reminders
    log = folder / "baseline.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BENCH_LOG": str(log),
        "BENCH_REMINDERS": str(count),
        "BENCH_SPREAD": str(spread),
        "BENCH_LEAD": str(options.baseline_lead_seconds),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.reminders_at_scale", "--baseline", env=env
    )
    watch = RssWatch()
    watch.add("one process", proc.pid)
    watcher = asyncio.ensure_future(watch.run())
    try:
        await asyncio.wait_for(
            proc.wait(), timeout=options.baseline_lead_seconds + spread + options.timeout + 60
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
    finally:
        watcher.cancel()
    from storage.db import Database

    db = Database(db_url)
    try:
        figures = await tally(db, "baseline", count, watch.processes)
    finally:
        await db.dispose()
    added = log.read_text().strip().splitlines()
    figures.notes = [line for line in added if line.startswith("added")]
    if count != options.reminders:
        figures.notes.append(
            f"a scaled sample: {count:,} reminders over {spread:.0f} s (the same rate)"
        )
    return figures


async def main(options: argparse.Namespace) -> int:
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    from storage.db import Database

    async with bench_database() as (db_url, backend):
        if backend != "PostgreSQL":
            print("reminders_at_scale needs PostgreSQL (BENCH_DATABASE_URL)")
            return 2
        folder = Path(tempfile.mkdtemp(prefix="convene-reminders-"))
        db = Database(db_url)
        try:
            sweep = await sweep_run(db, db_url, folder, options)
        finally:
            await db.dispose()
        base = (
            await baseline_run(db_url, folder, options) if options.baseline_reminders >= 0 else None
        )
    print()
    print(
        f"{options.reminders:,} reminders due over {options.spread_seconds:.0f} s, on PostgreSQL;"
        f" sweep every {options.sweep_interval:g} s, lease {options.lease_seconds} s,"
        f" batch {sweep_setting('batch_size')}, {sweep_setting('concurrency')} at once"
        f" (logs in {folder})"
    )
    for line in sweep.lines():
        print(line)
    missed = sweep.shortfalls()
    if base is not None:
        for line in base.lines():
            print(line.replace("baseline", "baseline: one APScheduler job per reminder", 1))
    print(
        f"targets: 0 duplicates, 0 lost, p99 lateness < {TARGET_P99_SECONDS:.0f} s,"
        f" peak RSS < {TARGET_RSS_MB:.0f} MB per process (the sweep's processes)"
    )
    if missed:
        print("short of the targets: " + "; ".join(missed))
        return 1
    print("targets met")
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders_at_scale")
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--spread-seconds", type=float, default=300.0)
    parser.add_argument("--lead-seconds", type=float, default=5.0)
    parser.add_argument("--sweep-interval", type=float, default=1.0)
    parser.add_argument("--lease-seconds", type=int, default=60)
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of the spread")
    parser.add_argument(
        "--baseline-reminders",
        type=int,
        default=0,
        help="reminders for the APScheduler baseline (0: as many as --reminders; -1: skip it)",
    )
    parser.add_argument("--baseline-lead-seconds", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="extra seconds to wait")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    if options.serve:
        serve()
    elif options.baseline:
        baseline()
    else:
        sys.exit(asyncio.run(main(options)))
