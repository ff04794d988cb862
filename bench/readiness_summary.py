"""How fast the commissioners' readiness summary is, against doing the same sums in Python.

Puts 5,000 organisations in the database, each with the full readiness questionnaire
answered (some several times, some only in draft, some for another council), then
times:

- the summary as Convene builds it: counts, medians and quartiles worked out in SQL
  (`storage.readiness.readiness_summary`) over `readiness_answers`, the typed facts
  of each organisation's latest answers that Convene keeps as answers are sent;
- the obvious alternative: load every submitted response into Python, keep each
  organisation's latest, and count there (`summarise_in_python`). It reads the
  answers themselves, as kept in `form_responses`, not the facts.

The facts are loaded as Convene would have written them: the responses are inserted
in bulk, then `rebuild_readiness_facts` derives every organisation's facts with
`answer_facts`, the function each submission uses (`refresh_readiness_facts`, which
is also timed: it is where the cost went).

Both must give exactly the same summary (checked). Each is timed several times and
the median kept.

    python -m bench.readiness_summary                      # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.readiness_summary

Targets: the SQL summary under 300 ms, and at least 10x faster than loading everything.

The population generator and the Python summary live here and are reused by the
tests (tests/unit/test_readiness_aggregation.py), which check the SQL against them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.areas import area as known_area
from bot.core.areas import find_areas
from bot.core.forms import FieldType, FormDefinition
from handlers.readiness_statistics import (
    ARREARS_61_PLUS,
    ARREARS_FIELD,
    Count,
    Kind,
    QuestionSummary,
    Spread,
    Summary,
    kind_of,
    quantile,
    readiness_summary,
)
from storage.engagements import matching_area_codes
from storage.forms import SHIPPED, shipped_definitions
from storage.models import (
    Authority,
    FormResponse,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
    ResponseState,
)
from storage.readiness import (
    AREA_FIELD,
    QUARTILES,
    rebuild_readiness_facts,
    refresh_readiness_facts,
)

#: Places providers name, as people type them: councils in Lancashire and West Yorkshire,
#: and Lancashire itself, so a county covering its councils is exercised too.
PLACES = (
    "Preston",
    "Lancaster",
    "Burnley",
    "Lancashire",
    "Leeds",
    "Bradford",
    "Wakefield",
    "Kirklees",
)


def place_code(name: str) -> str:
    """A place's GSS code from its name, in the shipped area data."""
    found = find_areas(name)
    assert len(found.areas) == 1, f"{name!r} names {len(found.areas)} places"
    return found.areas[0].code


AREAS = tuple(place_code(name) for name in PLACES)
RISKS = (
    "Short contracts and late payment.",
    "Finding and keeping staff.",
    "Rising rent on our building.",
    "Losing a big grant next year.",
)
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
HOME, OTHER = "home", "other"


def readiness_definition() -> FormDefinition:
    return next(d for d in shipped_definitions() if d.key == "readiness")


def service_area_values() -> list[str]:
    profile = next(d for d in shipped_definitions(SHIPPED) if d.key == "organisation_profile")
    return [c.value for c in profile.field("service_areas").choices]


# --------------------------------------------------------------------------
# A made-up population
# --------------------------------------------------------------------------


@dataclass
class GeneratedResponse:
    authority: str  # HOME or OTHER
    state: str
    submitted_at: datetime | None
    answers: dict[str, Any]


@dataclass
class GeneratedOrganisation:
    index: int
    name: str
    slug: str
    service_areas: list[str]
    areas: list[str]
    responses: list[GeneratedResponse] = field(default_factory=list)
    id: int | None = None  # set once inserted


def _answer(rng: random.Random, fld: Any) -> Any:
    """One answer as the form parser would store it; sometimes none."""
    if rng.random() < 0.12:
        return None
    if rng.random() < 0.004:
        return "not sure"  # a stray string (an older form's answer): counts as not answered
    match fld.type:
        case FieldType.MONEY:
            pounds = {
                "annual_cost": rng.randrange(5_000, 500_000),
                "smallest_value": rng.randrange(1, 50) * 1_000,
                "largest_value": rng.randrange(20, 1_000) * 1_000,
            }.get(fld.id, rng.randrange(0, 100_000))
            pence = rng.randrange(1, 100) if rng.random() < 0.1 else 0
            return pounds * 100 + pence
        case FieldType.PERCENTAGE:
            return round(rng.uniform(0, 60), 2 if rng.random() < 0.2 else 1)
        case FieldType.WHOLE_NUMBER:
            top = {"reserves_months": 24, "staff_fte": 200, "volunteers": 2_000}.get(fld.id, 100)
            return rng.randrange(0, top + 1)
        case FieldType.SINGLE_CHOICE:
            if fld.id == "payment_terms" and rng.random() < 0.02:
                return "weekly_arrears"  # an option a later version of the form dropped
            return rng.choice([c.value for c in fld.choices])
        case FieldType.YES_NO:
            return rng.random() < 0.8
        case FieldType.MULTIPLE_CHOICE:
            values = [c.value for c in fld.choices]
            if "none" in values and rng.random() < 0.25:
                return ["none"]
            picked = rng.sample(values, rng.randint(1, min(3, len(values))))
            chosen = [v for v in values if v in picked]
            if fld.id == "support_wanted" and rng.random() < 0.03:
                chosen.append("training")  # an option a later version of the form dropped
            if rng.random() < 0.01:
                chosen.append(chosen[0])  # the same option twice counts once
            return chosen
        case FieldType.SHORT_TEXT:
            return ", ".join(rng.sample(PLACES, rng.randint(1, 3)))
        case FieldType.AREA:
            return rng.sample(AREAS, rng.randint(1, 3))
        case FieldType.LONG_TEXT:
            return " ".join(rng.sample(RISKS, rng.randint(1, 3)))
    return None


