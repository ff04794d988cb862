"""rate limits shared by every replica: one row per key with its GCRA arrival time.

Every replica books outbound messages against these rows on PostgreSQL
(storage/rate_limits.py). SQLite runs one process and keeps its limits in memory,
but gets the table too, so the schema is the same on both.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
