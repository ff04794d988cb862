"""How fast Convene acknowledges Slack, against a bare slack-bolt app that only acks.

Drives `/convene help` and `/convene profile` (which opens a modal) at 32 concurrent
clients, first against the full app, then in the same run against a bare Bolt app on
the same signing settings. Each server runs in its own process; the load and a fake
Slack Web API (which the full app calls for users.info, views.open and views.update)
run in this one.

    python -m bench.slack_ack                       # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.slack_ack

Targets: full throughput >= 0.8x the bare app's, and full p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import aiohttp

from bench.common import ChildServer, Result, bench_database, measure_server, report
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import sign, slash_command_body

SECRET = "bench-signing-secret"
CLIENTS = 32
USERS = 32


def serve_full() -> None:
    """Child process: the whole Convene app with Slack pointed at the fake."""
    from bot.app import build_services, prepare, serve
    from bot.settings import load_settings

    settings = load_settings(
        database_url=os.environ["BENCH_DB"],
        secret_key="bench",
        scheduler_enabled=False,
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=os.environ["BENCH_SLACK"],
        log_level="WARNING",
    )
    import logging

    logging.basicConfig(level=logging.WARNING)
    services = build_services(settings)
    asyncio.run(prepare(services, demo_if_empty=True))
    services = build_services(settings)
    serve(services, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), access_log=False)


def serve_bare(calls: bool = False) -> None:
    """Child process: a bare Bolt app that acks the command and does nothing else; or, with
    `calls`, one that also makes the Slack calls each command needs (a modal opened then
    filled in, or an answer posted to the response URL) with fixed content and no database:
    the least any app that does the work in the same process can cost."""
    from aiohttp import ClientSession, web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    client = AsyncWebClient(base_url=os.environ["BENCH_SLACK"], token="xoxb-test")
    bolt = AsyncApp(signing_secret=SECRET, client=client)
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Convene"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your form"}}],
    }
    answer = [{"type": "section", "text": {"type": "mrkdwn", "text": "Here is what I can do."}}]

    @bolt.command("/convene")
    async def only_ack(ack, body):  # type: ignore[no-untyped-def]
        await ack()
        if not calls:
            return
        if body.get("text") == "profile":
            opened = await client.views_open(trigger_id=body["trigger_id"], view=modal)
            await client.views_update(view_id=opened["view"]["id"], view=modal)
        else:
            webhook = AsyncWebhookClient(url=body["response_url"], session=client.session)
            await webhook.send(text="Convene", blocks=answer, response_type="ephemeral")

    async def start(_app: web.Application) -> None:
        client.session = ClientSession()

    async def stop(_app: web.Application) -> None:
        if client.session is not None:
            await client.session.close()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), print=None, access_log=None
    )


def _sender(base_url: str, fake: FakeSlack) -> object:
    url = f"{base_url}/slack/events"

    async def send(client: aiohttp.ClientSession, n: int) -> bool:
        text = "help" if n % 2 == 0 else "profile"
        body = slash_command_body(
            text=text,
            user_id=f"UB{n % USERS:03d}",
            trigger_id=f"trig-{n}",
            response_url=fake.response_url(f"r{n}"),
        )
        headers = sign(SECRET, body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with client.post(url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status == 200

    return send


def follow_ups(fake: FakeSlack) -> int:
    """Work the full app does after each ack: a modal filled in, or an answer posted."""
    return len(fake.calls_to("views.update")) + sum(len(v) for v in fake.responses.values())


async def measure(kind: str, fake: FakeSlack, db_url: str, total: int) -> tuple[Result, float]:
    """Ack throughput and latency; then how long until every follow-up reached Slack.

    Each command's follow-up is a filled-in modal or an answer; the bare app has none."""
    env = {"BENCH_SLACK": fake.url, "BENCH_DB": db_url}
    return await measure_server(
        f"{kind} app",
        ChildServer("bench.slack_ack", "--serve", kind, env=env),
        lambda url: _sender(url, fake),  # type: ignore[arg-type,return-value]
        lambda: follow_ups(fake),
        clients=CLIENTS,
        warm_up=2 * USERS,
        total=total,
        expected_follow_ups=0 if kind == "bare" else total,
    )


async def main(total: int) -> int:
    async with bench_database() as (db_url, backend):
        return await run(db_url, backend, total)


async def run(db_url: str, backend: str, total: int) -> int:
    fake = await FakeSlack().start()
    for i in range(USERS):
        fake.add_user("T0001", f"UB{i:03d}", f"Bench User {i}", email=f"bench{i}@example.org")
    try:
        full, full_done = await measure("full", fake, db_url, total)
        bare, _ = await measure("bare", fake, db_url, total)
        floor, _ = await measure("calls-only", fake, db_url, total)
    finally:
        await fake.stop()
    met = report(
        f"Slack ack benchmark on {backend}: {total} slash commands (help and profile), "
        f"{CLIENTS} concurrent clients",
        bare,
        full,
        ratio_target=0.8,
        p99_target_ms=100,
    )
    print(
        f"full app, every modal and answer delivered after {full_done:.2f} s: "
        f"{total / full_done:.1f} commands/s end to end ({total / full_done / bare.throughput:.2f}x "
        "the bare app's ack rate)"
    )
    print(
        f"{floor.line()}\n  a Bolt app making only the Slack calls these commands need, no "
        f"database: {floor.throughput / bare.throughput:.2f}x the bare app; the full app is "
        f"{full.throughput / floor.throughput:.2f}x of it"
    )
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", choices=["full", "bare", "calls-only"])
    parser.add_argument("--requests", type=int, default=3000)
    options = parser.parse_args()
    if options.serve == "full":
        serve_full()
    elif options.serve == "bare":
        serve_bare()
    elif options.serve == "calls-only":
        serve_bare(calls=True)
    else:
        sys.exit(asyncio.run(main(options.requests)))