def _answers(rng: random.Random, definition: FormDefinition) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for fld in definition.all_fields():
        value = _answer(rng, fld)
        if value is None and rng.random() < 0.5:
            continue  # left out altogether, as an older draft might be
        answers[fld.id] = value
    return answers


def generate_population(
    count: int, *, seed: int, definition: FormDefinition, prefix: str = "gen"
) -> list[GeneratedOrganisation]:
    """`count` organisations with deterministic pseudo-random profiles and answers.

    Most answered once; some several times (only the latest counts), some have a newer
    draft (drafts never count), some answered for another council too or only (those
    never count here), and some never answered.
    """
    rng = random.Random(seed)
    services = service_area_values()
    population: list[GeneratedOrganisation] = []
    for index in range(count):
        areas = rng.sample(AREAS, rng.randint(1, 3))
        org = GeneratedOrganisation(
            index=index,
            name=f"{rng.choice(['Bright', 'Good', 'Open', 'Kind', 'Green'])} "
            f"{rng.choice(['Futures', 'Hands', 'Doors', 'Roots', 'Steps'])} {index}",
            slug=f"{prefix}-{seed}-{index}",
            service_areas=rng.sample(services, rng.randint(1, 3)),
            areas=areas,
        )
        moment = START + timedelta(minutes=rng.randrange(0, 500_000))
        roll = rng.random()
        if roll < 0.06:
            pass  # never answered
        elif roll < 0.10:
            org.responses.append(
                GeneratedResponse(HOME, ResponseState.DRAFT, None, _answers(rng, definition))
            )
        elif roll < 0.13:
            org.responses.append(
                GeneratedResponse(OTHER, ResponseState.SUBMITTED, moment, _answers(rng, definition))
            )
        else:
            versions = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
            for _ in range(versions):
                moment += timedelta(days=rng.randrange(1, 400), seconds=rng.randrange(86_400))
                org.responses.append(
                    GeneratedResponse(
                        HOME, ResponseState.SUBMITTED, moment, _answers(rng, definition)
                    )
                )
            if rng.random() < 0.1:
                org.responses.append(
                    GeneratedResponse(HOME, ResponseState.DRAFT, None, _answers(rng, definition))
                )
            if rng.random() < 0.1:
                later = moment + timedelta(days=rng.randrange(1, 30))
                org.responses.append(
                    GeneratedResponse(
                        OTHER, ResponseState.SUBMITTED, later, _answers(rng, definition)
                    )
                )
        rng.shuffle(org.responses)  # the database must not rely on insertion order
        population.append(org)
    return population


def latest_answers(
    population: Iterable[GeneratedOrganisation],
    *,
    authority: str = HOME,
    service_area: str | None = None,
    area: str | None = None,
) -> list[dict[str, Any]]:
    """What the summary should count, worked out from the generated data alone: with
    `area` (a code), only organisations whose latest answers cover a place that shares
    ground with it (the matching rule, `matching_area_codes`)."""
    wanted = set(matching_area_codes([area])) if area else set()
    chosen: list[dict[str, Any]] = []
    for org in population:
        if service_area and service_area not in org.service_areas:
            continue
        submitted = [
            r
            for r in org.responses
            if r.authority == authority and r.state == ResponseState.SUBMITTED
        ]
        if not submitted:
            continue
        latest = max(submitted, key=lambda r: r.submitted_at or START).answers
        if area and not wanted & set(_places(latest.get(AREA_FIELD))):
            continue
        chosen.append(latest)
    return chosen


def _places(value: Any) -> list[str]:
    """An answer's places: a list of known codes, or none at all (words are not places)."""
    if not isinstance(value, list) or not value:
        return []
    if not all(isinstance(v, str) and known_area(v) is not None for v in value):
        return []
    return value


