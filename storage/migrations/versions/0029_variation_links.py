"""variation follow-ups: linked variations (s.75(4)) and current values.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
