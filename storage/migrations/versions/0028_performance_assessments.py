"""contract performance assessments (s.71).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
