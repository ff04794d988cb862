"""check-in conversations: replies, call requests and indicator values.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
