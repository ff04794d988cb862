"""Throughput of one `convene serve` replica against two, on PostgreSQL, through a proxy.

For each of the Slack, Teams and web hot paths (a DM answered through the outbox, a
Teams message answered through the outbox, a signed-in page), the load goes through the
round-robin proxy of the tests (tests/support/proxy.py) to one replica, then to two, on
the same database. The fakes for Slack and the Bot Framework, the proxy and the load all
run in this process. After each run it waits until every reply reached its fake, and
counts replies lost or sent twice.

Where the time goes: CPU seconds per request in the replicas (from /proc) and in this
process (load, proxy, fakes), and what one shared rate-limit booking costs in PostgreSQL
(`SELECT ... FOR UPDATE` transaction, as used, against a one-statement upsert).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.replicas

Targets: two replicas not slower than one (throughput ratio >= 0.95, allowing for the
noise between runs), and 0 replies lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import Result, bench_database, run_load
from bot.web.auth import COOKIE
from tests.support.fake_botframework import FakeBotFramework, idempotency_key
from tests.support.fake_slack import FakeSlack
from tests.support.proxy import RoundRobinProxy
from tests.support.servers import ServeProcess
from tests.support.slack_signing import event_body, sign
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import WebUser

SLACK_SECRET = "bench-signing-secret"
CLIENTS = 16
USERS = 32
Send = Callable[[aiohttp.ClientSession, int], Awaitable[bool]]


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slack_keys(fake: FakeSlack) -> list[str]:
    return [
        str(((c.body.get("metadata") or {}).get("event_payload") or {}).get("key"))
        for c in fake.calls_to("chat.postMessage", failed=False)
    ]


def teams_keys(fake: FakeBotFramework) -> list[str]:
    return [
        str(idempotency_key(c.body or {}))
        for c in fake.calls
        if c.kind in ("send", "reply") and c.stored
    ]


def slack_sender(url: str, keys: list[str]) -> Send:
    async def send(client: aiohttp.ClientSession, n: int) -> bool:
        event_id = f"EvBench{uuid.uuid4().hex[:12]}"
        event = {
            "type": "message",
            "channel": f"DB{n % USERS:03d}",
            "channel_type": "im",
            "user": f"UB{n % USERS:03d}",
            "text": "help",
            "ts": f"{time.time():.6f}",
        }
        body = event_body(event, event_id=event_id)
        headers = {**sign(SLACK_SECRET, body), "Content-Type": "application/json"}
        async with client.post(f"{url}/slack/events", data=body, headers=headers) as resp:
            await resp.read()
            keys.append(f"slack:event:{event_id}")
            return resp.status == 200

    return send


def teams_sender(url: str, fake: FakeBotFramework, ids: list[str]) -> Send:
    activities = TeamsActivities.from_fake(fake)
    token = fake.issue_token(fake.app_id, fake.service_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    users = [
        TeamsUser(
            id=f"29:bench-user-{i:03d}",
            name=f"Bench User {i}",
            aad_object_id=f"b0000000-0000-4000-8000-{i:012d}",
        )
        for i in range(USERS)
    ]

    async def send(client: aiohttp.ClientSession, n: int) -> bool:
        activity = activities.personal_message("help", user=users[n % USERS])
        async with client.post(
            f"{url}/api/messages", data=json.dumps(activity), headers=headers
        ) as resp:
            await resp.read()
            ids.append(str(activity["id"]))
            return resp.status in (200, 201)

    return send


def web_sender(url: str, cookie: str) -> Send:
    async def send(client: aiohttp.ClientSession, n: int) -> bool:
        path = "/" if n % 2 == 0 else "/do/profile"
        async with client.get(f"{url}{path}", headers={"Cookie": cookie}) as resp:
            await resp.read()
            return resp.status == 200

    return send


async def wait_for(count: Callable[[], int], expected: int, seconds: float = 90) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if count() >= expected:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def one_setup(
    replicas: int, env: dict[str, str], fakes: tuple[FakeSlack, FakeBotFramework], total: int
) -> dict[str, Any]:
    slack, teams = fakes
    folder = Path(tempfile.mkdtemp(prefix="convene-replicas-"))
    servers = [ServeProcess(env, cwd=folder) for _ in range(replicas)]
    await asyncio.gather(*(server.start(wait=120) for server in servers))
    out: dict[str, Any] = {}
    try:
        async with RoundRobinProxy([s.url for s in servers]) as proxy:
            user = WebUser(proxy.url)
            await user.sign_in_locally("Tom Okafor")
            cookie = f"{COOKIE}={user.session_cookie()}"
            await user.close()
            dm_keys: list[str] = []
            team_ids: list[str] = []
            paths: dict[str, tuple[Send, Callable[[], int]]] = {
                "slack DM": (
                    slack_sender(proxy.url, dm_keys),
                    lambda: len(set(dm_keys) & set(slack_keys(slack))),
                ),
                "teams message": (
                    teams_sender(proxy.url, teams, team_ids),
                    lambda: len(set(teams_keys(teams))),
                ),
                "web page": (web_sender(proxy.url, cookie), lambda: 0),
            }
            for name, (send, delivered) in paths.items():
                await run_load(f"{name} warm-up", send, clients=CLIENTS, total=USERS)
                await wait_for(delivered, USERS if name != "web page" else 0)
                before_replies = delivered()
                before_cpu = [cpu_seconds(s.proc.pid) for s in servers if s.proc]
                before_here = time.process_time()
                result = await run_load(
                    f"{name}, {replicas} replica{'s' if replicas > 1 else ''}",
                    send,
                    clients=CLIENTS,
                    total=total,
                )
                expected = before_replies + (total if name != "web page" else 0)
                done = await wait_for(delivered, expected)
                cpu = sum(cpu_seconds(s.proc.pid) for s in servers if s.proc) - sum(before_cpu)
                out[name] = {
                    "result": result,
                    "delivered_after": done,
                    "lost": max(0, expected - delivered()),
                    "replica_cpu_ms": cpu / total * 1000,
                    "here_cpu_ms": (time.process_time() - before_here) / total * 1000,
                }
        out["duplicates"] = len(slack.duplicates()) + len(teams.duplicates())
    finally:
        for server in servers:
            server.terminate()
    return out


async def load_demo(url: str) -> None:
    """The demo council (Tom Okafor signs in to the web door as one of it)."""
    from bot.app import build_services, prepare
    from bot.settings import load_settings

    settings = load_settings(database_url=url, secret_key="bench", scheduler_enabled=False)
    services = build_services(settings)
    try:
        await prepare(services, demo_if_empty=True)
    finally:
        await services.db.dispose()


async def booking_cost(db_url: str, count: int = 500) -> tuple[float, float]:
    """Milliseconds per shared booking: the transaction used, and a one-statement upsert."""
    from sqlalchemy import text

    from storage.db import Database
    from storage.rate_limits import Budget, book

    db = Database(db_url, pool_size=4)
    try:
        budgets = [Budget("bench:channel", 1e-6, 1), Budget("bench:workspace", 1e-6, 10)]
        await book(db, budgets, max_wait=1)
        started = time.perf_counter()
        for _ in range(count):
            await book(db, budgets, max_wait=1)
        locked = (time.perf_counter() - started) / count * 1000
        upsert = text(
            "INSERT INTO rate_limits AS r (key, tat) VALUES (:k, extract(epoch from "
            "clock_timestamp())) ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, "
            "extract(epoch from clock_timestamp())) + :i RETURNING tat"
        )
        started = time.perf_counter()
        for _ in range(count):
            async with db.engine.begin() as connection:
                await connection.execute(upsert, {"k": "bench:one", "i": 1e-6})
        one = (time.perf_counter() - started) / count * 1000
    finally:
        await db.dispose()
    return locked, one


def line(result: Result, extra: dict[str, Any]) -> str:
    return (
        f"{result.line()}\n"
        f"    every reply delivered {extra['delivered_after']:.2f} s after the load began; "
        f"lost {extra['lost']}; CPU per request: replicas {extra['replica_cpu_ms']:.1f} ms, "
        f"load+proxy+fakes {extra['here_cpu_ms']:.1f} ms"
    )


async def main(total: int) -> int:
    async with bench_database() as (db_url, backend):
        if backend != "PostgreSQL":
            print("bench.replicas needs BENCH_DATABASE_URL (PostgreSQL): SQLite is one process")
            return 2
        await load_demo(db_url)
        slack = await FakeSlack().start()
        teams = await FakeBotFramework().start()
        for i in range(USERS):
            slack.add_user("T0001", f"UB{i:03d}", f"Bench User {i}", email=f"b{i}@example.org")
        env = {
            "DATABASE_URL": db_url,
            "CONVENE_SECRET_KEY": "bench-replicas-secret-key-not-for-production",
            "CONVENE_LOCAL_MODE": "true",
            "CONVENE_LOG_LEVEL": "WARNING",
            "CONVENE_OUTBOX_INTERVAL_SECONDS": "0.2",
            # The hot paths, not the platforms' limits: 32 DM channels at 20 a second each.
            "CONVENE_SLACK_CHANNEL_PER_SECOND": "20",
            "CONVENE_SLACK_WORKSPACE_PER_SECOND": "1000",
            "CONVENE_TEAMS_CONVERSATION_PER_SECOND": "20",
            "CONVENE_TEAMS_TENANT_PER_SECOND": "1000",
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.url,
            "MICROSOFT_APP_ID": teams.app_id,
            "MICROSOFT_APP_PASSWORD": teams.app_password,
            "MICROSOFT_APP_TENANT_ID": teams.tenant_id,
            "TEAMS_OPENID_METADATA_URL": teams.openid_metadata_url,
            "TEAMS_LOGIN_URL": teams.authority,
            **teams.trust_env,
        }
        try:
            one = await one_setup(1, env, (slack, teams), total)
            two = await one_setup(2, env, (slack, teams), total)
            locked, upsert = await booking_cost(db_url)
        finally:
            await teams.stop()
            await slack.stop()
    print(
        f"Replicas benchmark on {backend}: {total} requests per path, {CLIENTS} clients, "
        f"through a round-robin proxy, on {os.cpu_count()} cores"
    )
    met = True
    for name in ("slack DM", "teams message", "web page"):
        a, b = one[name], two[name]
        ratio = b["result"].throughput / a["result"].throughput if a["result"].throughput else 0
        print(line(a["result"], a))
        print(line(b["result"], b))
        print(f"  {name}: 2 replicas / 1 = {ratio:.2f}x (target >= 0.95)")
        if ratio < 0.95:
            met = False
            print(f"  SHORT: {name} was slower with two replicas")
        if a["lost"] or b["lost"] or a["result"].errors or b["result"].errors:
            met = False
            print(f"  SHORT: {name} lost replies or had errors")
    duplicates = one["duplicates"] + two["duplicates"]
    print(f"replies sent twice: {duplicates}")
    print(
        f"one shared rate-limit booking (two keys, SELECT ... FOR UPDATE transaction): "
        f"{locked:.2f} ms; one key by a single INSERT ... ON CONFLICT DO UPDATE: {upsert:.2f} ms"
    )
    if duplicates:
        met = False
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600)
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.requests)))
