"""How many Teams message activities Convene handles, against a bare botbuilder echo bot.

Message activities with valid JWTs (signed by a fake Bot Framework on loopback) at 32
concurrent clients: first against the full app, then, in the same run, against a bare
`CloudAdapter` echo bot on the same auth settings. Both reply through the fake Bot
Connector. Each server runs in its own process; the load and the fakes run in this one.

    python -m bench.teams_turn                      # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.teams_turn

Target: full throughput >= 3x the bare bot's, and full p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from typing import Any

import aiohttp

from bench.common import ChildServer, Result, bench_database, measure_server, report
from tests.support.fake_botframework import FakeBotFramework
from tests.support.teams_activities import TeamsActivities, TeamsUser

CLIENTS = 32
USERS = 32


def _env_settings() -> dict[str, Any]:
    return {
        "microsoft_app_id": os.environ["BENCH_APP_ID"],
        "microsoft_app_password": os.environ["BENCH_APP_PASSWORD"],
        "microsoft_app_tenant_id": os.environ["BENCH_TENANT"],
        "teams_openid_metadata_url": os.environ["BENCH_OPENID"],
        "teams_login_url": os.environ["BENCH_AUTHORITY"],
    }


def serve_full() -> None:
    from bot.app import build_services, prepare, serve
    from bot.settings import load_settings

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(
        database_url=os.environ["BENCH_DB"],
        secret_key="bench",
        scheduler_enabled=True,
        outbox_interval_seconds=0.2,
        log_level="WARNING",
        **_env_settings(),
    )
    services = build_services(settings)
    asyncio.run(prepare(services, demo_if_empty=True))
    services = build_services(settings)
    serve(services, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), access_log=False)


def serve_bare() -> None:
    """The bare bot: a stock CloudAdapter echoing every message, on the same auth settings."""
    from aiohttp import web
    from botbuilder.core import TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    logging.basicConfig(level=logging.WARNING)

    class Config:
        APP_ID = os.environ["BENCH_APP_ID"]
        APP_PASSWORD = os.environ["BENCH_APP_PASSWORD"]
        APP_TYPE = "MultiTenant"
        APP_TENANTID = os.environ["BENCH_TENANT"]
        TO_CHANNEL_FROM_BOT_LOGIN_URL = os.environ["BENCH_BOTBUILDER_LOGIN"]
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = "https://api.botframework.com"
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = "https://api.botframework.com"
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = os.environ["BENCH_OPENID"]
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = os.environ["BENCH_OPENID"]

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))

    class Echo:
        async def on_turn(self, turn_context: TurnContext) -> None:
            if turn_context.activity.type == "message":
                await turn_context.send_activity(f"You said: {turn_context.activity.text}")

    bot = Echo()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)  # type: ignore[return-value]

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), print=None, access_log=None
    )


def _users() -> list[TeamsUser]:
    return [
        TeamsUser(
            id=f"29:bench-user-{i:03d}",
            name=f"Bench User {i}",
            aad_object_id=f"b0000000-0000-4000-8000-{i:012d}",
        )
        for i in range(USERS)
    ]


def _sender(base_url: str, fake: FakeBotFramework, activities: TeamsActivities) -> Any:
    url = f"{base_url}/api/messages"
    token = fake.issue_token(fake.app_id, fake.service_url)  # Teams reuses its tokens too
    users = _users()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def send(client: aiohttp.ClientSession, n: int) -> bool:
        activity = activities.personal_message("help", user=users[n % USERS])
        activity["id"] = f"bench-{uuid.uuid4().hex}"
        async with client.post(url, data=json.dumps(activity), headers=headers) as resp:
            await resp.read()
            return resp.status in (200, 201)

    return send


def replies(fake: FakeBotFramework) -> int:
    return len(fake.calls_of("send")) + len(fake.calls_of("reply"))


async def measure(
    kind: str, fake: FakeBotFramework, env: dict[str, str], total: int
) -> tuple[Result, float]:
    """Throughput and latency; then how long until every reply reached the connector."""
    activities = TeamsActivities.from_fake(fake)
    return await measure_server(
        f"{kind} bot",
        ChildServer("bench.teams_turn", "--serve", kind, env=env),
        lambda url: _sender(url, fake, activities),
        lambda: replies(fake),
        clients=CLIENTS,
        warm_up=2 * USERS,
        total=total,
        expected_follow_ups=total,
    )


async def main(total: int) -> int:
    async with bench_database() as (db_url, backend):
        return await run(db_url, backend, total)


async def run(db_url: str, backend: str, total: int) -> int:
    fake = await FakeBotFramework().start()
    env = {
        **fake.trust_env,
        "BENCH_DB": db_url,
        "BENCH_APP_ID": fake.app_id,
        "BENCH_APP_PASSWORD": fake.app_password,
        "BENCH_TENANT": fake.tenant_id,
        "BENCH_OPENID": fake.openid_metadata_url,
        "BENCH_AUTHORITY": fake.authority,
        "BENCH_BOTBUILDER_LOGIN": fake.botbuilder_login_url,
    }
    try:
        full, full_done = await measure("full", fake, env, total)
        bare, bare_done = await measure("bare", fake, env, total)
    finally:
        await fake.stop()
    met = report(
        f"Teams turn benchmark on {backend}: {total} message activities, "
        f"{CLIENTS} concurrent clients, valid JWTs",
        bare,
        full,
        ratio_target=3.0,
        p99_target_ms=250,
    )
    print(
        f"every reply at the connector: full after {full_done:.2f} s "
        f"({total / full_done:.1f}/s), bare after {bare_done:.2f} s ({total / bare_done:.1f}/s)"
    )
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", choices=["full", "bare"])
    parser.add_argument("--requests", type=int, default=1000)
    options = parser.parse_args()
    if options.serve == "full":
        serve_full()
    elif options.serve == "bare":
        serve_bare()
    else:
        sys.exit(asyncio.run(main(options.requests)))
