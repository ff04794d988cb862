"""Readiness facts: typed answers from each organisation's latest readiness submission.

The commissioners' summary counts these plain columns instead of reading every answer
out of `form_responses.answers` (JSON) each time. The table is filled here from the
latest submitted readiness answers per organisation and authority; from then on the
app keeps it up to date on each submission (`storage.readiness`).

The backfill is deliberately self-contained (its own copy of the rules, and plain
tables rather than the app's models), so this migration means the same thing however
the app changes later. tests/integration/test_readiness_facts.py checks that it gives
exactly the facts the app's own `answer_facts` gives.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FORM_KEY = "readiness"
SUBMITTED = "*"
BATCH = 1_000

_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
form_definitions = sa.table(
    "form_definitions",
    sa.column("key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("definition", _json),
)
form_responses = sa.table(
    "form_responses",
    sa.column("id", sa.Integer),
    sa.column("form_key", sa.String),
    sa.column("form_version", sa.Integer),
    sa.column("organisation_id", sa.Integer),
    sa.column("authority_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("answers", _json),
    sa.column("submitted_at", sa.DateTime),
)
readiness_answers = sa.table(
    "readiness_answers",
    sa.column("organisation_id", sa.Integer),
    sa.column("authority_id", sa.Integer),
    sa.column("response_id", sa.Integer),
    sa.column("question", sa.String),
    sa.column("choice", sa.Text),
    sa.column("number", sa.Double),
)


def upgrade() -> None:
    op.create_table(
        "readiness_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.Text(), nullable=True),
        sa.Column("number", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_readiness_answers_authority_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_readiness_answers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_answers")),
    )
    with op.batch_alter_table("readiness_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_readiness_answers_counts", ["authority_id", "question", "choice"], unique=False
        )
        batch_op.create_index(
            "ix_readiness_answers_numbers", ["authority_id", "question", "number"], unique=False
        )
        batch_op.create_index(
            "ix_readiness_answers_organisation", ["organisation_id", "authority_id"], unique=False
        )
    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("readiness_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_readiness_answers_organisation")
        batch_op.drop_index("ix_readiness_answers_numbers")
        batch_op.drop_index("ix_readiness_answers_counts")
    op.drop_table("readiness_answers")


# --------------------------------------------------------------------------
# The backfill
# --------------------------------------------------------------------------

Fact = tuple[str, str | None, float | None]


def _field_types(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field id, field type) for every question of a stored definition, in order."""
    return [
        (str(field["id"]), str(field["type"]))
        for page in definition.get("pages") or []
        for field in page.get("fields") or []
    ]


def _facts(answers: Mapping[str, Any], fields: Sequence[tuple[str, str]]) -> list[Fact]:
    """The same rules as `storage.readiness.answer_facts`, as they were at this revision."""
    facts: list[Fact] = [(SUBMITTED, None, None)]
    for field_id, field_type in fields:
        value = answers.get(field_id)
        if field_type == "yes_no":
            if isinstance(value, bool):
                facts.append((field_id, "yes" if value else "no", None))
        elif field_type == "scale":
            if isinstance(value, int) and not isinstance(value, bool):
                facts.append((field_id, str(value), None))
        elif field_type == "single_choice":
            if isinstance(value, str):
                facts.append((field_id, value, None))
        elif field_type in ("money", "whole_number", "percentage"):
            if isinstance(value, int | float) and not isinstance(value, bool):
                try:
                    number = float(value)
                except OverflowError:
                    continue
                if math.isfinite(number):
                    facts.append((field_id, None, number))
        elif field_type == "multiple_choice":
            if isinstance(value, list) and value:
                facts.append((field_id, None, None))
                chosen = dict.fromkeys(v for v in value if isinstance(v, str))
                facts.extend((field_id, v, None) for v in chosen)
        elif isinstance(value, str) and value != "":
            facts.append((field_id, None, None))
    return facts


def _latest(connection: sa.engine.Connection) -> list[tuple[Any, ...]]:
    """Each organisation's latest submitted readiness answers per authority."""
    r = form_responses.c
    ranked = (
        sa.select(
            r.id,
            r.form_version,
            r.organisation_id,
            r.authority_id,
            r.answers,
            sa.func.row_number()
            .over(
                partition_by=(r.organisation_id, r.authority_id),
                order_by=(r.submitted_at.desc().nulls_last(), r.id.desc()),
            )
            .label("rn"),
        )
        .where(
            r.form_key == FORM_KEY,
            r.state == "submitted",
            r.organisation_id.is_not(None),
            r.authority_id.is_not(None),
        )
        .subquery()
    )
    query = sa.select(
        ranked.c.id,
        ranked.c.form_version,
        ranked.c.organisation_id,
        ranked.c.authority_id,
        ranked.c.answers,
    ).where(ranked.c.rn == 1)
    return [tuple(row) for row in connection.execute(query)]


def _backfill(connection: sa.engine.Connection) -> None:
    stored = connection.execute(
        sa.select(form_definitions.c.version, form_definitions.c.definition)
        .where(form_definitions.c.key == FORM_KEY)
        .order_by(form_definitions.c.version)
    ).all()
    definitions = {version: _field_types(definition or {}) for version, definition in stored}
    if not definitions:
        return  # no readiness form yet, so no readiness answers to type
    newest = definitions[max(definitions)]
    rows: list[dict[str, Any]] = []
    for response_id, version, organisation_id, authority_id, answers in _latest(connection):
        fields = definitions.get(version, newest)
        for question, choice, number in _facts(answers or {}, fields):
            rows.append(
                {
                    "organisation_id": organisation_id,
                    "authority_id": authority_id,
                    "response_id": response_id,
                    "question": question,
                    "choice": choice,
                    "number": number,
                }
            )
        if len(rows) >= BATCH:
            connection.execute(sa.insert(readiness_answers), rows)
            rows = []
    if rows:
        connection.execute(sa.insert(readiness_answers), rows)
