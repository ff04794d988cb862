"""Building every weekly digest for 20,000 providers and 500 open opportunities.

Seeds 20,000 provider organisations, each with one person who chose a weekly digest on
today's weekday (half on Slack, half on the web inbox), and 500 open opportunities from 40
councils. The spread is meant to look like England: every provider works on 1 to 4 kinds
of work (popular ones far more often, as in directories), in one council (70%), its whole
county (20%) or two or three councils (10%); each opportunity is for 1 to 3 kinds of work
in its council's own area (75%) or its county (25%), so county-and-council matching
happens as in life. Then, at 9am on digest day:

- **baseline**: each provider matched in Python one by one (its service areas and areas
  read for it, every opportunity checked against them with the same rule, what it was told
  before read, and its digest queued with `enqueue_for_person`), in a transaction that is
  rolled back;
- **Convene**: `handlers.opportunities.digest.queue_digests`, the due sweep's job, which
  reads who does which work and serves where in two queries, matches every opportunity
  with the announcing rule's keys (`fit_keys`) in sets, and then works in
  batches of 1,000 people with a fixed number of queries each; committed.

Both must build the same digests (checked). The baseline takes minutes at 20,000, so by
default it goes through the first 2,000 people due and its time and queries are scaled to
all of them (it does the same work for each person; `--baseline-providers 0` runs it all).
Prints time, queries issued (counted with a SQLAlchemy `before_cursor_execute` listener;
an executemany counts once), queries per batch, and peak Python memory (tracemalloc) for
each, and the ratio. Targets: at least 10x the baseline, under 30 s, and queries that do
not grow with the number of providers (a fixed number to start, then the same per batch).
Peak memory is measured in runs of their own (rolled back; the baseline's on 200 people,
as it holds one person's work at a time), since tracemalloc slows Python several times.

    python -m bench.opportunity_digest                     # SQLite, 20,000 providers
    python -m bench.opportunity_digest --providers 2000    # a quick run
    python -m bench.opportunity_digest --baseline-providers 0   # the whole baseline (slow)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.opportunity_digest
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select

from bench.common import bench_database

#: Wednesday 14 January 2026, 9am in London: everybody's digest day.
NOW = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)
WEDNESDAY = 2
OPPORTUNITIES = 500
COUNCILS_POSTING = 40
TARGET_RATIO = 10.0
TARGET_SECONDS = 30.0

SERVICE_AREAS = [
    "children_young_people",
    "health_wellbeing",
    "mental_health",
    "older_people",
    "community_development",
    "disability",
    "advice_advocacy",
    "arts_culture_sport",
    "housing_homelessness",
    "food",
    "carers",
    "employment_skills",
    "domestic_abuse",
    "environment",
    "refugees_migrants",
    "substance_use",
]
#: Popular kinds of work are far more common (roughly 1/rank).
SERVICE_WEIGHTS = [1 / (rank + 1) for rank in range(len(SERVICE_AREAS))]


class QueryCounter:
    """Counts statements sent to the database (an executemany counts once)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.engine = engine.sync_engine

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@contextmanager
def measured(*, memory: bool = False) -> Iterator[dict[str, float]]:
    """Seconds taken by the block, and with `memory` its peak Python memory in MB
    (tracemalloc)."""
    found: dict[str, float] = {}
    if memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        yield found
    finally:
        found["seconds"] = time.perf_counter() - started
        if memory:
            found["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()


def places(rng: random.Random) -> tuple[dict[str, list[str]], list[str]]:
    """England's counties with their councils, and the councils with no county (unitaries)."""
    from bot.core.areas import all_areas

    counties: dict[str, list[str]] = {}
    unitaries: list[str] = []
    for area in all_areas():
        if not area.code.startswith("E") or area.kind == "nation":
            continue
        if area.kind == "county":
            counties.setdefault(area.code, [])
        elif area.parent and area.parent.startswith("E10"):
            counties.setdefault(area.parent, []).append(area.code)
        else:
            unitaries.append(area.code)
    return {c: d for c, d in counties.items() if d}, sorted(unitaries)


async def seed(services: Any, providers: int, rng: random.Random) -> None:
    """The providers, their people and preferences, and the open opportunities (bulk)."""
    from storage.models import (
        Authority,
        ChatIdentity,
        Membership,
        Organisation,
        OrganisationAreaServed,
        OrganisationServiceArea,
        Person,
        Role,
    )
    from storage.notification_tables import NotificationPreference
    from storage.opportunity_tables import Opportunity, OpportunityState

    counties, unitaries = places(rng)
    county_of = {d: c for c, ds in counties.items() for d in ds}
    councils = sorted(county_of) + unitaries

    def kinds_of_work(most: int) -> list[str]:
        return sorted(set(rng.choices(SERVICE_AREAS, SERVICE_WEIGHTS, k=rng.randint(1, most))))

    async with services.db.session() as session:
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
        service_rows: list[dict[str, Any]] = []
        area_rows: list[dict[str, Any]] = []
        for org in org_ids:
            service_rows += [{"organisation_id": org, "value": v} for v in kinds_of_work(4)]
            home = rng.choice(councils)
            roll = rng.random()
            if roll < 0.7 or home not in county_of:
                served = {home}
            elif roll < 0.9:
                served = {county_of[home]}
            else:
                served = {home, *rng.sample(counties[county_of[home]], 1)}
            area_rows += [{"organisation_id": org, "value": code} for code in sorted(served)]
        for start in range(0, len(service_rows), 5000):
            await session.execute(
                insert(OrganisationServiceArea), service_rows[start : start + 5000]
            )
        for start in range(0, len(area_rows), 5000):
            await session.execute(insert(OrganisationAreaServed), area_rows[start : start + 5000])
        await session.execute(
            insert(Membership),
            [
                {"person_id": p, "organisation_id": o, "role": Role.PROVIDER_ADMIN}
                for p, o in zip(person_ids, org_ids, strict=True)
            ],
        )
        await session.execute(
            insert(NotificationPreference),
            [
                {"person_id": p, "opportunities": "weekly", "digest_weekday": WEDNESDAY}
                for p in person_ids
            ],
        )
        await session.execute(
            insert(ChatIdentity),
            [
                {
                    "person_id": p,
                    "platform": "slack",
                    "workspace_id": "T0BENCH",
                    "user_id": f"U{n:07d}",
                    "data": {},
                }
                for n, p in enumerate(person_ids)
                if n % 2 == 0
            ],
        )
        posting = rng.sample(sorted(county_of), COUNCILS_POSTING)
        authority_ids = list(
            await session.scalars(
                insert(Authority).returning(Authority.id, sort_by_parameter_order=True),
                [{"name": f"Council {code}", "slug": f"bench-{code}"} for code in posting],
            )
        )
        rows = []
        for n in range(OPPORTUNITIES):
            which = rng.randrange(COUNCILS_POSTING)
            code = posting[which]
            area = code if rng.random() < 0.75 else county_of[code]
            rows.append(
                {
                    "authority_id": authority_ids[which],
                    "title": f"Opportunity {n}",
                    "purpose": "Work a council wants to fund.",
                    "service_areas": kinds_of_work(3),
                    "area_served": [area],
                    "state": OpportunityState.OPEN,
                    "published_at": NOW - timedelta(days=rng.randint(0, 6), hours=3),
                    "submission_deadline": NOW + timedelta(weeks=rng.randint(4, 12)),
                    "created_at": NOW - timedelta(days=7),
                }
            )
        await session.execute(insert(Opportunity), rows)


# --------------------------------------------------------------------------
# The baseline: one provider at a time, matched in Python
# --------------------------------------------------------------------------


def fits_in_python(wanted: set[str], where: set[str], services: set[str], areas: set[str]) -> bool:
    """The announcing rule, for one provider: the kind of work (none means any) and the
    places (codes sharing ground, none means anywhere); with neither, nobody."""
    if not wanted and not where:
        return False
    return (not wanted or bool(wanted & services)) and (not where or bool(where & areas))


async def baseline(
    session: Any, now: datetime, tz: ZoneInfo, limit: int | None
) -> tuple[dict[int, set[int]], set[int], int]:
    """Every due digest (or the first `limit` people's), built and queued one provider at a
    time. Returns who got which, how many people it went through, and how many were due."""
    from bot.core.quiet_hours import digest_day, zone_named
    from bot.core.reply import ReplyList
    from handlers.opportunities.digest import _Listed, digest_message
    from storage.digest_tables import OpportunityDigest, OpportunityDigestItem
    from storage.engagements import PROVIDER_ROLES, matching_area_codes
    from storage.models import (
        Authority,
        Membership,
        OrganisationAreaServed,
        OrganisationServiceArea,
        Person,
    )
    from storage.notification_preferences import weekly_readers
    from storage.opportunities import open_opportunities
    from storage.opportunity_tables import OpportunityAnnouncement
    from storage.outbox import enqueue_for_person

    readers = await weekly_readers(session)
    opportunities = [
        o
        for o in await open_opportunities(session)
        if o.submission_deadline is None or o.submission_deadline > now
    ]
    rules = {
        o.id: (set(o.service_areas), set(matching_area_codes(list(o.area_served))))
        for o in opportunities
    }
    councils = dict((await session.execute(select(Authority.id, Authority.name))).all())
    due = []
    for person_id, reach in sorted(readers.items()):
        zone = zone_named(reach.timezone, tz)
        day = digest_day(now, zone, reach.preferences)
        if day is not None:
            due.append((person_id, zone, day))
    built: dict[int, set[int]] = {}
    for person_id, zone, day in due[:limit]:
        organisations = await session.scalars(
            select(Membership.organisation_id).where(
                Membership.person_id == person_id, Membership.role.in_(PROVIDER_ROLES)
            )
        )
        found: dict[int, int] = {}
        for organisation_id in sorted(o for o in organisations if o is not None):
            services = set(
                await session.scalars(
                    select(OrganisationServiceArea.value).where(
                        OrganisationServiceArea.organisation_id == organisation_id
                    )
                )
            )
            areas = set(
                await session.scalars(
                    select(OrganisationAreaServed.value).where(
                        OrganisationAreaServed.organisation_id == organisation_id
                    )
                )
            )
            for o in opportunities:
                if o.id not in found and fits_in_python(*rules[o.id], services, areas):
                    found[o.id] = organisation_id
        if not found:
            continue
        told = set(
            await session.scalars(
                select(OpportunityAnnouncement.opportunity_id).where(
                    OpportunityAnnouncement.person_id == person_id
                )
            )
        ) | set(
            await session.scalars(
                select(OpportunityDigestItem.opportunity_id).where(
                    OpportunityDigestItem.person_id == person_id
                )
            )
        )
        new = [o for o in opportunities if o.id in found and o.id not in told]
        if not new:
            continue
        person = await session.get(Person, person_id)
        message = digest_message(
            [_Listed(o, councils.get(o.authority_id, "The council")) for o in new], zone
        )
        key = f"baseline-digest:{person_id}:{day.isoformat()}"
        await enqueue_for_person(
            session, person, ReplyList(replies=[message]).model_dump(mode="json"), key, now
        )
        session.add(
            OpportunityDigest(
                person_id=person_id,
                week_of=day,
                outbox_key=key,
                opportunities=len(new),
                created_at=now,
            )
        )
        for o in new:
            session.add(
                OpportunityDigestItem(
                    person_id=person_id,
                    opportunity_id=o.id,
                    organisation_id=found[o.id],
                    outbox_key=key,
                    created_at=now,
                )
            )
        await session.flush()
        built[person_id] = {o.id for o in new}
    return built, {person_id for person_id, _, _ in due[:limit]}, len(due)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------


async def main(options: argparse.Namespace) -> int:
    async with bench_database() as (db_url, backend):
        return await run(db_url, backend, options)


async def run(db_url: str, backend: str, options: argparse.Namespace) -> int:
    from bot.app import build_services, prepare
    from bot.core.clock import FixedClock
    from bot.settings import load_settings
    from handlers.opportunities.digest import BATCH, queue_digests
    from storage.digest_tables import OpportunityDigestItem

    settings = load_settings(
        database_url=db_url, secret_key="bench", scheduler_enabled=False, log_level="WARNING"
    )
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    try:
        await prepare(services)
        rng = random.Random(options.seed)
        seeding = time.perf_counter()
        await seed(services, options.providers, rng)
        seeded_in = time.perf_counter() - seeding
        engine = services.db.engine

        limit = options.baseline_providers or None
        # Memory first, each run rolled back: tracemalloc makes Python several times slower,
        # so the timed runs below go without it.
        with measured(memory=True) as base_memory:
            async with services.db.sessions() as session:
                await baseline(session, NOW, services.tz, min(limit or 200, 200))
                await session.rollback()
        with measured(memory=True) as our_memory:
            async with services.db.sessions() as session:
                await queue_digests(session, NOW, services.tz)
                await session.rollback()

        # The baseline, timed and rolled back so Convene starts from the same database.
        with QueryCounter(engine) as base_queries, measured() as base:
            async with services.db.sessions() as session:
                expected, sampled, due = await baseline(session, NOW, services.tz, limit)
                await session.rollback()

        # Convene, timed and committed.
        marks: list[int] = []
        with QueryCounter(engine) as queries, measured() as ours:
            async with services.db.session() as session:
                done = await queue_digests(
                    session, NOW, services.tz, progress=lambda _: marks.append(queries.count)
                )
        setup_queries = marks[0] if marks else queries.count
        per_batch = [after - before for before, after in itertools.pairwise(marks)]
        finishing = queries.count - (marks[-1] if marks else queries.count)

        async with services.db.session() as session:
            built: dict[int, set[int]] = {}
            for person_id, opportunity_id in await session.execute(
                select(OpportunityDigestItem.person_id, OpportunityDigestItem.opportunity_id)
            ):
                built.setdefault(person_id, set()).add(opportunity_id)
    finally:
        await services.db.dispose()

    same = {p: o for p, o in built.items() if p in sampled} == expected
    scale = due / len(sampled) if sampled else 1.0
    base_seconds = base["seconds"] * scale
    base_count = round(base_queries.count * scale)
    ratio = base_seconds / ours["seconds"] if ours["seconds"] else 0.0
    items = sum(len(v) for v in built.values())
    full = per_batch[:-1] or per_batch
    steady = bool(full) and max(full) <= 2 * min(full)
    print(
        f"Weekly digests on {backend}: {options.providers} providers (organisations, one "
        f"person each, all on a weekly digest today), {OPPORTUNITIES} open opportunities "
        f"from {COUNCILS_POSTING} councils; seeded in {seeded_in:.1f} s"
    )
    print(
        f"digests queued: {done.people} listing {items} opportunities "
        f"({items / max(done.people, 1):.1f} each); nothing new for "
        f"{options.providers - done.people} people, so nothing sent to them"
    )
    if len(sampled) < due:
        print(
            f"baseline measured on the first {len(sampled)} of {due} people due: "
            f"{base['seconds']:.2f} s and {base_queries.count} queries; it works one person "
            f"at a time, so scaled by {scale:.1f} for all of them below"
        )
    print(
        f"baseline (one provider at a time): {base_seconds:7.2f} s  "
        f"{base_count:7d} queries  peak {base_memory['peak_mb']:7.1f} MB"
    )
    print(
        f"Convene (queue_digests):           {ours['seconds']:7.2f} s  "
        f"{queries.count:7d} queries  peak {our_memory['peak_mb']:7.1f} MB"
    )
    print(
        f"Convene's queries: {setup_queries} to start (two of them for matching), "
        f"then per batch of {BATCH} people: {per_batch}, then {finishing} to commit"
    )
    print(
        f"the same digests as the baseline (for the {len(sampled)} people it built): "
        f"{'yes' if same else 'NO'}"
    )
    print(
        f"speed-up {ratio:.1f}x (target >= {TARGET_RATIO:g}x); {ours['seconds']:.1f} s "
        f"(target < {TARGET_SECONDS:g} s); queries per batch steady: {'yes' if steady else 'no'}"
    )
    short = []
    if ratio < TARGET_RATIO:
        short.append(f"speed-up {ratio:.1f}x < {TARGET_RATIO:g}x")
    if ours["seconds"] >= TARGET_SECONDS:
        short.append(f"{ours['seconds']:.1f} s >= {TARGET_SECONDS:g} s")
    if not steady:
        short.append(f"queries per batch not steady: {per_batch}")
    if not same:
        short.append("digests differ from the baseline's")
    print("targets met" if not short else "targets NOT met: " + "; ".join(short))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline-providers",
        type=int,
        default=2000,
        help="people the slow baseline goes through (its time is scaled to all); 0 for all",
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
