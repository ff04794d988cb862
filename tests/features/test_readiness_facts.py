"""Readiness facts: the summary's typed copy of each organisation's latest answers.

A provider sends readiness answers (in-process, on the test door, with the turns the web
door sends), then changes them: the facts are
replaced in the same transaction as the new submission, the first version stays in
form_responses, and the commissioners' summary follows the change. The rules that turn
answers into facts are checked one by one, and migration 0005 must fill the table from
existing answers exactly as the app would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from bench.readiness_summary import (
    HOME,
    OTHER,
    START,
    generate_population,
    latest_answers,
    readiness_definition,
    summarise_in_python,
)
from bot.core.areas import typed_label
from bot.core.forms import FormDefinition, definition_checksum
from bot.core.reply import FormView
from bot.core.turn import Intent
from bot.services import Services
from handlers.readiness_statistics import (
    Count,
    readiness_summary,
)
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import (
    Authority,
    FormResponse,
    Organisation,
    ReadinessAnswer,
    ResponseState,
)
from storage.readiness import (
    SUBMITTED,
    answer_facts,
    rebuild_readiness_facts,
    refresh_readiness_facts,
)
from storage.types import UTCDateTime
from tests.support.areas import codes
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of
from tests.support.migrations import run_alembic

PAGE_COUNT = 6

FIRST: dict[int, dict[str, Any]] = {
    0: {"annual_cost": "£45,000", "arrears_days": "61_90", "overhead_rate": "15%"},
    1: {"exposure": ["tupe", "property"], "main_risks": "Short contracts."},
    3: {"safeguarding_policy": "yes", "staff_fte": "12"},
    5: {"support_wanted": ["costing", "bid_writing"]},
}
SECOND: dict[int, dict[str, Any]] = {
    0: {"annual_cost": "£60,000", "arrears_days": "none", "overhead_rate": "20%"},
    1: {"exposure": ["tupe"], "main_risks": "Short contracts."},
    3: {"safeguarding_policy": "no", "staff_fte": "14"},
    5: {"support_wanted": ["none"]},
}


@pytest.fixture(scope="module")
def definition() -> FormDefinition:
    return readiness_definition()


async def send(provider: Conversation, pages: dict[int, dict[str, Any]]) -> str:
    """Open the readiness form and send it, page by page, with these answers."""
    form = form_in(await provider.say("readiness"))
    assert form.page_count == PAGE_COUNT
    for index in range(PAGE_COUNT):
        last = index == PAGE_COUNT - 1
        replies = await provider.send_page(
            form, pages.get(index, {}), page=index, intent=Intent.SUBMIT if last else Intent.NEXT
        )
        if not last:
            assert any(isinstance(r, FormView) for r in replies), text_of(replies)
    assert "Thank you" in text_of(replies)
    return text_of(replies)


async def facts_of(services: Services, organisation_id: int) -> list[ReadinessAnswer]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(ReadinessAnswer).where(
                        ReadinessAnswer.organisation_id == organisation_id
                    )
                )
            ).all()
        )


def as_facts(rows: list[ReadinessAnswer]) -> Counter[tuple[str, str | None, float | None]]:
    return Counter((r.question, r.choice, r.number) for r in rows)


async def test_resubmitting_replaces_the_facts_and_keeps_the_old_version(
    door: TestDoor, services: Services, definition: FormDefinition
) -> None:
    tom = await door.sign_in("Tom Okafor")
    await send(tom, FIRST)
    async with services.db.session() as session:
        first = await session.scalar(
            select(FormResponse).where(
                FormResponse.form_key == "readiness",
                FormResponse.state == ResponseState.SUBMITTED,
            )
        )
        assert first is not None and first.organisation_id is not None
        assert first.authority_id is not None
        org_id, authority_id = first.organisation_id, first.authority_id
    facts = await facts_of(services, org_id)
    assert {f.response_id for f in facts} == {first.id}
    assert {f.authority_id for f in facts} == {authority_id}
    assert as_facts(facts) == Counter(answer_facts(first.answers, definition))
    found = as_facts(facts)
    assert found[("arrears_days", "61_90", None)] == 1
    assert found[("annual_cost", None, 4_500_000.0)] == 1
    assert found[("exposure", "property", None)] == 1
    assert found[("main_risks", None, None)] == 1  # answered; the words are not copied
    assert not any(f.choice == "Short contracts." for f in facts)

    async with services.db.session() as session:
        before = await readiness_summary(session, authority_id=authority_id, definition=definition)
    assert before.organisations == Count(1)
    assert before.question("arrears_days").option("61_90") == Count(1)
    assert before.arrears_61_plus == Count(1)
    assert before.question("exposure").option("property") == Count(1)
    assert before.question("safeguarding_policy").option("yes") == Count(1)
    cost = before.question("annual_cost").spread
    assert cost is not None and cost.median == 4_500_000

    # Tom changes his answers: the form starts from the last ones, and he sends it again.
    await send(tom, SECOND)
    async with services.db.session() as session:
        versions = list(
            (
                await session.scalars(
                    select(FormResponse)
                    .where(
                        FormResponse.form_key == "readiness",
                        FormResponse.organisation_id == org_id,
                        FormResponse.state == ResponseState.SUBMITTED,
                    )
                    .order_by(FormResponse.id)
                )
            ).all()
        )
    assert len(versions) == 2 and versions[0].id == first.id
    old, new = versions
    # The first version is kept as it was.
    assert old.answers["arrears_days"] == "61_90" and old.answers["annual_cost"] == 4_500_000
    assert new.answers["arrears_days"] == "none" and new.answers["annual_cost"] == 6_000_000
    facts = await facts_of(services, org_id)
    assert {f.response_id for f in facts} == {new.id}
    assert as_facts(facts) == Counter(answer_facts(new.answers, definition))
    assert sum(1 for f in facts if f.question == SUBMITTED) == 1

    async with services.db.session() as session:
        after = await readiness_summary(session, authority_id=authority_id, definition=definition)
    assert after.organisations == Count(1)
    arrears = after.question("arrears_days")
    assert arrears.option("61_90") == Count(0) and arrears.option("none") == Count(1)
    assert after.arrears_61_plus == Count(0)
    assert after.question("exposure").option("property") == Count(0)
    assert after.question("exposure").option("tupe") == Count(1)
    assert after.question("safeguarding_policy").option("no") == Count(1)
    assert after.question("support_wanted").option("none") == Count(1)
    assert after.question("support_wanted").option("costing") == Count(0)
    cost = after.question("annual_cost").spread
    assert cost is not None and cost.median == 6_000_000
    staff = after.question("staff_fte").spread
    assert staff is not None and staff.median == 14

    # A new draft, saved but not sent, changes nothing.
    form = form_in(await tom.say("readiness"))
    await tom.send_page(form, {"arrears_days": "over_90"}, page=0, intent=Intent.SAVE)
    assert as_facts(await facts_of(services, org_id)) == Counter(
        answer_facts(new.answers, definition)
    )
    async with services.db.session() as session:
        again = await readiness_summary(session, authority_id=authority_id, definition=definition)
    assert again == after


async def test_facts_are_kept_per_council(services: Services, definition: FormDefinition) -> None:
    """Answers to another council have their own facts, and refreshing one council's
    facts leaves the other's alone; with no submission left, there are no facts."""
    t0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    async with services.db.session() as session:
        home = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert home is not None and org is not None
        other = Authority(name="Eastshire Council", slug="eastshire")
        session.add(other)
        await session.flush()
        for authority, answers in ((home, {"arrears_days": "none"}), (other, {"staff_fte": 3})):
            session.add(
                FormResponse(
                    form_key="readiness",
                    form_version=definition.version,
                    organisation_id=org.id,
                    authority_id=authority.id,
                    state=ResponseState.SUBMITTED,
                    answers=answers,
                    submitted_at=t0,
                )
            )
            await session.flush()
            await refresh_readiness_facts(
                session, organisation_id=org.id, authority_id=authority.id, definition=definition
            )
        org_id, home_id, other_id = org.id, home.id, other.id
    facts = await facts_of(services, org_id)
    assert as_facts([f for f in facts if f.authority_id == home_id]) == Counter(
        [(SUBMITTED, None, None), ("arrears_days", "none", None)]
    )
    assert as_facts([f for f in facts if f.authority_id == other_id]) == Counter(
        [(SUBMITTED, None, None), ("staff_fte", None, 3.0)]
    )
    async with services.db.session() as session:
        mine = await readiness_summary(session, authority_id=home_id, definition=definition)
        theirs = await readiness_summary(session, authority_id=other_id, definition=definition)
    assert mine.organisations == theirs.organisations == Count(1)
    assert mine.question("staff_fte").spread is None
    spread = theirs.question("staff_fte").spread
    assert spread is not None and spread.median == 3.0

    # Should the home council's answers ever be removed, refreshing removes their facts.
    async with services.db.session() as session:
        await session.execute(
            sa.delete(FormResponse).where(
                FormResponse.organisation_id == org_id, FormResponse.authority_id == home_id
            )
        )
        await refresh_readiness_facts(session, organisation_id=org_id, authority_id=home_id)
    facts = await facts_of(services, org_id)
    assert {f.authority_id for f in facts} == {other_id}


