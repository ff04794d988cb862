"""pipeline: planned opportunities, each publication of a council's pipeline, grants awarded.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pipeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("value_min_pence", sa.Integer(), nullable=True),
        sa.Column("value_max_pence", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("publication_on", sa.Date(), nullable=False),
        sa.Column("contract_start_on", sa.Date(), nullable=True),
        sa.Column(
            "area_served",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "cpv_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_pipeline_entries_authority_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_pipeline_entries_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_pipeline_entries_opportunity_id_opportunities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_entries")),
    )
    op.create_index(
        op.f("ix_pipeline_entries_authority_id"), "pipeline_entries", ["authority_id"], unique=False
    )
    op.create_table(
        "pipeline_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_pipeline_publications_authority_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["people.id"],
            name=op.f("fk_pipeline_publications_published_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_publications")),
    )
    op.create_index(
        op.f("ix_pipeline_publications_authority_id"),
        "pipeline_publications",
        ["authority_id"],
        unique=False,
    )
    op.create_table(
        "grant_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("awarded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["awarded_by"],
            ["people.id"],
            name=op.f("fk_grant_awards_awarded_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_grant_awards_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_grant_awards_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_awards")),
        sa.UniqueConstraint(
            "opportunity_id",
            "organisation_id",
            name=op.f("uq_grant_awards_opportunity_id"),
        ),
    )
    op.create_index(
        op.f("ix_grant_awards_opportunity_id"), "grant_awards", ["opportunity_id"], unique=False
    )
    op.create_index(
        op.f("ix_grant_awards_organisation_id"), "grant_awards", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_grant_awards_organisation_id"), table_name="grant_awards")
    op.drop_index(op.f("ix_grant_awards_opportunity_id"), table_name="grant_awards")
    op.drop_table("grant_awards")
    op.drop_index(op.f("ix_pipeline_publications_authority_id"), table_name="pipeline_publications")
    op.drop_table("pipeline_publications")
    op.drop_index(op.f("ix_pipeline_entries_authority_id"), table_name="pipeline_entries")
    op.drop_table("pipeline_entries")
