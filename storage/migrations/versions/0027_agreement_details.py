"""agreement details: named people, signing, review and uplift dates, TUPE, payments, termination.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
