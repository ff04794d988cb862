"""How fast the commissioner's dashboard is on a large database, and how many queries it runs.

Seeds (Core `insert()` executemany, in chunks) 5,000 organisations, 200 engagements (with
organisations invited, taking part and answering, events and questions), 2,000
opportunities with interest, 3,000 agreements each with a monitoring plan, five years of
weekly check-ins, key dates and some variations, and feedback points with answers: about
a million rows. The things are shared among `--councils` councils (10: a county's worth
of districts), so one council's dashboard reads its own share, as in a shared database.

Then, for the first council's commissioner:

- renders the dashboard page in-process (`handlers.dashboard.dashboard`, then the web
  door's own template, so the charts are drawn and the HTML made) `--runs` times (20) and
  keeps the median;
- counts the queries one page runs (SQLAlchemy's `before_cursor_execute`), on this
  database and on a tiny one (a hundredth of the size): the number must be the same;
- times the same figures worked out by loading every row into Python and counting there
  (`python_figures`, which the tests also use to check the SQL), and prints the ratio.

    python -m bench.dashboard                       # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.dashboard
    python -m bench.dashboard --scale 0.1           # a quick run

Targets: page median under 300 ms; figures at least 10x faster in SQL than loading
everything; the same small number of queries per page on the large and the tiny database.
Ends with `targets met` or what fell short.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agreement_detail_tables import AgreementDate
from storage.agreement_tables import Agreement, AgreementParty
from storage.clarification_tables import Clarification
from storage.dashboard import (
    DUE_SOON_DAYS,
    ENDING_SOON_DAYS,
    OPEN_VARIATIONS,
    SCALE_VALUES,
    AgreementFigures,
    EngagementFigures,
    FeedbackFigures,
    OpportunityFigures,
)
from storage.engagement_tables import Engagement, EngagementEvent, EngagementParticipant
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, FeedbackPost
from storage.models import Authority, FormResponse, Organisation
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.opportunity_tables import Opportunity, OpportunityInterest

#: The bench's "now": Monday 12 January 2026, 9am (London is on GMT).
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
SERVICE_AREAS = ("children_young_people", "older_people", "mental_health", "disability")
PLACES = ("Preston", "Lancaster", "Burnley", "Chorley")
LEGAL_FORMS = ("charity", "charitable_company", "cic", "social_enterprise", "cbs", None)
INCOME_BANDS = ("under_10k", "10k_100k", "100k_1m", "1m_10m", "over_10m", "prefer_not", None)
QUESTIONS = ("helping", "run_well", "keep_going")
CHUNK = 20_000


@dataclass(frozen=True)
class Size:
    organisations: int = 5_000
    engagements: int = 200
    opportunities: int = 2_000
    agreements: int = 3_000
    years: int = 5
    councils: int = 10

    def scaled(self, factor: float) -> Size:
        return Size(
            organisations=max(20, int(self.organisations * factor)),
            engagements=max(self.councils, int(self.engagements * factor)),
            opportunities=max(self.councils, int(self.opportunities * factor)),
            agreements=max(self.councils, int(self.agreements * factor)),
            years=self.years,
            councils=self.councils,
        )


# --------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------


async def _insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> int:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])
    return len(rows)


async def seed(
    session: AsyncSession,
    size: Size,
    *,
    seed: int = 2026,
    start: int = 0,
    councils: list[int] | None = None,
) -> tuple[list[int], int]:
    """Fill the database; returns the councils' ids and how many rows were added.

    `start` (1, 2, ...) seeds again beside an earlier seeding, with ids of its own; with
    `councils`, the things go to those councils instead of new ones."""
    from bench.readiness_summary import place_code

    rnd = random.Random(seed)
    areas = [place_code(p) for p in PLACES]
    rows = 0
    base = start * 1_000_000
    if councils is None:
        councils = [base + 1_000 + i for i in range(size.councils)]
        rows += await _insert(
            session,
            Authority,
            [
                {
                    "id": c,
                    "name": f"Bench Council {i}",
                    "slug": f"bench-{i}" + (f"-{start}" if start else ""),
                }
                for i, c in enumerate(councils)
            ],
        )
    orgs = list(range(base + 10_000, base + 10_000 + size.organisations))
    rows += await _insert(
        session,
        Organisation,
        [
            {
                "id": o,
                "name": f"Organisation {o}",
                "slug": f"bench-org-{o}",
                "legal_form": rnd.choice(LEGAL_FORMS),
                "income_band": rnd.choice(INCOME_BANDS),
            }
            for o in orgs
        ],
    )
    # Engagements, with who was invited, who took part and answered, events and questions.
    engagements, participants, responses, events, questions = [], [], [], [], []
    for i in range(size.engagements):
        e = base + 20_000 + i
        state = rnd.choice(("open", "open", "closed", "draft"))
        engagements.append(
            {
                "id": e,
                "authority_id": councils[i % len(councils)],
                "title": f"Engagement {e}",
                "purpose": "To hear from local providers.",
                "closes_at": NOW + timedelta(days=rnd.randint(-60, 60)),
                "confidentiality": "Shared with the team only.",
                "state": state,
                "service_area": rnd.choice(SERVICE_AREAS),
                "area_served": rnd.sample(areas, rnd.randint(0, 2)),
                "form_key": f"engagement-{e}",
                "published_at": None if state == "draft" else NOW - timedelta(days=30),
            }
        )
        if state == "draft":
            continue
        for o in rnd.sample(orgs, min(len(orgs), 60)):
            took_part = rnd.random() < 0.4
            participants.append(
                {
                    "engagement_id": e,
                    "organisation_id": o,
                    "invited_at": NOW - timedelta(days=30),
                    "joined_at": NOW - timedelta(days=20) if took_part else None,
                }
            )
            if took_part and rnd.random() < 0.6:
                responses.append(
                    {
                        "form_key": f"engagement-{e}",
                        "form_version": 1,
                        "organisation_id": o,
                        "engagement_id": e,
                        "state": "submitted",
                        "answers": {"ideas": "More youth work."},
                        "submitted_at": NOW - timedelta(days=10),
                    }
                )
        for k in range(2):
            events.append(
                {
                    "engagement_id": e,
                    "kind": "workshop",
                    "title": f"Workshop {k}",
                    "starts_at": NOW + timedelta(days=rnd.randint(-20, 40)),
                }
            )
        for k in range(3):
            answered = rnd.random() < 0.6
            questions.append(
                {
                    "engagement_id": e,
                    "opportunity_id": None,
                    "kind": "question",
                    "question": f"Question {k}?",
                    "asked_at": NOW - timedelta(days=5),
                    "answer": "An answer." if answered else None,
                    "published_at": NOW - timedelta(days=2) if answered else None,
                }
            )
    rows += await _insert(session, Engagement, engagements)
    rows += await _insert(session, EngagementParticipant, participants)
    rows += await _insert(session, FormResponse, responses)
    rows += await _insert(session, EngagementEvent, events)
    rows += await _insert(session, Clarification, questions)
    # Opportunities and interest.
    opportunities, interest = [], []
    for i in range(size.opportunities):
        o_id = base + 100_000 + i
        state = rnd.choice(("open", "open", "closed", "draft", "withdrawn"))
        opportunities.append(
            {
                "id": o_id,
                "authority_id": councils[i % len(councils)],
                "title": f"Opportunity {o_id}",
                "purpose": "Youth clubs.",
                "service_areas": rnd.sample(SERVICE_AREAS, rnd.randint(1, 2)),
                "area_served": rnd.sample(areas, rnd.randint(0, 2)),
                "state": state,
                "submission_deadline": NOW + timedelta(days=rnd.randint(-30, 90), hours=8),
            }
        )
        if state == "draft":
            continue
        for org in rnd.sample(orgs, min(len(orgs), rnd.randint(0, 20))):
            interest.append(
                {
                    "opportunity_id": o_id,
                    "organisation_id": org,
                    "state": "interested" if rnd.random() < 0.9 else "withdrawn",
                    "registered_at": NOW - timedelta(days=3),
                }
            )
    rows += await _insert(session, Opportunity, opportunities)
    rows += await _insert(session, OpportunityInterest, interest)
    # Agreements: parties, plans, five years of weekly check-ins, key dates, variations,
    # feedback points with answers.
    agreements, parties, plans, dates, variations = [], [], [], [], []
    points, entries, posts = [], [], []
    checkins: list[dict[str, Any]] = []
    first = TODAY - timedelta(days=365 * size.years)
    for i in range(size.agreements):
        a = base + 200_000 + i
        org = rnd.choice(orgs)
        starts = first + timedelta(days=rnd.randint(0, 60))
        ends = TODAY + timedelta(days=rnd.randint(-30, 400))
        agreements.append(
            {
                "id": a,
                "authority_id": councils[i % len(councils)],
                "title": f"Agreement {a}",
                "route": "standard_contract",
                "vat_basis": "including",
                "area_served": rnd.sample(areas, rnd.randint(0, 2)),
                "starts_on": starts,
                "ends_on": ends,
                "payment_terms_days": 30,
            }
        )
        parties.append({"agreement_id": a, "organisation_id": org, "role": "sole"})
        rag = rnd.random() < 0.5
        plans.append(
            {
                "id": a,
                "agreement_id": a,
                "state": "agreed",
                "frequency": "weekly",
                "method": "A short form.",
                "rag": rag,
                "proposed_by_side": "team",
            }
        )
        due = starts
        while due < TODAY + timedelta(days=DUE_SOON_DAYS):
            recent = due >= TODAY - timedelta(days=21)
            answered = not recent and rnd.random() < 0.98
            checkins.append(
                {
                    "agreement_id": a,
                    "plan_id": a,
                    "organisation_id": org,
                    "due_on": due,
                    "sent_at": datetime(due.year, due.month, due.day, 8, tzinfo=UTC),
                    "answered_at": datetime(due.year, due.month, due.day, 15, tzinfo=UTC)
                    if answered
                    else None,
                    "rag": rnd.choice(("red", "amber", "green", "green"))
                    if rag and answered
                    else None,
                }
            )
            due += timedelta(days=7)
        for kind in ("review", "price_uplift"):
            dates.append(
                {
                    "agreement_id": a,
                    "kind": kind,
                    "on": TODAY + timedelta(days=rnd.randint(-200, 300)),
                    "yearly": False,
                }
            )
        if i % 5 == 0:
            variations.append(
                {
                    "agreement_id": a,
                    "side": "provider",
                    "what_changes": "More hours.",
                    "why": "More young people came.",
                    "state": rnd.choice(("requested", "agreed", "approved", "rejected")),
                }
            )
        if i % 10 == 0:
            p = base + 300_000 + i
            points.append(
                {
                    "id": p,
                    "slug": f"bench{p}",
                    "service_name": f"Service {p}",
                    "state": "open",
                    "question_keys": list(QUESTIONS),
                    "agreement_id": a,
                }
            )
            for k in range(rnd.randint(0, 30)):
                entries.append(
                    {
                        "id": f"b{p}-{k}",
                        "point_id": p,
                        "given_on": TODAY - timedelta(days=k),
                        "answers": {
                            q: rnd.choice(SCALE_VALUES) for q in QUESTIONS if rnd.random() < 0.9
                        },
                        "hidden_at": NOW if rnd.random() < 0.03 else None,
                    }
                )
            if rnd.random() < 0.3:
                posts.append({"point_id": p, "text": "You said, we did."})
    rows += await _insert(session, Agreement, agreements)
    rows += await _insert(session, AgreementParty, parties)
    rows += await _insert(session, MonitoringPlanRow, plans)
    rows += await _insert(session, CheckinRow, checkins)
    rows += await _insert(session, AgreementDate, dates)
    rows += await _insert(session, _variation_table(), variations)
    rows += await _insert(session, FeedbackPoint, points)
    rows += await _insert(session, FeedbackEntry, entries)
    rows += await _insert(session, FeedbackPost, posts)
    return councils, rows


def _variation_table() -> Any:
    from storage.variation_tables import AgreementVariation

    return AgreementVariation


# --------------------------------------------------------------------------
# The baseline: load everything, count in Python (also the tests' check of the SQL)
# --------------------------------------------------------------------------


async def _all(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.scalars(statement)).all())


async def python_figures(
    session: AsyncSession, authority_id: int, *, today: date, now: datetime
) -> tuple[EngagementFigures, OpportunityFigures, AgreementFigures, FeedbackFigures]:
    """The dashboard's figures (unfiltered) from every row of the council's, loaded as
    objects and counted in Python: the council's rows are picked in SQL (so the baseline
    is not slowed by other councils' rows), everything else is done here."""
    from storage.variation_tables import AgreementVariation

    engagements = await _all(
        session, select(Engagement).where(Engagement.authority_id == authority_id)
    )
    e_ids = {e.id for e in engagements}
    forms = {e.id: e.form_key for e in engagements}
    mine_e = select(Engagement.id).where(Engagement.authority_id == authority_id)
    participants = await _all(
        session,
        select(EngagementParticipant).where(EngagementParticipant.engagement_id.in_(mine_e)),
    )
    responses = [
        r
        for r in await _all(
            session, select(FormResponse).where(FormResponse.engagement_id.in_(mine_e))
        )
        if r.engagement_id in e_ids
        and r.state == "submitted"
        and r.form_key == forms[r.engagement_id]
    ]
    events = await _all(
        session, select(EngagementEvent).where(EngagementEvent.engagement_id.in_(mine_e))
    )
    clarifications = await _all(session, select(Clarification))
    states = Counter(e.state for e in engagements)
    engagement = EngagementFigures(
        open=states["open"],
        closed=states["closed"],
        drafts=states["draft"],
        invited=sum(p.invited_at is not None for p in participants),
        took_part=sum(p.joined_at is not None for p in participants),
        answers_in=len({(r.engagement_id, r.organisation_id) for r in responses}),
        events_coming=sum(v.starts_at >= now for v in events),
        clarifications_waiting=sum(
            c.engagement_id in e_ids and c.kind == "question" and c.published_at is None
            for c in clarifications
        ),
    )
    opportunities = await _all(
        session, select(Opportunity).where(Opportunity.authority_id == authority_id)
    )
    o_ids = {o.id for o in opportunities}
    open_ids = {o.id for o in opportunities if o.state == "open"}
    interest = [
        i
        for i in await _all(
            session,
            select(OpportunityInterest).where(
                OpportunityInterest.opportunity_id.in_(
                    select(Opportunity.id).where(Opportunity.authority_id == authority_id)
                )
            ),
        )
        if i.opportunity_id in open_ids and i.state == "interested"
    ]
    organisations = {o.id: o for o in await _all(session, select(Organisation))}
    o_states = Counter(o.state for o in opportunities)
    opportunity = OpportunityFigures(
        open=o_states["open"],
        closed=o_states["closed"],
        drafts=o_states["draft"],
        interested=len(interest),
        questions_waiting=sum(
            c.opportunity_id in o_ids and c.kind == "question" and c.published_at is None
            for c in clarifications
        ),
        by_income=dict(Counter(organisations[i.organisation_id].income_band for i in interest)),
        by_kind=dict(Counter(organisations[i.organisation_id].legal_form for i in interest)),
    )
    agreements = await _all(
        session, select(Agreement).where(Agreement.authority_id == authority_id)
    )
    a_ids = {a.id for a in agreements}
    mine_a = select(Agreement.id).where(Agreement.authority_id == authority_id)
    checkins = await _all(session, select(CheckinRow).where(CheckinRow.agreement_id.in_(mine_a)))
    plans = await _all(
        session, select(MonitoringPlanRow).where(MonitoringPlanRow.agreement_id.in_(mine_a))
    )
    variations = await _all(
        session, select(AgreementVariation).where(AgreementVariation.agreement_id.in_(mine_a))
    )
    latest: dict[int, tuple[date, int, str]] = {}
    for c in checkins:
        if c.rag is not None and c.answered_at is not None:
            key = (c.due_on, c.id, c.rag)
            if c.agreement_id not in latest or key > latest[c.agreement_id]:
                latest[c.agreement_id] = key
    rag_plans = [p for p in plans if p.rag and p.state == "agreed"]
    unanswered = [c for c in checkins if c.answered_at is None]
    agreement = AgreementFigures(
        live=sum(a.starts_on <= today <= a.ends_on for a in agreements),
        ending_soon=sum(
            today <= a.ends_on <= today + timedelta(days=ENDING_SOON_DAYS) for a in agreements
        ),
        checkins_due=sum(
            today <= c.due_on <= today + timedelta(days=DUE_SOON_DAYS) for c in unanswered
        ),
        checkins_overdue=sum(c.due_on < today for c in unanswered),
        variations_open=sum(v.state in OPEN_VARIATIONS for v in variations),
        rag=dict(
            Counter(
                latest[p.agreement_id][2] if p.agreement_id in latest else None for p in rag_plans
            )
        ),
    )
    points = [
        p
        for p in await _all(session, select(FeedbackPoint))
        if p.authority_id == authority_id or p.agreement_id in a_ids
    ]
    p_ids = {p.id for p in points}
    shown = [
        e
        for e in await _all(session, select(FeedbackEntry))
        if e.point_id in p_ids and e.hidden_at is None
    ]
    posted = {p.point_id for p in await _all(session, select(FeedbackPost))}
    with_entries = {e.point_id for e in shown}
    answers: dict[str, dict[str | None, int]] = {}
    for q in QUESTIONS:
        counted = Counter(
            e.answers.get(q)
            if e.answers.get(q) in SCALE_VALUES or e.answers.get(q) is None
            else "other"
            for e in shown
        )
        answers[q] = {v: counted.get(v, 0) for v in (*SCALE_VALUES, None)}
    feedback = FeedbackFigures(
        points=len(points),
        entries=len(shown),
        yousaid_pending=len(with_entries - posted),
        answers=answers,
    )
    return engagement, opportunity, agreement, feedback


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


