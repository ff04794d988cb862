"""dashboard: indexes for check-ins due and latest ratings.

The commissioner's dashboard counts each agreement's unanswered check-ins by due date and
reads each agreement's latest answered check-in (its red, amber or green). Without these
indexes both read every check-in of every agreement in the council (five years of weekly
check-ins: tens of thousands of rows); with them, a few rows per agreement.

- `ix_monitoring_checkins_unanswered` (agreement_id, answered_at, due_on): the unanswered
  ones (answered_at IS NULL) of one agreement, in order of due date.
- `ix_monitoring_checkins_latest` (agreement_id, due_on, id): one agreement's check-ins
  newest first, so the latest is the first row read.

Only indexes are added: no row changes, and going down drops them again.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 00:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_monitoring_checkins_unanswered",
        "monitoring_checkins",
        ["agreement_id", "answered_at", "due_on"],
    )
    op.create_index(
        "ix_monitoring_checkins_latest",
        "monitoring_checkins",
        ["agreement_id", "due_on", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_checkins_latest", table_name="monitoring_checkins")
    op.drop_index("ix_monitoring_checkins_unanswered", table_name="monitoring_checkins")