async def test_two_submissions_at_once_leave_one_set_of_facts(
    services: Services, on_postgres: bool, definition: FormDefinition
) -> None:
    """PostgreSQL lets two transactions write at once. The second refresh waits for the
    first to commit, so it sees (and replaces) the first's facts instead of adding its
    own beside them; and the latest answers win."""
    if not on_postgres:
        pytest.skip("SQLite lets one transaction write at a time")
    t0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    async with services.db.session() as session:
        home = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert home is not None and org is not None
        org_id, home_id = org.id, home.id

    async def submit(session: Any, answers: dict[str, Any], minutes: int) -> int:
        response = FormResponse(
            form_key="readiness",
            form_version=definition.version,
            organisation_id=org_id,
            authority_id=home_id,
            state=ResponseState.SUBMITTED,
            answers=answers,
            submitted_at=t0 + timedelta(minutes=minutes),
        )
        session.add(response)
        await session.flush()
        await refresh_readiness_facts(
            session, organisation_id=org_id, authority_id=home_id, definition=definition
        )
        return response.id

    async with services.db.sessions() as first, services.db.sessions() as second:
        await submit(first, {"arrears_days": "none"}, 0)

        async def later() -> int:
            response_id = await submit(second, {"arrears_days": "over_90"}, 1)
            await second.commit()
            return response_id

        racing = asyncio.create_task(later())
        await asyncio.sleep(0.3)
        assert not racing.done(), "the second refresh did not wait for the first"
        await first.commit()
        latest_id = await asyncio.wait_for(racing, 10)
    facts = await facts_of(services, org_id)
    assert {f.response_id for f in facts} == {latest_id}
    assert as_facts(facts) == Counter([(SUBMITTED, None, None), ("arrears_days", "over_90", None)])