class QueryCounter:
    """Counts statements sent to the database (`before_cursor_execute`)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def _median(runs: int, make: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await make()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2], result


async def _prepared(db_url: str, size: Size) -> tuple[Any, Any, int, int]:
    """Services on a migrated, seeded database, the first council's commissioner, and
    how many rows were added."""
    from bot.app import build_services
    from bot.core.clock import FixedClock
    from bot.settings import load_settings
    from storage.models import Person, Role
    from storage.people import grant, load_actor
    from tests.support.databases import migrate

    await migrate(db_url)
    settings = load_settings(
        database_url=db_url,
        secret_key="bench-secret-key-not-for-production",
        scheduler_enabled=False,
    )
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    async with services.db.session() as session:
        councils, rows = await seed(session, size)
        person = Person(
            name="Bench Commissioner", email=f"bench{len(councils)}-{size.agreements}@example.org"
        )
        session.add(person)
        await session.flush()
        await grant(session, person, Role.COMMISSIONER, authority_id=councils[0])
        person_id = person.id
    if services.db.is_postgres:
        async with services.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with services.db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    async with services.db.session() as session:
        actor = await load_actor(session, person_id, services.tz)
    return services, actor, councils[0], rows


async def render_page(services: Any, actor: Any) -> str:
    """The commissioner's dashboard as the web door shows it: the handler, then the page."""
    from bot.core.turn import Door, Turn
    from bot.web.render import environment, title_of
    from handlers.dashboard import dashboard

    turn = Turn(door=Door.WEB, actor=actor, conversation="web", text="dashboard", args={})
    replies = await dashboard(turn, services)
    return environment.get_template("replies.html").render(
        replies=replies, person=actor, csrf="bench", unread=0, title=title_of(replies)
    )


