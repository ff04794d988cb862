"""Publishing an engagement to 5,000 providers over a rate-limited Slack, with crashes.

Seeds a council (one commissioner) and 5,000 provider organisations, each with one person
who uses Slack, all in ONE workspace, so the per-workspace budget is the limit that binds.
Then, with `convene serve` already running as a child process, publishes an engagement
through Convene's own code (`handlers.engagements.setup.publish`), which queues one outbox
message per person, all due at the same moment.

The fake Slack Web API (tests/support/fake_slack.py, in this process) enforces one message
a second per channel and `--budget` messages a second per workspace (token buckets), and
answers HTTP 429 with `Retry-After` beyond them. It keeps every chat.postMessage with its
metadata, so conversations.history lets a restarted sender see what already landed.

While the invitations go out, the server is killed with SIGKILL `--kills` times, at random
points spread over the run (seeded), and started again at once. Convene's Slack budget is
set to the fake's (CONVENE_SLACK_WORKSPACE_PER_SECOND) and its lease is short
(CONVENE_LEASE_SECONDS=3), so a killed process's claimed messages come back quickly.

    python -m bench.invite_fanout                   # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.invite_fanout

Prints invitations queued, delivered (distinct idempotency keys), duplicates (keys posted
more than once), lost (queued, never delivered), the 429s the fake answered, and the
elapsed time from publishing to the last new delivery against the floor the budget allows
(providers / budget). Targets: 0 lost, 0 duplicates, elapsed within 1.2x the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import ChildServer, bench_database
from tests.support.fake_slack import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

SECRET = "bench-signing-secret"
SERVICE_AREA = "children_young_people"
LEASE_SECONDS = 3
#: Looks at history allowed per minute in the bench: the fake's workspace limit (100 a second), which
#: history calls share with posting; a real workspace's is the operator's setting.
HISTORY_PER_MINUTE = 6000
TARGET_RATIO = 1.2


def serve() -> None:
    """Child process: exactly `convene serve`, its output kept in a log file."""
    log = os.open(os.environ["BENCH_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    from bot.cli import app

    app(
        ["serve", "--host", "127.0.0.1", "--port", os.environ["BENCH_PORT"]],
        prog_name="convene",
    )


# --------------------------------------------------------------------------
# The population and the engagement
# --------------------------------------------------------------------------


async def seed(services: Any, providers: int) -> tuple[int, int]:
    """One council and commissioner, `providers` organisations with one Slack person each
    (bulk inserts), and a draft engagement for them. Returns (commissioner, engagement)."""
    from handlers.engagements.setup import DEFAULT_CONFIDENTIALITY, QUESTION_BANK
    from storage.engagement_tables import Engagement, EngagementState
    from storage.forms import latest_definition
    from storage.models import (
        Authority,
        ChatIdentity,
        Membership,
        Organisation,
        OrganisationServiceArea,
        Person,
        Role,
    )

    now = services.clock.now()
    async with services.db.session() as session:
        authority = Authority(name="Riverside Council", slug="bench-riverside")
        commissioner = Person(name="Casey Commissioner", email="casey@bench.example.org")
        session.add_all([authority, commissioner])
        await session.flush()
        session.add(
            Membership(person_id=commissioner.id, role=Role.COMMISSIONER, authority_id=authority.id)
        )
        org_ids = list(
            await session.scalars(
                insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True),
                [
                    {"name": f"Provider {n}", "slug": f"bench-provider-{n}"}
                    for n in range(providers)
                ],
            )
        )
        person_ids = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [
                    {"name": f"Provider Person {n}", "email": f"p{n}@bench.example.org"}
                    for n in range(providers)
                ],
            )
        )
        await session.execute(
            insert(OrganisationServiceArea),
            [{"organisation_id": o, "value": SERVICE_AREA} for o in org_ids],
        )
        await session.execute(
            insert(Membership),
            [
                {"person_id": p, "organisation_id": o, "role": Role.PROVIDER_ADMIN}
                for p, o in zip(person_ids, org_ids, strict=True)
            ],
        )
        await session.execute(
            insert(ChatIdentity),
            [
                {
                    "person_id": p,
                    "platform": "slack",
                    "workspace_id": DEFAULT_TEAM_ID,
                    "user_id": f"U{n:07d}",
                    "data": {},
                }
                for n, p in enumerate(person_ids)
            ],
        )
        bank = await latest_definition(session, QUESTION_BANK)
        questions = [f.id for f in bank.all_fields()] if bank else []
        engagement = Engagement(
            authority_id=authority.id,
            title="Youth services in Riverside: what should come next?",
            purpose="We want to hear from every local group before we design anything.",
            service_area=SERVICE_AREA,
            closes_at=now + timedelta(weeks=8),
            confidentiality=DEFAULT_CONFIDENTIALITY,
            question_ids=[q for q in questions if q != "ideas_confidential"][:10],
            must_answer=[],
            own_questions=[],
            state=EngagementState.DRAFT,
            created_by=commissioner.id,
            created_at=now,
        )
        session.add(engagement)
        await session.flush()
        return commissioner.id, engagement.id


async def publish(services: Any, commissioner_id: int, engagement_id: int) -> str:
    """The commissioner publishes, through the product's own handler."""
    from bot.core.turn import Turn
    from handlers.engagements.setup import publish as publish_engagement
    from storage.models import Door
    from storage.people import load_actor

    async with services.db.session() as session:
        actor = await load_actor(session, commissioner_id, services.tz)
    turn = Turn(door=Door.WEB, actor=actor, text=f"engagements publish {engagement_id}")
    replies = await publish_engagement(turn, services, engagement_id)
    return str(getattr(replies[0], "text", replies[0]))