def test_what_counts_as_an_answer(definition: FormDefinition) -> None:
    facts = answer_facts(
        {
            "annual_cost": 4_500_050,  # pence: a whole number
            "overhead_rate": 12.5,
            "reserves_months": True,  # true is not a number
            "staff_fte": "12",  # nor is text
            "volunteers": None,
            "arrears_days": "61_90",
            "payment_terms": "weekly_arrears",  # no longer offered: still counted
            "inflation": 3,  # a number is not an option
            "safeguarding_policy": False,
            "exposure": ["tupe", "tupe", 7, "property"],  # each option once; not a string: no
            "insurance": [],  # nothing chosen: not answered
            "working_with_others": [1],  # a list with something in it: answered, no option
            "main_risks": "",  # blank: not answered
            "social_value": "Local jobs.",
            "areas_covered": ["North Ward"],  # a list of words is neither text nor places
            "not_a_question": "ignored",
        },
        definition,
    )
    assert Counter(facts) == Counter(
        [
            (SUBMITTED, None, None),
            ("annual_cost", None, 4_500_050.0),
            ("overhead_rate", None, 12.5),
            ("arrears_days", "61_90", None),
            ("payment_terms", "weekly_arrears", None),
            ("safeguarding_policy", "no", None),
            ("exposure", None, None),
            ("exposure", "tupe", None),
            ("exposure", "property", None),
            ("working_with_others", None, None),
            ("social_value", None, None),
        ]
    )
    # Nothing answered still counts the organisation.
    assert answer_facts({}, definition) == [(SUBMITTED, None, None)]
    # Places: answered, and each place once, by its code (what the area filter reads).
    preston, lancashire = codes("Preston", "Lancashire")
    assert answer_facts({"areas_covered": [preston, lancashire, preston]}, definition) == [
        (SUBMITTED, None, None),
        ("areas_covered", None, None),
        ("areas_covered", preston, None),
        ("areas_covered", lancashire, None),
    ]


async def test_facts_from_a_generated_population_give_the_python_summary(
    services: Services, definition: FormDefinition
) -> None:
    """rebuild_readiness_facts (bulk loading) and answer_facts agree with counting the
    answers themselves in Python."""
    from bench.readiness_summary import insert_population

    population = generate_population(80, seed=11, definition=definition, prefix="facts")
    async with services.db.session() as session:
        home = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert home is not None
        other = Authority(name="Eastshire Council", slug="eastshire")
        session.add(other)
        await session.flush()
        authorities = {HOME: home.id, OTHER: other.id}
        await insert_population(session, population, authorities=authorities, definition=definition)
    async with services.db.session() as session:
        for name, authority_id in authorities.items():
            summary = await readiness_summary(
                session, authority_id=authority_id, definition=definition
            )
            expected = summarise_in_python(latest_answers(population, authority=name), definition)
            assert summary == expected
        # Rebuilding twice gives the same facts, not twice as many.
        count = await rebuild_readiness_facts(session, definitions=[definition])
        assert count == await session.scalar(select(sa.func.count()).select_from(ReadinessAnswer))
        assert count == await rebuild_readiness_facts(session, definitions=[definition])


