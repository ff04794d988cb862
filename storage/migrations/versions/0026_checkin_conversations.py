"""check-in conversations: replies, call requests and indicator values.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """The thread, the calls, indicator values and opens; a plan's targets."""
    op.add_column("monitoring_plans", sa.Column("targets", sa.Text(), nullable=True))
    op.create_table(
        "checkin_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["monitoring_checkins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_checkin_messages_checkin_id"), "checkin_messages", ["checkin_id"], unique=False
    )
    op.create_table(
        "checkin_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("offered_by", sa.Integer(), nullable=True),
        sa.Column("offered_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("options", _json(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agreed_for", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["checkin_id"], ["monitoring_checkins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offered_by"], ["people.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_checkin_calls_checkin_id"), "checkin_calls", ["checkin_id"], unique=False
    )
    op.create_table(
        "indicator_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["monitoring_checkins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["outcome_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_indicator_values_checkin_id"), "indicator_values", ["checkin_id"], unique=False
    )
    op.create_index(
        op.f("ix_indicator_values_item_id"), "indicator_values", ["item_id"], unique=False
    )
    op.create_table(
        "indicator_opens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["outcome_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_indicator_opens_item_id"), "indicator_opens", ["item_id"], unique=False
    )


def downgrade() -> None:
    """Drops only what upgrade() added."""
    op.drop_index(op.f("ix_indicator_opens_item_id"), table_name="indicator_opens")
    op.drop_table("indicator_opens")
    op.drop_index(op.f("ix_indicator_values_item_id"), table_name="indicator_values")
    op.drop_index(op.f("ix_indicator_values_checkin_id"), table_name="indicator_values")
    op.drop_table("indicator_values")
    op.drop_index(op.f("ix_checkin_calls_checkin_id"), table_name="checkin_calls")
    op.drop_table("checkin_calls")
    op.drop_index(op.f("ix_checkin_messages_checkin_id"), table_name="checkin_messages")
    op.drop_table("checkin_messages")
    # A plain DROP COLUMN (SQLite 3.35 or later): a batch copy of the table would drop and
    # re-create it, and the check-ins' ON DELETE CASCADE would take every check-in with it.
    op.drop_column("monitoring_plans", "targets")
