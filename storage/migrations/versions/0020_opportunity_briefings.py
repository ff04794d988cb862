"""A briefing event for providers on an opportunity: when, and where or how to join.
Two nullable columns; existing opportunities have none.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (not a batch rebuild): rebuilding opportunities on SQLite would drop
    # and copy the table, and its children's cascades would delete their rows.
    op.add_column(
        "opportunities", sa.Column("briefing_at", storage.types.UTCDateTime(), nullable=True)
    )
    op.add_column("opportunities", sa.Column("briefing_where", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("opportunities", "briefing_where")
    op.drop_column("opportunities", "briefing_at")
