"""Shared pieces for benchmarks: a server in a child process, latency statistics, load loops."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support.servers import free_port


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.throughput:8.1f} req/s   p50 {self.percentile(50) * 1000:7.1f} ms"
            f"   p99 {self.percentile(99) * 1000:7.1f} ms   errors {self.errors}"
        )


class ChildServer:
    """Runs `python -m <module> <args>` with PORT in the environment and waits for /healthz."""

    def __init__(
        self,
        module: str,
        *args: str,
        env: dict[str, str] | None = None,
        start_seconds: float = 30.0,
    ) -> None:
        #: How long to wait for /healthz (a loaded machine starts a server slowly).
        self.start_seconds = start_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", module, *args]
        self.env = {**os.environ, **(env or {}), "BENCH_PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> ChildServer:
        self.proc = subprocess.Popen(self.cmd, env=self.env)  # noqa: ASYNC220 - starts at once
        deadline = time.monotonic() + self.start_seconds
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.cmd} exited with {self.proc.returncode}")
                try:
                    async with client.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.cmd} did not start")

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def run_load(
    name: str,
    send: Callable[[aiohttp.ClientSession, int], Awaitable[bool]],
    *,
    clients: int,
    total: int,
) -> Result:
    """`clients` concurrent loops sharing `total` requests; each request's latency is kept."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            nonlocal errors
            for n in counter:
                started = time.perf_counter()
                ok = await send(client, n)
                latencies.append(time.perf_counter() - started)
                if not ok:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Result(name, total, errors, elapsed, latencies)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[str, str]]:
    """(database URL, backend name): a fresh PostgreSQL database beside BENCH_DATABASE_URL,
    dropped afterwards, or a new SQLite file."""
    from storage.db import normalise_url
    from tests.support.databases import create_postgres_database, drop_postgres_database, migrate

    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        folder = Path(tempfile.mkdtemp(prefix="convene-bench-"))
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}", "SQLite"
        return
    base = normalise_url(base)
    url = await create_postgres_database(base)
    try:
        await migrate(url)
        yield url, "PostgreSQL"
    finally:
        await drop_postgres_database(base, url)


async def measure_server(
    name: str,
    server: ChildServer,
    make_sender: Callable[[str], Callable[[aiohttp.ClientSession, int], Awaitable[bool]]],
    follow_ups: Callable[[], int],
    *,
    clients: int,
    warm_up: int,
    total: int,
    expected_follow_ups: int,
) -> tuple[Result, float]:
    """Warm up, then measure `total` requests; then wait until the server's follow-up work
    (replies, modals) has reached the fake platform, so a fast answer can't hide work left
    undone. Returns the load result and the seconds until everything was delivered."""
    async with server:
        send = make_sender(server.url)
        await run_load(f"{name} warm-up", send, clients=clients, total=warm_up)
        await asyncio.sleep(1.0)
        before = follow_ups()
        started = time.perf_counter()
        result = await run_load(name, send, clients=clients, total=total)
        while follow_ups() < before + expected_follow_ups:
            if time.perf_counter() - started > 120:
                print(f"{name}: only {follow_ups() - before} of {expected_follow_ups} arrived")
                break
            await asyncio.sleep(0.02)
        return result, time.perf_counter() - started


def report(
    title: str, bare: Result, full: Result, *, ratio_target: float, p99_target_ms: float
) -> bool:
    """Print both runs, the throughput ratio and the p99 against their targets."""
    ratio = full.throughput / bare.throughput if bare.throughput else 0.0
    p99 = full.percentile(99) * 1000
    print(title)
    print(bare.line())
    print(full.line())
    print(f"throughput ratio full/bare: {ratio:.2f}x (target >= {ratio_target:.2f})")
    print(f"full p99: {p99:.1f} ms (target < {p99_target_ms:.0f} ms)")
    return ratio >= ratio_target and p99 < p99_target_ms and full.errors == 0
