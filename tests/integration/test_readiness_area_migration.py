"""Migration 0012 turns the readiness answers' free-text areas into ONS GSS codes, on
SQLite and PostgreSQL: what maps is converted (and the summary's area filter finds it at
once), what does not is reported with 0008's notes, and words nothing matched stay."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bench.readiness_summary import readiness_definition
from storage.areas import unconverted_areas
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.readiness import SUBMITTED, answer_facts, summary_rows
from tests.support.areas import code, codes
from tests.support.migrations import HEAD, current_revision, run_alembic, schema_diff

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

#: (response id, organisation, form, state, answers, has facts): as saved before 0012.
RESPONSES: list[tuple[int, int, str, str, dict[str, Any], bool]] = [
    (1, 1, "readiness", "submitted", {"areas_covered": "Preston, lancashire"}, True),
    (2, 2, "readiness", "submitted", {"areas_covered": "North Ward; Leeds"}, True),
    (3, 3, "readiness", "draft", {"areas_covered": "Narnia"}, False),
    (4, 1, "readiness", "submitted", {"areas_covered": "Leeds", "volunteers": 4}, False),
    (5, 2, "readiness", "submitted", {"volunteers": 3}, False),
    (6, 1, "checkin", "submitted", {"areas_covered": "Leeds"}, False),
]


async def _populate_at_0011(database: Database) -> None:
    """Readiness answers and their facts as Convene saved them while areas were text."""
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO authorities (id, name, slug, created_at) "
                "VALUES (1, 'Riverside Borough Council', 'riverside', :now)"
            ),
            {"now": NOW},
        )
        for org_id in (1, 2, 3):
            await connection.execute(
                text(
                    "INSERT INTO organisations (id, name, slug, created_at, updated_at) "
                    "VALUES (:id, :slug, :slug, :now, :now)"
                ),
                {"id": org_id, "slug": f"org-{org_id}", "now": NOW},
            )
        for response_id, org_id, form, state, answers, has_facts in RESPONSES:
            await connection.execute(
                text(
                    "INSERT INTO form_responses (id, form_key, form_version, organisation_id, "
                    "authority_id, state, answers, current_page, created_at, updated_at, "
                    "submitted_at) VALUES (:id, :form, 1, :org, 1, :state, :answers, 0, "
                    ":now, :now, :now)"
                ),
                {
                    "id": response_id,
                    "form": form,
                    "org": org_id,
                    "state": state,
                    "answers": json.dumps(answers),
                    "now": NOW,
                },
            )
            if has_facts:
                for question in (SUBMITTED, "areas_covered"):
                    await connection.execute(
                        text(
                            "INSERT INTO readiness_answers (organisation_id, authority_id, "
                            "response_id, question) VALUES (:org, 1, :id, :question)"
                        ),
                        {"org": org_id, "id": response_id, "question": question},
                    )


async def _answers(database: Database) -> dict[int, dict[str, Any]]:
    """Each response's answers; SQLite hands JSON back as text."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, answers FROM form_responses"))
        return {
            row_id: json.loads(value) if isinstance(value, str) else value for row_id, value in rows
        }


async def _facts(database: Database, response_id: int) -> Counter[tuple[str, str | None]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT question, choice FROM readiness_answers WHERE response_id = :id"),
            {"id": response_id},
        )
        return Counter((question, choice) for question, choice in rows)


async def _organisations_covering(database: Database, place: str) -> int:
    """How many organisations the summary counts when filtered to this place."""
    async with database.session() as session:
        rows = await summary_rows(
            session, authority_id=1, definition=readiness_definition(), area=code(place)
        )
    return sum(int(n) for part, question, _, n, *_ in rows if question == SUBMITTED)


async def test_an_empty_database_upgrades_with_nothing_to_report(
    empty_db: Database,
) -> None:
    await upgrade_to_head(empty_db.engine)
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []
    async with empty_db.session() as session:
        assert await unconverted_areas(session) == []


async def test_typed_areas_become_codes_and_the_rest_is_reported(
    empty_db: Database,
) -> None:
    await run_alembic(empty_db, "upgrade", "0011")
    await _populate_at_0011(empty_db)

    await run_alembic(empty_db, "upgrade", "0012")

    answers = await _answers(empty_db)
    assert answers[1] == {"areas_covered": codes("Preston", "Lancashire")}
    assert answers[2] == {"areas_covered": codes("Leeds")}  # North Ward is no place
    assert answers[3] == {"areas_covered": "Narnia"}  # nothing mapped: the words stay
    assert answers[4] == {"areas_covered": codes("Leeds"), "volunteers": 4}
    assert answers[5] == {"volunteers": 3}
    assert answers[6] == {"areas_covered": "Leeds"}  # another form: not ours to change
    async with empty_db.session() as session:
        notes = await unconverted_areas(session)
    assert [(n.table_name, n.row_id, n.original) for n in notes] == [
        ("form_responses", 2, "North Ward"),
        ("form_responses", 3, "Narnia"),
    ]
    assert all(n.reason for n in notes)

    # The latest answers' facts are what the app itself would now write for them.
    expected = Counter(
        (question, choice)
        for question, choice, _ in answer_facts(answers[1], readiness_definition())
    )
    assert await _facts(empty_db, 1) == expected
    assert await _facts(empty_db, 4) == Counter()  # not the latest: no facts before or after

    # So the summary's area filter finds them, a county covering its councils.
    assert await _organisations_covering(empty_db, "Preston") == 1
    assert await _organisations_covering(empty_db, "Chorley") == 1  # in Lancashire
    assert await _organisations_covering(empty_db, "Leeds") == 1
    assert await _organisations_covering(empty_db, "Bradford") == 0

    await run_alembic(empty_db, "upgrade", "head")
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert await connection.run_sync(schema_diff) == []


async def test_downgrading_turns_codes_back_into_words(empty_db: Database) -> None:
    await run_alembic(empty_db, "upgrade", "0011")
    await _populate_at_0011(empty_db)
    await run_alembic(empty_db, "upgrade", "0012")

    await run_alembic(empty_db, "downgrade", "0011")

    answers = await _answers(empty_db)
    assert answers[1] == {"areas_covered": "Preston, Lancashire"}
    assert answers[2] == {"areas_covered": "Leeds"}
    assert answers[3] == {"areas_covered": "Narnia"}
    assert await _facts(empty_db, 1) == Counter({(SUBMITTED, None): 1, ("areas_covered", None): 1})
    async with empty_db.session() as session:
        assert await unconverted_areas(session) == []
