"""feedback testimony: photos and voice notes given with feedback, with consent for each use.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_testimony",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("extension", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("service_may_see", sa.Boolean(), nullable=False),
        sa.Column("council_may_quote", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["feedback_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_feedback_testimony_entry_id"), "feedback_testimony", ["entry_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_testimony_entry_id"), table_name="feedback_testimony")
    op.drop_table("feedback_testimony")
