"""commissioners' weekly digest day (reserved for the dashboard slice).

One row per commissioner who chose: the weekday their digest goes (0 is Monday), or no
weekday when they turned it off. Nobody has a row yet, so everyone starts on Monday.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-08 00:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commissioner_digest_days",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_commissioner_digest_days_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_commissioner_digest_days")),
    )


def downgrade() -> None:
    op.drop_table("commissioner_digest_days")