async def queries_per_page(services: Any, actor: Any) -> int:
    counter = QueryCounter(services.db.engine)
    await render_page(services, actor)
    event.remove(services.db.engine.sync_engine, "before_cursor_execute", counter._seen)
    return counter.count


async def run(backend: str, make_url: Callable[[], Any], size: Size, runs: int) -> int:
    from handlers.dashboard.charts import forget_drawn
    from handlers.dashboard.figures import FEEDBACK_QUESTIONS
    from storage.dashboard import (
        Scope,
        agreement_figures,
        engagement_figures,
        feedback_figures,
        opportunity_figures,
    )

    async with make_url() as (tiny_url, _):
        tiny, tiny_actor, _, tiny_rows = await _prepared(tiny_url, size.scaled(0.01))
        try:
            await render_page(tiny, tiny_actor)
            tiny_queries = await queries_per_page(tiny, tiny_actor)
        finally:
            await tiny.db.dispose()
    async with make_url() as (db_url, _):
        started = time.perf_counter()
        services, actor, council, rows = await _prepared(db_url, size)
        try:
            print(
                f"Dashboard benchmark on {backend}: {rows:,} rows ({size.organisations:,} "
                f"organisations, {size.engagements} engagements, {size.opportunities:,} "
                f"opportunities, {size.agreements:,} agreements with {size.years} years of weekly "
                f"check-ins) shared by {size.councils} councils, seeded in "
                f"{time.perf_counter() - started:.1f} s"
            )
            html = await render_page(services, actor)  # warm up: statement cache, fonts
            queries = await queries_per_page(services, actor)
            page_time, html = await _median(runs, lambda: render_page(services, actor))

            async def drawn_afresh() -> str:
                forget_drawn()
                return await render_page(services, actor)

            fresh_time, _ = await _median(runs, drawn_afresh)
            scope = Scope(authority_id=council, today=TODAY, now=NOW)

            async def sql() -> Any:
                async with services.db.session() as session:
                    return (
                        await engagement_figures(session, scope),
                        await opportunity_figures(session, scope),
                        await agreement_figures(session, scope),
                        await feedback_figures(session, scope, [q.key for q in FEEDBACK_QUESTIONS]),
                    )

            async def python() -> Any:
                async with services.db.session() as session:
                    return await python_figures(session, council, today=TODAY, now=NOW)

            sql_time, in_sql = await _median(runs, sql)
            py_time, in_python = await _median(3, python)
            same = (
                in_sql[0] == in_python[0]
                and _without_lists(in_sql[1]) == _without_lists(in_python[1])
                and _without_lists(in_sql[2]) == _without_lists(in_python[2])
                and in_sql[3] == in_python[3]
            )
            ratio = py_time / sql_time if sql_time else float("inf")
            print(
                f"page (figures, charts drawn, HTML): median {page_time * 1000:7.1f} ms "
                f"of {runs}, {len(html):,} bytes"
            )
            print(
                f"the same page with every chart drawn afresh (its data changed): median "
                f"{fresh_time * 1000:7.1f} ms"
            )
            print(f"figures in SQL:                     median {sql_time * 1000:7.1f} ms")
            print(f"load every row, count in Python:    median {py_time * 1000:7.1f} ms")
            print(
                f"ratio: {ratio:.1f}x faster in SQL (target >= 10x); same figures: {'yes' if same else 'NO'}"
            )
            print(
                f"queries per page: {queries} on this database, {tiny_queries} on a tiny one "
                f"({tiny_rows:,} rows)"
            )
            missed = []
            if page_time >= 0.3:
                missed.append(f"page median {page_time * 1000:.0f} ms (target under 300 ms)")
            if ratio < 10:
                missed.append(f"ratio {ratio:.1f}x (target at least 10x)")
            if queries != tiny_queries:
                missed.append(f"queries per page differ: {queries} against {tiny_queries}")
            if queries > 25:
                missed.append(f"{queries} queries per page (target a small constant)")
            if not same:
                missed.append("SQL and Python figures differ")
            if missed:
                print("short of the targets: " + "; ".join(missed))
                return 1
            print("targets met")
            return 0
        finally:
            await services.db.dispose()


def _without_lists(figures: Any) -> Any:
    """Figures without the named rows the baseline doesn't rebuild (deadlines, key dates)."""
    from dataclasses import replace

    if isinstance(figures, OpportunityFigures):
        return replace(figures, next_deadlines=())
    if isinstance(figures, AgreementFigures):
        return replace(figures, next_dates=())
    return figures


async def main(options: argparse.Namespace) -> int:
    from bench.common import bench_database

    size = (
        Size(councils=options.councils).scaled(options.scale)
        if options.scale != 1
        else Size(councils=options.councils)
    )
    backend = "PostgreSQL" if _is_postgres() else "SQLite"
    return await run(backend, bench_database, size, options.runs)


def _is_postgres() -> bool:
    import os

    return bool(os.environ.get("BENCH_DATABASE_URL"))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--councils", type=int, default=10)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
