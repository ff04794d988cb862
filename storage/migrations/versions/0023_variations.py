"""variations: changes to an agreement, asked for, answered, decided and noticed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "agreement_variations"


def _person(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["people.id"],
        name=op.f(f"fk_{_TABLE}_{column}_people"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_for_organisation_id", sa.Integer(), nullable=True),
        sa.Column("what_changes", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column(
            "value_change_pence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("term_change_days", sa.Integer(), nullable=False),
        sa.Column("new_ends_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("other_side_agreed", sa.Boolean(), nullable=True),
        sa.Column("response_reason", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.Column("responded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("change_notice_required", sa.Boolean(), nullable=False),
        sa.Column("change_notice_id", sa.String(length=100), nullable=True),
        sa.Column("change_notice_recorded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("change_notice_recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f(f"fk_{_TABLE}_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_for_organisation_id"],
            ["organisations.id"],
            name=op.f(f"fk_{_TABLE}_requested_for_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        _person("requested_by"),
        _person("responded_by"),
        _person("decided_by"),
        _person("change_notice_recorded_by"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
    )
    op.create_index(op.f(f"ix_{_TABLE}_agreement_id"), _TABLE, ["agreement_id"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{_TABLE}_agreement_id"), table_name=_TABLE)
    op.drop_table(_TABLE)