async def queued_keys(services: Any, engagement_id: int) -> set[str]:
    from storage.engagement_tables import EngagementInvitation

    async with services.db.session() as session:
        return set(
            await session.scalars(
                select(EngagementInvitation.outbox_key).where(
                    EngagementInvitation.engagement_id == engagement_id,
                    EngagementInvitation.person_id.is_not(None),
                )
            )
        )


async def outbox_states(services: Any, prefix: str) -> Counter[str]:
    from storage.models import OutboxMessage

    async with services.db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.idempotency_key.like(f"{prefix}%"))
            .group_by(OutboxMessage.state)
        )
        return Counter({str(state): n for state, n in rows})


# --------------------------------------------------------------------------
# What reached the fake Slack
# --------------------------------------------------------------------------


class Tally:
    """Reads the fake's call log as it grows: deliveries per key, 429s, history checks."""

    def __init__(self, fake: FakeSlack, prefix: str) -> None:
        self.fake = fake
        self.prefix = prefix
        self.posts: Counter[str] = Counter()
        self.rate_limited = 0
        self.history_checks = 0
        self.last_new_at = 0.0
        self._seen = 0

    def update(self) -> int:
        """Read new calls; returns distinct keys delivered so far."""
        calls = self.fake.calls
        for call in calls[self._seen : len(calls)]:
            if call.method == "conversations.history":
                self.history_checks += 1
            if call.method != "chat.postMessage":
                continue
            if call.status == 429:
                self.rate_limited += 1
            if call.failed or call.error is not None:
                continue
            payload = (call.body.get("metadata") or {}).get("event_payload") or {}
            key = str(payload.get("key", ""))
            if key.startswith(self.prefix):
                if key not in self.posts:
                    self.last_new_at = call.at
                self.posts[key] += 1
        self._seen = len(calls)
        return len(self.posts)

    def reached(self, count: int) -> Callable[[], bool]:
        """A check that `count` distinct invitations have arrived."""
        return lambda: self.update() >= count

    def first_post_after(self, moment: float) -> float:
        """When the first message after `moment` landed (how long a kill stopped delivery)."""
        return next(
            (
                c.at
                for c in self.fake.calls
                if c.at > moment and c.method == "chat.postMessage" and not c.failed
            ),
            float("nan"),
        )

    def stored(self) -> Counter[str]:
        """Keys of the messages the fake actually holds (a cross-check of the call log)."""
        keys: Counter[str] = Counter()
        for messages in self.fake.messages.values():
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                key = str(payload.get("key", ""))
                if key.startswith(self.prefix):
                    keys[key] += 1
        return keys


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------


