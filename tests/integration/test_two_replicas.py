"""Two `convene serve` replicas on one PostgreSQL database, behind a round-robin proxy.

Load arrives from all three doors at once (signed Slack DMs and slash commands, Teams
activities with the fake Bot Framework's JWTs, web sign-in and pages). Part way through,
one replica is killed (SIGKILL: no shutdown code runs) and started again. Then:

- every request was answered, and none with a 5xx (the proxy may retry a connection
  error once, as a real load balancer does);
- every reply reached Slack or Teams exactly once (each outbox idempotency key once);
- no Slack DM channel and no Teams conversation got more than its rate limit, though
  both replicas were sending to them: the limits are shared (storage/rate_limits.py).

PostgreSQL only: several replicas need a database they can all reach, and SQLite is one
process's file. CI runs the suite on both, so this runs on the PostgreSQL job.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.support.fake_botframework import FakeBotFramework, idempotency_key
from tests.support.fake_slack import FakeSlack
from tests.support.proxy import RoundRobinProxy
from tests.support.servers import ServeProcess
from tests.support.slack_signing import event_body, sign, slash_command_body
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import WebUser

SECRET = "two-replicas-secret-key-not-for-production"
SLACK_SECRET = "two-replicas-signing-secret"
SLACK_PER_SECOND = 2.0  # per DM channel, one at a time
TEAMS_PER_SECOND = 2.0  # per conversation, 7 at once
TEAMS_BURST = 7
SLACK_USERS = 3
TEAMS_USERS = 3
PER_USER = 6
#: Time between two sends the proxy, the loopback and a busy machine may add or take away.
JITTER = 0.15


@dataclass
class Tally:
    """What the load saw: statuses by door, and failures kept for the assertion message."""

    statuses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)

    def saw(self, door: str, status: int, what: str) -> None:
        self.statuses[door].append(status)
        if status >= 500 or status not in (200, 201, 202, 204, 302, 303):
            self.problems.append(f"{door} {what}: {status}")


def slack_posts(fake: FakeSlack) -> dict[str, list[float]]:
    """chat.postMessage calls Slack accepted, by channel, as arrival times."""
    times: dict[str, list[float]] = defaultdict(list)
    for call in fake.calls_to("chat.postMessage", failed=False):
        times[str(call.body.get("channel"))].append(call.at)
    return times


def teams_posts(fake: FakeBotFramework) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for call in fake.calls:
        if call.kind in ("send", "reply") and call.stored and call.conversation_id:
            times[call.conversation_id].append(call.at)
    return times


def over_limit(times: list[float], per_second: float, burst: int) -> str | None:
    """Where sends went faster than `burst` at once then `per_second` (None: never)."""
    times = sorted(times)
    interval = 1 / per_second
    for first in range(len(times)):
        for last in range(first + burst, len(times)):
            span = times[last] - times[first]
            allowed = burst + (span + JITTER) / interval
            if last - first + 1 > allowed:
                return f"{last - first + 1} sends in {span:.2f} s"
    return None


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeBotFramework]]:
    slack = await FakeSlack().start()
    teams = await FakeBotFramework().start()
    try:
        yield slack, teams
    finally:
        await teams.stop()
        await slack.stop()


@pytest.fixture
async def replicas(
    on_postgres: bool,
    database_url: str,
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeBotFramework],
) -> AsyncIterator[Callable[[int | None], ServeProcess]]:
    if not on_postgres:
        pytest.skip(
            "two replicas share one PostgreSQL database; SQLite is one process's file "
            "(CI runs this on the PostgreSQL job)"
        )
    slack, teams = fakes
    env = {
        "DATABASE_URL": database_url,
        "CONVENE_SECRET_KEY": SECRET,
        "CONVENE_LOCAL_MODE": "true",
        "CONVENE_OUTBOX_INTERVAL_SECONDS": "0.2",
        # A killed replica's claimed messages are taken over when their lease runs out.
        "CONVENE_LEASE_SECONDS": "4",
        "CONVENE_SLACK_CHANNEL_PER_SECOND": str(SLACK_PER_SECOND),
        "CONVENE_TEAMS_CONVERSATION_PER_SECOND": str(TEAMS_PER_SECOND),
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
    started: list[ServeProcess] = []

    def make(port: int | None = None) -> ServeProcess:
        process = ServeProcess(env, cwd=tmp_path, port=port)
        started.append(process)
        return process

    yield make
    for process in started:
        process.kill()


async def slack_dms(client: aiohttp.ClientSession, url: str, tally: Tally, keys: list[str]) -> None:
    for round_ in range(PER_USER):
        for n in range(SLACK_USERS):
            event_id = f"EvRep{uuid.uuid4().hex[:12]}"
            event = {
                "type": "message",
                "channel": f"DREP{n:03d}",
                "channel_type": "im",
                "user": f"UREP{n:03d}",
                "text": "help",
                "ts": f"{time.time():.6f}",
            }
            body = event_body(event, event_id=event_id)
            headers = {**sign(SLACK_SECRET, body), "Content-Type": "application/json"}
            async with client.post(f"{url}/slack/events", data=body, headers=headers) as resp:
                await resp.read()
                tally.saw("slack", resp.status, f"DM {round_} from user {n}")
            keys.append(f"slack:event:{event_id}")
            await asyncio.sleep(0.05)


async def slack_commands(
    client: aiohttp.ClientSession, url: str, fake: FakeSlack, tally: Tally
) -> None:
    for n in range(PER_USER * 2):
        body = slash_command_body(
            text="help",
            user_id=f"UREP{n % SLACK_USERS:03d}",
            response_url=fake.response_url(f"rep{n}"),
        )
        headers = {
            **sign(SLACK_SECRET, body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        async with client.post(f"{url}/slack/events", data=body, headers=headers) as resp:
            await resp.read()
            tally.saw("slack", resp.status, f"command {n}")
        await asyncio.sleep(0.1)


async def teams_messages(
    client: aiohttp.ClientSession, url: str, fake: FakeBotFramework, tally: Tally
) -> int:
    activities = TeamsActivities.from_fake(fake)
    token = fake.issue_token(fake.app_id, fake.service_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    users = [
        TeamsUser(
            id=f"29:replica-user-{i:03d}",
            name=f"Replica User {i}",
            aad_object_id=f"c0000000-0000-4000-8000-{i:012d}",
        )
        for i in range(TEAMS_USERS)
    ]
    sent = 0
    for round_ in range(PER_USER):
        for user in users:
            activity = activities.personal_message("help", user=user)
            async with client.post(
                f"{url}/api/messages", data=json.dumps(activity), headers=headers
            ) as resp:
                await resp.read()
                tally.saw("teams", resp.status, f"message {round_} from {user.name}")
            sent += 1
            await asyncio.sleep(0.05)
    return sent


async def web_pages(url: str, tally: Tally) -> None:
    user = WebUser(url)
    try:
        await user.sign_in_locally("Tom Okafor")
        for n in range(PER_USER * 2):
            for path in ("/", "/do/profile"):
                status, _ = await user.get(path)
                tally.saw("web", status, f"GET {path} ({n})")
            await asyncio.sleep(0.1)
    finally:
        await user.close()


async def kill_and_restart(replica: ServeProcess, after: float) -> None:
    await asyncio.sleep(after)
    replica.kill()
    assert replica.proc is not None and replica.proc.returncode == -9
    await asyncio.sleep(0.5)
    await replica.start(wait=90)


async def test_two_replicas_lose_nothing_repeat_nothing_and_keep_to_the_limits(
    replicas: Callable[[int | None], ServeProcess],
    fakes: tuple[FakeSlack, FakeBotFramework],
) -> None:
    slack, teams = fakes
    for n in range(SLACK_USERS):
        slack.add_user("T0001", f"UREP{n:03d}", f"Replica Person {n}", email=f"rep{n}@example.org")
    first, second = replicas(None), replicas(None)
    await asyncio.gather(first.start(wait=90), second.start(wait=90))
    tally = Tally()
    dm_keys: list[str] = []
    async with RoundRobinProxy([first.url, second.url]) as proxy:
        async with aiohttp.ClientSession() as client:
            results = await asyncio.gather(
                slack_dms(client, proxy.url, tally, dm_keys),
                slack_commands(client, proxy.url, slack, tally),
                teams_messages(client, proxy.url, teams, tally),
                web_pages(proxy.url, tally),
                kill_and_restart(first, after=0.8),
            )
            teams_sent = results[2]

        def slack_replies() -> set[str]:
            return {
                str(((c.body.get("metadata") or {}).get("event_payload") or {}).get("key"))
                for c in slack.calls_to("chat.postMessage", failed=False)
            }

        def teams_replies() -> list[str]:
            return [
                str(idempotency_key(c.body or {}))
                for c in teams.calls
                if c.kind in ("send", "reply") and c.stored
            ]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if set(dm_keys) <= slack_replies() and len(set(teams_replies())) >= teams_sent:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # anything sent twice would have arrived by now

    assert tally.problems == [], tally.problems
    assert proxy.unreachable == 0
    assert proxy.statuses and max(proxy.statuses) < 500, proxy.statuses
    assert proxy.answered[first.url] > 0 and proxy.answered[second.url] > 0

    # Nothing lost, nothing twice.
    missing = set(dm_keys) - slack_replies()
    assert not missing, f"{len(missing)} Slack replies never arrived"
    assert slack.duplicates() == []
    keys = teams_replies()
    assert len(set(keys)) == teams_sent, f"{teams_sent - len(set(keys))} Teams replies lost"
    assert len(keys) == len(set(keys)) and teams.duplicates() == []

    # Both replicas sent to the same channels, and together kept to each one's limit.
    for channel, times in slack_posts(slack).items():
        assert over_limit(times, SLACK_PER_SECOND, 1) is None, (
            channel,
            over_limit(times, SLACK_PER_SECOND, 1),
        )
    for conversation, times in teams_posts(teams).items():
        assert over_limit(times, TEAMS_PER_SECOND, TEAMS_BURST) is None, conversation