async def insert_population(
    session: AsyncSession,
    population: Sequence[GeneratedOrganisation],
    *,
    authorities: Mapping[str, int],
    definition: FormDefinition,
    batch: int = 1_000,
) -> None:
    """Bulk inserts (a handful of statements per thousand rows), not one ORM add per row,
    then the summary's typed facts for the latest answers, worked out from the answers by
    the same function a submission uses (`rebuild_readiness_facts`, `answer_facts`)."""
    for start in range(0, len(population), batch):
        chunk = population[start : start + batch]
        ids = await session.scalars(
            insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True),
            [{"name": o.name, "slug": o.slug, "legal_form": "charity"} for o in chunk],
        )
        for org, org_id in zip(chunk, ids.all(), strict=True):
            org.id = org_id
        services = [{"organisation_id": o.id, "value": v} for o in chunk for v in o.service_areas]
        areas = [{"organisation_id": o.id, "value": v} for o in chunk for v in o.areas]
        responses = [
            {
                "form_key": definition.key,
                "form_version": definition.version,
                "organisation_id": o.id,
                "authority_id": authorities[r.authority],
                "state": r.state,
                "answers": r.answers,
                "current_page": 0,
                "created_at": r.submitted_at or START,
                "updated_at": r.submitted_at or START,
                "submitted_at": r.submitted_at,
            }
            for o in chunk
            for r in o.responses
        ]
        await session.execute(insert(OrganisationServiceArea), services)
        await session.execute(insert(OrganisationAreaServed), areas)
        if responses:
            await session.execute(insert(FormResponse), responses)
    # What each submission does for its own organisation (storage.readiness.
    # refresh_readiness_facts), done for everybody at once: the same rules, answer_facts.
    await rebuild_readiness_facts(session, definitions=[definition])


# --------------------------------------------------------------------------
# The same summary, in Python
# --------------------------------------------------------------------------


def _choice_token(field_type: FieldType, value: Any) -> str | None:
    """Mirror of the SQL: an option's value for single choice (strings only), 'yes'/'no'
    for yes/no (JSON true/false only), the number for a scale (whole numbers only)."""
    if field_type == FieldType.YES_NO:
        return ("yes" if value else "no") if isinstance(value, bool) else None
    if field_type == FieldType.SCALE:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def summarise_in_python(
    answer_sets: Iterable[Mapping[str, Any]], definition: FormDefinition
) -> Summary:
    """The exact summary, counted in Python from the answers themselves: the reference
    the SQL is checked against, and the benchmark's load-everything baseline."""
    from handlers.readiness_statistics import _options_in_order  # the same ordering rule

    answer_sets = list(answer_sets)
    total = len(answer_sets)
    questions: list[QuestionSummary] = []
    for fld in definition.all_fields():
        kind = kind_of(fld.type)
        values = [answers.get(fld.id) for answers in answer_sets]
        spread: Spread | None = None
        found: Counter[str] = Counter()
        if kind == Kind.CHOICE:
            tokens = [t for v in values if (t := _choice_token(fld.type, v)) is not None]
            found.update(tokens)
            given = len(tokens)
        elif kind == Kind.MULTIPLE:
            given = 0
            for value in values:
                if isinstance(value, list):
                    found.update({v for v in value if isinstance(v, str)})
                    given += bool(value)
        elif kind == Kind.NUMBER:
            numbers = sorted(n for n in map(_number, values) if n is not None)
            given = len(numbers)
            if numbers:
                spread = Spread(*(quantile(numbers, p) for p in QUARTILES))
        else:
            given = sum(1 for v in values if (isinstance(v, str) and v != "") or _places(v))
        choices = [c.value for c in fld.choices] if kind in (Kind.CHOICE, Kind.MULTIPLE) else []
        questions.append(
            QuestionSummary(
                field_id=fld.id,
                kind=kind,
                answered=Count(given),
                not_answered=Count(total - given),
                options=_options_in_order(choices, found) if choices else (),
                spread=spread,
            )
        )
    summary = Summary(Count(total), tuple(questions), Count(0))
    arrears = summary.question(ARREARS_FIELD).options
    late = sum(o.count.value or 0 for o in arrears if o.value in ARREARS_61_PLUS)
    return Summary(Count(total), tuple(questions), Count(late))


async def load_everything_and_summarise(
    session: AsyncSession, *, authority_id: int, definition: FormDefinition
) -> Summary:
    """The baseline: every submitted readiness response for the authority as objects,
    the latest per organisation chosen in Python, then counted in Python."""
    rows = await session.scalars(
        select(FormResponse).where(
            FormResponse.form_key == definition.key,
            FormResponse.state == ResponseState.SUBMITTED,
            FormResponse.authority_id == authority_id,
        )
    )
    latest: dict[int, FormResponse] = {}
    for row in rows:
        if row.organisation_id is None:
            continue
        kept = latest.get(row.organisation_id)
        if kept is None or (row.submitted_at or START, row.id) > (
            kept.submitted_at or START,
            kept.id,
        ):
            latest[row.organisation_id] = row
    return summarise_in_python((r.answers for r in latest.values()), definition)