# --------------------------------------------------------------------------
# Migration 0005 fills the table from the answers already given
# --------------------------------------------------------------------------

_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# The tables as they are at revision 0004, whatever the models say later.
AUTHORITIES = sa.table(
    "authorities",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("slug", sa.String),
    sa.column("created_at", UTCDateTime()),
)
ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("slug", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
FORM_DEFINITIONS = sa.table(
    "form_definitions",
    sa.column("key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("title", sa.String),
    sa.column("definition", _json),
    sa.column("checksum", sa.String),
    sa.column("source", sa.String),
    sa.column("created_at", UTCDateTime()),
)
FORM_RESPONSES = sa.table(
    "form_responses",
    sa.column("form_key", sa.String),
    sa.column("form_version", sa.Integer),
    sa.column("organisation_id", sa.Integer),
    sa.column("authority_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("answers", _json),
    sa.column("current_page", sa.Integer),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("submitted_at", UTCDateTime()),
)


async def all_facts(database: Database) -> Counter[tuple[Any, ...]]:
    async with database.session() as session:
        rows = (
            await session.execute(
                select(
                    ReadinessAnswer.organisation_id,
                    ReadinessAnswer.authority_id,
                    ReadinessAnswer.response_id,
                    ReadinessAnswer.question,
                    ReadinessAnswer.choice,
                    ReadinessAnswer.number,
                )
            )
        ).all()
    return Counter(tuple(r) for r in rows)


def _as_typed_before_0012(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as saved before places were codes: the places typed, by name."""
    places = answers.get("areas_covered")
    if not isinstance(places, list):
        return answers
    return {**answers, "areas_covered": ", ".join(typed_label(code) for code in places)}


async def test_the_migration_fills_the_facts_from_the_latest_answers(
    empty_db: Database, definition: FormDefinition
) -> None:
    await run_alembic(empty_db, "upgrade", "0004")
    population = generate_population(120, seed=5, definition=definition, prefix="mig")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    async with empty_db.engine.begin() as conn:
        await conn.execute(
            sa.insert(FORM_DEFINITIONS),
            {
                "key": definition.key,
                "version": definition.version,
                "title": definition.title,
                "definition": definition.model_dump(mode="json"),
                "checksum": definition_checksum(definition),
                "source": "shipped",
                "created_at": now,
            },
        )
        authorities: dict[str, int] = {}
        for name in (HOME, OTHER):
            authorities[name] = (
                await conn.execute(
                    sa.insert(AUTHORITIES).returning(AUTHORITIES.c.id),
                    {"name": name, "slug": name, "created_at": now},
                )
            ).scalar_one()
        for org in population:
            org.id = (
                await conn.execute(
                    sa.insert(ORGANISATIONS).returning(ORGANISATIONS.c.id),
                    {"name": org.name, "slug": org.slug, "created_at": now, "updated_at": now},
                )
            ).scalar_one()
        responses = [
            {
                "form_key": definition.key,
                "form_version": definition.version,
                "organisation_id": org.id,
                "authority_id": authorities[r.authority],
                "state": r.state,
                "answers": _as_typed_before_0012(r.answers),
                "current_page": 0,
                "created_at": r.submitted_at or START,
                "updated_at": r.submitted_at or START,
                "submitted_at": r.submitted_at,
            }
            for org in population
            for r in org.responses
        ]
        await conn.execute(sa.insert(FORM_RESPONSES), responses)

    await run_alembic(empty_db, "upgrade", "0005")
    migrated = await all_facts(empty_db)
    assert migrated, "the migration wrote no facts"
    # Later migrations keep them (on SQLite, rebuilding form_responses must not delete
    # them); 0012 adds one for each place the latest answers cover, and nothing else.
    await upgrade_to_head(empty_db.engine)
    at_head = await all_facts(empty_db)
    added = at_head - migrated
    assert migrated - at_head == Counter()
    assert added and all(q == "areas_covered" and c is not None for *_, q, c, _ in added)
    # Exactly the facts the app itself works out from the same answers.
    async with empty_db.session() as session:
        await rebuild_readiness_facts(session)
    assert await all_facts(empty_db) == at_head
    # And so the summary counts what Python counts from the answers themselves.
    async with empty_db.session() as session:
        for name, authority_id in authorities.items():
            summary = await readiness_summary(
                session, authority_id=authority_id, definition=definition
            )
            expected = summarise_in_python(latest_answers(population, authority=name), definition)
            assert summary == expected
