"""contract performance assessments (s.71) and the ending of agreements (s.80).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASSESSMENTS = "performance_assessments"
_RATINGS = "performance_ratings"
_ENDINGS = "agreement_endings"


def _person(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["people.id"], name=op.f(f"fk_{table}_{column}_people"), ondelete="SET NULL"
    )


def _agreement(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["agreement_id"],
        ["agreements.id"],
        name=op.f(f"fk_{table}_agreement_id_agreements"),
        ondelete="CASCADE",
    )


def _notice_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("notice_required", sa.Boolean(), nullable=False),
        sa.Column("notice_due_on", sa.Date(), nullable=True),
        sa.Column("notice_id", sa.String(length=100), nullable=True),
        sa.Column("notice_recorded_by", sa.Integer(), nullable=True),
        sa.Column("notice_recorded_at", storage.types.UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        _ASSESSMENTS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("on_termination", sa.Boolean(), nullable=False),
        sa.Column("required_by_law", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("drafted_by", sa.Integer(), nullable=True),
        sa.Column("drafted_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("shared_by", sa.Integer(), nullable=True),
        sa.Column("shared_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("respond_by", sa.Date(), nullable=True),
        sa.Column("provider_response", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.Column("responded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        *_notice_columns(),
        _agreement(_ASSESSMENTS),
        *(
            _person(_ASSESSMENTS, c)
            for c in (
                "drafted_by",
                "shared_by",
                "responded_by",
                "decided_by",
                "notice_recorded_by",
            )
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_ASSESSMENTS}")),
    )
    op.create_index(op.f(f"ix_{_ASSESSMENTS}_agreement_id"), _ASSESSMENTS, ["agreement_id"])
    op.create_table(
        _RATINGS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kpi_name", sa.String(length=200), nullable=False),
        sa.Column("kpi_target", sa.Text(), nullable=True),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            [f"{_ASSESSMENTS}.id"],
            name=op.f(f"fk_{_RATINGS}_assessment_id_{_ASSESSMENTS}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"],
            ["agreement_kpis.id"],
            name=op.f(f"fk_{_RATINGS}_kpi_id_agreement_kpis"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_RATINGS}")),
    )
    op.create_index(op.f(f"ix_{_RATINGS}_assessment_id"), _RATINGS, ["assessment_id"])
    op.create_table(
        _ENDINGS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("planned_ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        *_notice_columns(),
        _agreement(_ENDINGS),
        _person(_ENDINGS, "recorded_by"),
        _person(_ENDINGS, "notice_recorded_by"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_ENDINGS}")),
        sa.UniqueConstraint("agreement_id", name=op.f(f"uq_{_ENDINGS}_agreement_id")),
    )


def downgrade() -> None:
    op.drop_table(_ENDINGS)
    op.drop_index(op.f(f"ix_{_RATINGS}_assessment_id"), table_name=_RATINGS)
    op.drop_table(_RATINGS)
    op.drop_index(op.f(f"ix_{_ASSESSMENTS}_agreement_id"), table_name=_ASSESSMENTS)
    op.drop_table(_ASSESSMENTS)