# --------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------


async def refresh_one_organisation(
    database: Any, organisation_id: int, authority_id: int, definition: FormDefinition
) -> None:
    """What a submission now also does: replace one organisation's facts (rolled back, so
    the data stays as loaded). The cost moved from every summary to each submission."""
    async with database.sessions() as session:
        await refresh_readiness_facts(
            session,
            organisation_id=organisation_id,
            authority_id=authority_id,
            definition=definition,
        )
        await session.rollback()


async def _timed(runs: int, make: Any) -> tuple[float, Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await make()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2], result


async def run(db_url: str, backend: str, organisations: int, runs: int, seed: int) -> int:
    from storage.db import Database
    from tests.support.databases import migrate

    await migrate(db_url)
    database = Database(db_url)
    definition = readiness_definition()
    try:
        started = time.perf_counter()
        async with database.session() as session:
            home = Authority(name="Bench Borough Council", slug="bench-home")
            other = Authority(name="Elsewhere Council", slug="bench-other")
            session.add_all([home, other])
            await session.flush()
            authorities = {HOME: home.id, OTHER: other.id}
            population = generate_population(organisations, seed=seed, definition=definition)
            await insert_population(
                session, population, authorities=authorities, definition=definition
            )
        # The state a live database is in after autovacuum: statistics gathered, and on
        # PostgreSQL the visibility map set (so index scans needn't visit every row).
        if database.is_postgres:
            async with database.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        else:
            async with database.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
        responses = sum(len(o.responses) for o in population)
        print(
            f"Readiness summary benchmark on {backend}: {organisations:,} organisations, "
            f"{responses:,} responses ({len(definition.all_fields())} questions each), "
            f"loaded in {time.perf_counter() - started:.1f} s"
        )

        async def sql() -> Summary:
            async with database.session() as session:
                return await readiness_summary(
                    session, authority_id=authorities[HOME], definition=definition
                )

        async def python() -> Summary:
            async with database.session() as session:
                return await load_everything_and_summarise(
                    session, authority_id=authorities[HOME], definition=definition
                )

        async def filtered() -> Summary:
            async with database.session() as session:
                return await readiness_summary(
                    session,
                    authority_id=authorities[HOME],
                    definition=definition,
                    service_area="children_young_people",
                    area=place_code("Preston"),
                )

        busiest = max(
            (o for o in population if o.id is not None),
            key=lambda o: sum(r.authority == HOME for r in o.responses),
        )
        assert busiest.id is not None

        async def write_facts() -> None:
            await refresh_one_organisation(database, busiest.id, authorities[HOME], definition)

        await write_facts()
        await sql()  # warm up: statement cache, connection pool
        await python()
        await filtered()
        sql_time, sql_summary = await _timed(runs, sql)
        py_time, py_summary = await _timed(runs, python)
        filtered_time, filtered_summary = await _timed(runs, filtered)
        write_time, _ = await _timed(runs, write_facts)
        expected = summarise_in_python(latest_answers(population), definition)
        assert sql_summary == py_summary == expected, "SQL and Python summaries differ"
        assert filtered_summary == summarise_in_python(
            latest_answers(
                population, service_area="children_young_people", area=place_code("Preston")
            ),
            definition,
        ), "filtered SQL summary differs from Python"
        counted = sql_summary.organisations.value
        ratio = py_time / sql_time if sql_time else float("inf")
        print(f"organisations counted (latest submitted answers): {counted:,}")
        print(f"summary in SQL:                      {sql_time * 1000:8.1f} ms  (median of {runs})")
        print(f"load every row, summarise in Python: {py_time * 1000:8.1f} ms  (median of {runs})")
        print(f"ratio: {ratio:.1f}x faster in SQL (target >= 10x); results identical")
        print(
            f"  the price, paid once per submission instead: replacing one organisation's "
            f"facts takes {write_time * 1000:.1f} ms"
        )
        print(
            f"summary in SQL, one service area and one area "
            f"({filtered_summary.organisations.value:,} organisations): "
            f"{filtered_time * 1000:.1f} ms"
        )
        met = sql_time < 0.3 and ratio >= 10
        print(f"summary under 300 ms: {'yes' if sql_time < 0.3 else 'NO'}")
        print("targets met" if met else "targets NOT met")
        return 0
    finally:
        await database.dispose()


async def main(organisations: int, runs: int, seed: int) -> int:
    from bench.common import bench_database

    async with bench_database() as (db_url, backend):
        return await run(db_url, backend, organisations, runs, seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.organisations, options.runs, options.seed)))