async def wait_until(done: Callable[[], bool], deadline: float, step: float) -> bool:
    """Poll `done` every `step` seconds; False if `deadline` (monotonic) came first."""
    while not done():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


def kill_points(rng: random.Random, providers: int, kills: int) -> list[int]:
    """Kill when this many invitations have arrived: one random point in each of `kills`
    equal stretches between 5% and 95% of the run."""
    points = []
    for i in range(kills):
        low = 0.05 + 0.90 * i / kills
        high = 0.05 + 0.90 * (i + 1) / kills
        points.append(max(1, int(providers * rng.uniform(low, high))))
    return points


async def main(options: argparse.Namespace) -> int:
    async with bench_database() as (db_url, backend):
        return await run(db_url, backend, options)


async def run(db_url: str, backend: str, options: argparse.Namespace) -> int:
    from bot.app import build_services, prepare
    from bot.settings import load_settings

    providers, budget = options.providers, options.budget
    floor = providers / budget
    timeout = options.timeout or max(60.0, 3 * floor)
    rng = random.Random(options.seed)

    settings = load_settings(
        database_url=db_url, secret_key="bench", scheduler_enabled=False, log_level="WARNING"
    )
    services = build_services(settings)
    await prepare(services)
    seeding = time.perf_counter()
    commissioner_id, engagement_id = await seed(services, providers)
    seeded_in = time.perf_counter() - seeding
    prefix = f"engagement:{engagement_id}:invite:"

    fake = await FakeSlack().start()
    fake.enforce_rate_limits(per_channel_per_second=1.0, per_workspace_per_second=budget)
    tally = Tally(fake, prefix)
    log_file = str(Path(tempfile.mkdtemp(prefix="convene-fanout-")) / "serve.log")
    server = ChildServer(
        "bench.invite_fanout",
        "--serve",
        env={
            "DATABASE_URL": db_url,
            "BENCH_LOG": log_file,
            "CONVENE_SECRET_KEY": "bench",
            "CONVENE_LOG_LEVEL": "WARNING",
            "CONVENE_SCHEDULER_ENABLED": "true",
            "CONVENE_LEASE_SECONDS": str(LEASE_SECONDS),
            "CONVENE_SLACK_CHANNEL_PER_SECOND": "1",
            "CONVENE_SLACK_WORKSPACE_PER_SECOND": str(budget),
            # After each kill, messages the dead process had claimed are checked against the
            # conversation's history before being sent again. The fake Slack lets history be
            # read as often as any method (its workspace limit); a real workspace's allowance
            # is the operator's CONVENE_SLACK_HISTORY_PER_MINUTE (1 for Marketplace-less apps).
            "CONVENE_SLACK_HISTORY_PER_MINUTE": str(HISTORY_PER_MINUTE),
            "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
        },
    )
    restarts: list[float] = []
    killed_at: list[float] = []
    points = kill_points(rng, providers, options.kills)
    try:
        await server.__aenter__()  # the server is up before the commissioner publishes
        publishing = time.perf_counter()
        said = await publish(services, commissioner_id, engagement_id)
        started = time.monotonic()
        published_in = time.perf_counter() - publishing
        queued = await queued_keys(services, engagement_id)
        deadline = started + timeout
        for point in points:
            if not await wait_until(tally.reached(point), deadline, 0.005):
                break
            assert server.proc is not None
            server.proc.kill()  # SIGKILL: no shutdown, no cleanup
            server.proc.wait()
            down = time.monotonic()
            killed_at.append(down)
            await server.__aenter__()  # and straight back up
            restarts.append(time.monotonic() - down)
        if await wait_until(tally.reached(len(queued)), deadline, 0.02):
            elapsed = tally.last_new_at - started
        else:
            elapsed = time.monotonic() - started
        # Let the outbox settle (every row done or dead) so a late duplicate would show.
        states = await outbox_states(services, prefix)
        while states.get("done", 0) + states.get("dead", 0) < len(queued):
            if time.monotonic() > deadline + 2 * LEASE_SECONDS:
                break
            await asyncio.sleep(0.25)
            states = await outbox_states(services, prefix)
        await asyncio.sleep(LEASE_SECONDS + 1)
        tally.update()
        states = await outbox_states(services, prefix)
    finally:
        await server.__aexit__(None, None, None)
        await fake.stop()
        await services.db.dispose()

    stored = tally.stored()
    quiet = [tally.first_post_after(at) - at for at in killed_at]
    delivered = set(tally.posts) & queued
    duplicates = sum(n - 1 for n in tally.posts.values() if n > 1)
    duplicate_keys = sum(1 for n in tally.posts.values() if n > 1)
    lost = len(queued - delivered)
    ratio = elapsed / floor
    met = lost == 0 and duplicates == 0 and ratio <= TARGET_RATIO and len(queued) == providers

    print(
        f"Invitation fan-out on {backend}: {providers} providers in one Slack workspace; "
        f"the fake allows 1 message/s per channel and {budget:g}/s per workspace (429 + "
        "Retry-After beyond)"
    )
    print(
        f"Convene: CONVENE_SLACK_WORKSPACE_PER_SECOND={budget:g}, "
        f"CONVENE_SLACK_CHANNEL_PER_SECOND=1, CONVENE_LEASE_SECONDS={LEASE_SECONDS}, "
        f"CONVENE_SLACK_HISTORY_PER_MINUTE={HISTORY_PER_MINUTE}, "
        f"CONVENE_OUTBOX_BATCH_SIZE={settings.outbox_batch_size}, "
        f"CONVENE_OUTBOX_CONCURRENCY={settings.outbox_concurrency} (defaults otherwise)"
    )
    print(f"seeded in {seeded_in:.1f} s; published in {published_in:.2f} s: {said}")
    print(
        f"killed with SIGKILL {len(restarts)} times (seed {options.seed}, after "
        f"{', '.join(str(p) for p in points[: len(restarts)])} deliveries); "
        f"restarts took {', '.join(f'{r:.1f}' for r in restarts) or '-'} s to answer "
        f"/healthz; nothing was delivered for {', '.join(f'{q:.1f}' for q in quiet) or '-'} s "
        "after each kill"
    )
    print(f"invitations queued:      {len(queued)}")
    print(f"delivered (distinct):    {len(delivered)}")
    print(f"duplicates:              {duplicates} (over {duplicate_keys} keys)")
    print(f"lost:                    {lost}")
    print(f"429s from the fake:      {tally.rate_limited}")
    print(f"recovery history checks: {tally.history_checks}")
    print(f"outbox rows:             {dict(sorted(states.items()))}")
    if sum(stored.values()) != sum(tally.posts.values()):
        print(
            f"WARNING: the fake holds {sum(stored.values())} messages, its log says "
            f"{sum(tally.posts.values())}"
        )
    print(
        f"elapsed {elapsed:.1f} s, floor {floor:.1f} s ({providers} / {budget:g} a second): "
        f"{ratio:.2f}x the floor (target <= {TARGET_RATIO:.1f}x)"
    )
    print("targets met" if met else f"targets NOT met (server log: {log_file})")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--budget", type=float, default=100.0, help="workspace messages/s")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=0.0, help="seconds (default 3x floor)")
    options = parser.parse_args()
    if options.serve:
        serve()
    else:
        sys.exit(asyncio.run(main(options)))
