"""Notification preferences: how often each person hears of new opportunities, and
their quiet hours. No rows are written: a person without one has the defaults
(immediately, 8am to 8pm).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.String(length=16), nullable=False),
        sa.Column("digest_weekday", sa.SmallInteger(), nullable=False),
        sa.Column("quiet_hours", sa.Boolean(), nullable=False),
        sa.Column("day_starts", sa.Time(), nullable=False),
        sa.Column("day_ends", sa.Time(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notification_preferences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
