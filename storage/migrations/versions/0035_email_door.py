"""the email door: addresses, choices and unsubscribes (reserved for the email slice).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-08 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
