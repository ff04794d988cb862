"""Opportunity digests: one row per person per weekly digest (the claim that keeps a second
run in the same week from sending it again), and each opportunity told in one.

Only new tables: nothing that exists changes, so a populated database keeps every row.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opportunity_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_opportunity_digests_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_digests")),
        sa.UniqueConstraint("outbox_key", name=op.f("uq_opportunity_digests_outbox_key")),
        sa.UniqueConstraint("person_id", "week_of", name=op.f("uq_opportunity_digests_person_id")),
    )
    op.create_table(
        "opportunity_digest_items",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_digest_items_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunity_digest_items_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_opportunity_digest_items_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "opportunity_id", name=op.f("pk_opportunity_digest_items")
        ),
    )
    op.create_index(
        op.f("ix_opportunity_digest_items_opportunity_id"),
        "opportunity_digest_items",
        ["opportunity_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_opportunity_digest_items_outbox_key"),
        "opportunity_digest_items",
        ["outbox_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_opportunity_digest_items_outbox_key"), table_name="opportunity_digest_items"
    )
    op.drop_index(
        op.f("ix_opportunity_digest_items_opportunity_id"), table_name="opportunity_digest_items"
    )
    op.drop_table("opportunity_digest_items")
    op.drop_table("opportunity_digests")
