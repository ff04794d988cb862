"""The readiness summary's sums, done in SQL, checked against the same sums in Python.

A generated population of 500 organisations (deterministic: `random.Random(seed)`)
answers the full questionnaire. Some answered several times (only the latest counts),
some only in draft (never counts), some for another council (never counts here), some
never. The SQL summary must equal, exactly, what Python works out from the generated
data itself, with and without filters. Medians and quartiles follow one convention
in both places: `storage.readiness.quantile` (PostgreSQL's percentile_cont).

Small-group suppression is checked rule by rule on hand-made summaries, then end to
end on a filter that leaves three organisations.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bench.readiness_summary import (
    HOME,
    OTHER,
    GeneratedOrganisation,
    generate_population,
    insert_population,
    latest_answers,
    readiness_definition,
    summarise_in_python,
)
from bot.core.forms import FormDefinition
from bot.services import Services
from handlers.readiness_statistics import (
    Count,
    Hidden,
    Kind,
    OptionCount,
    QuestionSummary,
    Spread,
    Summary,
    quantile,
    readiness_summary,
    suppress_small_groups,
)
from storage.models import (
    Authority,
    FormResponse,
    Organisation,
    Person,
    ResponseState,
)
from storage.readiness import (
    AREA_FIELD,
    JsonAnswers,
    rebuild_readiness_facts,
    support_requests,
)
from tests.support.areas import code, codes

SEED = 20260306
POPULATION = 500
#: A place only three providers say they could cover, far from everybody else's.
TINY = code("Isles of Scilly")


@pytest.fixture(scope="module")
def definition() -> FormDefinition:
    return readiness_definition()


@pytest.fixture
def population(definition: FormDefinition) -> list[GeneratedOrganisation]:
    """500 organisations; three that answered also cover a tiny area nobody else does."""
    people = generate_population(POPULATION, seed=SEED, definition=definition)
    answered = [
        o
        for o in people
        if any(r.authority == HOME and r.state == ResponseState.SUBMITTED for r in o.responses)
    ]
    for org in answered[:3]:
        for response in org.responses:
            covered = response.answers.get(AREA_FIELD)
            places = covered if isinstance(covered, list) else []
            response.answers[AREA_FIELD] = [*places, TINY]
    return people


async def _authorities(services: Services) -> dict[str, int]:
    async with services.db.session() as session:
        home = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert home is not None
        other = Authority(name="Eastshire Council", slug="eastshire")
        session.add(other)
        await session.flush()
        return {HOME: home.id, OTHER: other.id}


@pytest.fixture
async def loaded(
    services: Services, population: list[GeneratedOrganisation], definition: FormDefinition
) -> dict[str, int]:
    authorities = await _authorities(services)
    async with services.db.session() as session:
        await insert_population(session, population, authorities=authorities, definition=definition)
    return authorities


# --------------------------------------------------------------------------
# The median convention
# --------------------------------------------------------------------------


def test_median_interpolates_between_the_middle_two() -> None:
    assert quantile([1, 2, 3, 10], 0.5) == 2.5
    assert quantile([1, 2, 3, 10], 0.25) == 1.75
    assert quantile([1, 2, 3, 10], 0.75) == 4.75
    assert quantile([7], 0.5) == 7
    assert quantile([1, 2, 3], 0.5) == 2


def test_quantile_is_the_inclusive_method_statistics_uses() -> None:
    """The same convention as `statistics.quantiles(method="inclusive")` (and R's type 7)."""
    rng = random.Random(SEED)
    for size in (2, 3, 4, 5, 10, 101, 500):
        data = sorted(rng.uniform(0, 1_000) for _ in range(size))
        expected = statistics.quantiles(data, n=4, method="inclusive")
        got = [quantile(data, p) for p in (0.25, 0.5, 0.75)]
        assert got == pytest.approx(expected, rel=1e-12)


def test_no_values_has_no_median() -> None:
    with pytest.raises(ValueError):
        quantile([], 0.5)


# --------------------------------------------------------------------------
# JSON access by dialect
# --------------------------------------------------------------------------


def test_json_helper_uses_each_databases_own_functions() -> None:
    column = FormResponse.__table__.c.answers
    lite = str(
        JsonAnswers("sqlite").choice(column, "arrears_days").compile(dialect=sqlite.dialect())
    )
    assert "json_type(form_responses.answers, '$.arrears_days')" in lite
    assert "json_extract(form_responses.answers, '$.arrears_days')" in lite
    pg = str(
        JsonAnswers("postgresql")
        .choice(column, "arrears_days")
        .compile(dialect=postgresql.dialect())
    )
    assert "jsonb_typeof(form_responses.answers -> 'arrears_days')" in pg
    assert "form_responses.answers ->> 'arrears_days'" in pg


def test_json_helper_refuses_anything_but_a_field_id() -> None:
    column = FormResponse.__table__.c.answers
    with pytest.raises(ValueError):
        JsonAnswers("sqlite").choice(column, "x'); DROP TABLE people; --")
    with pytest.raises(ValueError):
        JsonAnswers("mysql")


# --------------------------------------------------------------------------
# SQL against Python on the generated population
# --------------------------------------------------------------------------


async def _sql(
    services: Services,
    authority_id: int,
    definition: FormDefinition,
    **filters: Any,
) -> Summary:
    async with services.db.session() as session:
        return await readiness_summary(
            session, authority_id=authority_id, definition=definition, **filters
        )


async def test_counts_and_medians_match_python_exactly(
    services: Services,
    loaded: dict[str, int],
    population: list[GeneratedOrganisation],
    definition: FormDefinition,
) -> None:
    summary = await _sql(services, loaded[HOME], definition)
    expected = summarise_in_python(latest_answers(population), definition)
    assert summary == expected
    # What the generator promises, so the comparison above means something.
    submitted = [
        o
        for o in population
        if any(r.authority == HOME and r.state == ResponseState.SUBMITTED for r in o.responses)
    ]
    assert summary.organisations == Count(len(submitted))
    assert 400 < len(submitted) < POPULATION
    assert any(len([r for r in o.responses if r.authority == HOME]) >= 3 for o in population)
    assert any(r.state == ResponseState.DRAFT for o in population for r in o.responses)
    # Headline facts, from the counts themselves.
    arrears = summary.question("arrears_days")
    assert summary.arrears_61_plus.value == sum(
        (arrears.option(v).value or 0) for v in ("61_90", "over_90")
    )
    spread = summary.question("overhead_rate").spread
    assert spread is not None and summary.median_overhead == spread.median
    numbers = sorted(
        float(a["overhead_rate"])
        for a in latest_answers(population)
        if isinstance(a.get("overhead_rate"), int | float)
        and not isinstance(a.get("overhead_rate"), bool)
    )
    assert summary.median_overhead == quantile(numbers, 0.5)


async def test_another_councils_answers_are_summarised_apart(
    services: Services,
    loaded: dict[str, int],
    population: list[GeneratedOrganisation],
    definition: FormDefinition,
) -> None:
    summary = await _sql(services, loaded[OTHER], definition)
    assert summary == summarise_in_python(latest_answers(population, authority=OTHER), definition)
    assert 0 < (summary.organisations.value or 0) < 100


@pytest.mark.parametrize(
    ("service_area", "area"),
    [
        ("children_young_people", None),
        (None, code("Preston")),  # and everyone covering Lancashire
        (None, code("Lancashire")),  # and everyone covering one of its councils
        ("food", code("Leeds")),
    ],
)
async def test_filters_match_python(
    services: Services,
    loaded: dict[str, int],
    population: list[GeneratedOrganisation],
    definition: FormDefinition,
    service_area: str | None,
    area: str | None,
) -> None:
    summary = await _sql(services, loaded[HOME], definition, service_area=service_area, area=area)
    chosen = latest_answers(population, service_area=service_area, area=area)
    assert summary == summarise_in_python(chosen, definition)
    assert 0 < (summary.organisations.value or 0) < 400


async def test_a_filter_nobody_matches_gives_an_empty_summary(
    services: Services, loaded: dict[str, int], definition: FormDefinition
) -> None:
    summary = await _sql(services, loaded[HOME], definition, area=code("Cornwall"))
    assert summary.organisations == Count(0)
    assert all(q.spread is None and q.answered == Count(0) for q in summary.questions)


async def test_small_groups_are_hidden_only_when_asked(
    services: Services,
    loaded: dict[str, int],
    population: list[GeneratedOrganisation],
    definition: FormDefinition,
) -> None:
    exact = await _sql(services, loaded[HOME], definition, area=TINY)
    assert exact.organisations == Count(3)
    assert exact == summarise_in_python(latest_answers(population, area=TINY), definition)
    hidden = await _sql(services, loaded[HOME], definition, area=TINY, suppress=True, minimum=5)
    assert hidden.too_few and hidden.organisations == Count(None, Hidden.FEWER)
    assert hidden.minimum == 5
    for question in hidden.questions:
        assert question.spread is None
        assert all(o.count.value is None for o in question.options)
        assert question.answered.value is None and question.not_answered.value is None
    # With a minimum of 3, the same three organisations are enough to show.
    shown = await _sql(services, loaded[HOME], definition, area=TINY, suppress=True, minimum=3)
    assert shown.organisations == Count(3)


async def test_who_asked_for_support_matches_python(
    services: Services,
    loaded: dict[str, int],
    population: list[GeneratedOrganisation],
    definition: FormDefinition,
) -> None:
    async with services.db.session() as session:
        asked = await support_requests(session, authority_id=loaded[HOME])
    expected: dict[str, list[str]] = {}
    for org in population:
        latest = latest_answers([org])
        wanted = latest[0].get("support_wanted") if latest else None
        if isinstance(wanted, list):
            for value in dict.fromkeys(v for v in wanted if isinstance(v, str) and v != "none"):
                expected.setdefault(value, []).append(org.name)
    assert {k: [a.name for a in v] for k, v in asked.items()} == {
        k: sorted(v, key=str.casefold) for k, v in expected.items()
    }
    assert "none" not in asked


# --------------------------------------------------------------------------
# Hand-made answers, with the numbers worked out by hand
# --------------------------------------------------------------------------


async def _org(session: Any, name: str) -> int:
    org_id = await session.scalar(
        insert(Organisation).returning(Organisation.id),
        {"name": name, "slug": name.lower().replace(" ", "-")},
    )
    assert org_id is not None
    return int(org_id)


async def test_hand_made_answers(services: Services, definition: FormDefinition) -> None:
    """Four organisations, numbers chosen so the answers are easy to check by eye."""
    authorities = await _authorities(services)
    home = authorities[HOME]
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    async with services.db.session() as session:
        a, b, c, d = [await _org(session, n) for n in ("Alpha", "Beta", "Gamma", "Delta")]
        person = Person(name="Jo Contact", email="jo@alpha.example")
        session.add(person)
        await session.flush()
        rows = [
            # Alpha answered twice: only the second counts.
            (a, home, "submitted", t0, {"annual_cost": 999_900, "arrears_days": "none"}),
            (
                a,
                home,
                "submitted",
                t0 + timedelta(days=30),
                {
                    "annual_cost": 100_000,
                    "arrears_days": "over_90",
                    "safeguarding_policy": True,
                    "support_wanted": ["costing", "costing", "bid_writing"],
                    "respond_how": ["call"],
                    "main_risks": "Late payment.",
                    "areas_covered": codes("Lancashire"),
                },
            ),
            # Alpha's newer draft never counts.
            (a, home, "draft", None, {"annual_cost": 1, "arrears_days": "up_to_30"}),
            (b, home, "submitted", t0, {"annual_cost": 200_000, "arrears_days": "61_90"}),
            (c, home, "submitted", t0, {"annual_cost": 300_000, "arrears_days": "none"}),
            # Delta says a lot, but to another council only.
            (d, authorities[OTHER], "submitted", t0, {"annual_cost": 5, "arrears_days": "none"}),
            # Gamma again at the same moment: a tie must not count Gamma twice. The later
            # row wins.
            (
                c,
                home,
                "submitted",
                t0,
                {
                    "annual_cost": 1_000_000,
                    "arrears_days": "61_90",
                    "safeguarding_policy": False,
                    "support_wanted": ["none"],
                    "main_risks": "",
                },
            ),
        ]
        await session.execute(
            insert(FormResponse),
            [
                {
                    "form_key": "readiness",
                    "form_version": 1,
                    "organisation_id": org,
                    "authority_id": authority,
                    "respondent_id": person.id,
                    "state": state,
                    "submitted_at": at,
                    "answers": answers,
                    "created_at": t0,
                    "updated_at": t0,
                }
                for org, authority, state, at, answers in rows
            ],
        )
        # Inserted directly, so the summary's facts are derived here, as a submission would.
        await rebuild_readiness_facts(session, definitions=[definition])
    summary = await _sql(services, home, definition)
    assert summary.organisations == Count(3)
    cost = summary.question("annual_cost")
    assert cost.answered == Count(3) and cost.not_answered == Count(0)
    # Alpha £1,000, Beta £2,000, Gamma £10,000 (its later row by id wins the tie).
    assert cost.spread == Spread(lower=150_000.0, median=200_000.0, upper=600_000.0)
    arrears = summary.question("arrears_days")
    assert arrears.option("over_90") == Count(1) and arrears.option("61_90") == Count(2)
    assert arrears.option("none") == Count(0) and arrears.option("up_to_30") == Count(0)
    assert summary.arrears_61_plus == Count(3)
    safeguarding = summary.question("safeguarding_policy")
    assert [(o.value, o.count.value) for o in safeguarding.options] == [("yes", 1), ("no", 1)]
    assert safeguarding.not_answered == Count(1)
    support = summary.question("support_wanted")
    assert support.option("costing") == Count(1)  # chosen twice in one list: one organisation
    assert support.option("none") == Count(1)
    assert support.answered == Count(2)
    assert summary.question("main_risks").answered == Count(1)  # a blank answer is no answer
    assert summary.question("staff_fte").spread is None
    assert summary == summarise_in_python([rows[1][4], rows[3][4], rows[6][4]], definition)
    async with services.db.session() as session:
        asked = await support_requests(session, authority_id=home)
        north = await support_requests(session, authority_id=home, area=code("Preston"))
        nowhere = await support_requests(session, authority_id=home, service_area="food")
    assert [a.name for a in asked["costing"]] == ["Alpha"]
    assert asked["costing"][0].respond_how == ("call",)
    assert asked["costing"][0].contact_email == "jo@alpha.example"
    assert asked["costing"][0].asked_at == t0 + timedelta(days=30)
    assert set(asked) == {"costing", "bid_writing"}
    assert set(north) == {"costing", "bid_writing"} and nowhere == {}


# --------------------------------------------------------------------------
# Suppression rules, one by one
# --------------------------------------------------------------------------


def _choice(field_id: str, counts: dict[str, int], not_answered: int) -> QuestionSummary:
    given = sum(counts.values())
    return QuestionSummary(
        field_id=field_id,
        kind=Kind.CHOICE,
        answered=Count(given),
        not_answered=Count(not_answered),
        options=tuple(OptionCount(k, Count(v)) for k, v in counts.items()),
    )


def _summary(total: int, *questions: QuestionSummary, late: int = 0) -> Summary:
    return Summary(Count(total), tuple(questions), Count(late))


FEWER = Count(None, Hidden.FEWER)
COMPLEMENT = Count(None, Hidden.COMPLEMENT)


def test_counts_below_the_minimum_are_hidden_and_dropped() -> None:
    q = _choice("payment_terms", {"a": 20, "b": 3, "c": 0, "d": 9}, not_answered=8)
    hidden = suppress_small_groups(_summary(40, q), 5).question("payment_terms")
    assert [o.count for o in hidden.options] == [Count(20), FEWER, FEWER, Count(9)]
    assert hidden.not_answered == Count(8)
    assert hidden.answered == Count(32)


def test_a_lone_hidden_count_takes_the_next_smallest_with_it() -> None:
    """20 + 3 + 9 + 8 = 40: with 3 hidden alone, 40 − 20 − 9 − 8 would give it away."""
    q = _choice("payment_terms", {"a": 20, "b": 3, "c": 9}, not_answered=8)
    hidden = suppress_small_groups(_summary(40, q), 5).question("payment_terms")
    assert [o.count for o in hidden.options] == [Count(20), FEWER, Count(9)]
    assert hidden.not_answered == COMPLEMENT
    # Answered is the total less "not answered", so it goes too.
    assert hidden.answered == COMPLEMENT


def test_two_hidden_counts_need_nothing_more() -> None:
    q = _choice("payment_terms", {"a": 30, "b": 3, "c": 2}, not_answered=5)
    hidden = suppress_small_groups(_summary(40, q), 5).question("payment_terms")
    assert [o.count for o in hidden.options] == [Count(30), FEWER, FEWER]
    assert hidden.not_answered == Count(5)


def test_multiple_choice_options_are_checked_one_by_one() -> None:
    q = QuestionSummary(
        field_id="exposure",
        kind=Kind.MULTIPLE,
        answered=Count(36),
        not_answered=Count(4),
        options=(OptionCount("tupe", Count(30)), OptionCount("property", Count(2))),
    )
    hidden = suppress_small_groups(_summary(40, q), 5).question("exposure")
    assert [o.count for o in hidden.options] == [Count(30), FEWER]
    assert hidden.not_answered == FEWER and hidden.answered == COMPLEMENT


def test_medians_need_enough_numbers() -> None:
    spread = Spread(1.0, 2.0, 3.0)

    def number(answered: int) -> QuestionSummary:
        return QuestionSummary(
            "annual_cost", Kind.NUMBER, Count(answered), Count(40 - answered), spread=spread
        )

    assert suppress_small_groups(_summary(40, number(4)), 5).question("annual_cost").spread is None
    assert (
        suppress_small_groups(_summary(40, number(5)), 5).question("annual_cost").spread == spread
    )


def test_the_late_payment_headline_never_gives_away_a_hidden_count() -> None:
    both_shown = _choice("arrears_days", {"61_90": 6, "over_90": 7, "none": 20}, not_answered=7)
    assert suppress_small_groups(_summary(40, both_shown, late=13), 5).arrears_61_plus == Count(13)
    one_hidden = _choice("arrears_days", {"61_90": 8, "over_90": 2, "none": 20}, not_answered=10)
    assert suppress_small_groups(_summary(40, one_hidden, late=10), 5).arrears_61_plus == COMPLEMENT
    both_hidden = _choice("arrears_days", {"61_90": 1, "over_90": 2, "none": 30}, not_answered=7)
    assert suppress_small_groups(_summary(40, both_hidden, late=3), 5).arrears_61_plus == FEWER


def test_a_group_smaller_than_the_minimum_shows_nothing() -> None:
    q = _choice("payment_terms", {"a": 3, "b": 1}, not_answered=0)
    hidden = suppress_small_groups(_summary(4, q, late=0), 5)
    assert hidden.too_few
    assert hidden.organisations == FEWER and hidden.arrears_61_plus == FEWER
    assert all(o.count == FEWER for o in hidden.question("payment_terms").options)


def test_exact_summaries_are_left_alone_when_not_suppressed() -> None:
    q = _choice("payment_terms", {"a": 1}, not_answered=0)
    exact = _summary(1, q)
    assert not exact.too_few and exact.minimum is None
    twice = suppress_small_groups(suppress_small_groups(exact, 5), 5)
    assert twice == suppress_small_groups(exact, 5)
