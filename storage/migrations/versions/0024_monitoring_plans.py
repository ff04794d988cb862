"""monitoring plans: each agreement's agreed plan, its check-ins, and "away until" dates.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "monitoring_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=True),
        sa.Column("every_weeks", sa.Integer(), nullable=True),
        sa.Column("dates", _json(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("questions", _json(), nullable=False),
        sa.Column("rag", sa.Boolean(), nullable=False),
        sa.Column("timeline", sa.Text(), nullable=True),
        sa.Column("proposed_by_side", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("proposed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("accepted_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposed_by"], ["people.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["accepted_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id"),
    )
    op.create_table(
        "monitoring_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("questions", _json(), nullable=False),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answers", _json(), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("minutes_spent", sa.Integer(), nullable=True),
        sa.Column("team_told_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["monitoring_plans.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_monitoring_checkins_agreement_id"),
        "monitoring_checkins",
        ["agreement_id"],
        unique=False,
    )
    op.create_table(
        "monitoring_away",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_away")
    op.drop_index(op.f("ix_monitoring_checkins_agreement_id"), table_name="monitoring_checkins")
    op.drop_table("monitoring_checkins")
    op.drop_table("monitoring_plans")
