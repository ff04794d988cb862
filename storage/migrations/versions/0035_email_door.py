"""the email door: addresses, choices and unsubscribes (reserved for the email slice).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-08 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The door choice itself is `people.preferred_door` ("email" is a new value of a plain
    # string column). Turning email off is kept apart, so choosing another door and back
    # never forgets an unsubscribe.
    op.create_table(
        "email_unsubscribes",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("unsubscribed_at", storage.types.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_unsubscribes")
    # People who chose email go back to the default door (chat, else the web inbox).
    op.execute("UPDATE people SET preferred_door = NULL WHERE preferred_door = 'email'")
