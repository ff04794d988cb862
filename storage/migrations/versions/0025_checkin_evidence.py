"""uploads: files sent as evidence (reports, photos, voice notes) with consent flags.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled in by the slice that owns this revision."""


def downgrade() -> None:
    """Filled in by the slice that owns this revision."""
