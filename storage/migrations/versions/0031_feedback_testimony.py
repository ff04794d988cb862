"""feedback testimony: photos and voice notes given with feedback, with consent for each use.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
