"""Opportunities (issue 14, first slice).

- `opportunities`: what a council offers to fund or buy, in seed 002's figure-ten words,
  from draft to open, closed or withdrawn; areas as ONS codes and CPV codes as JSON lists.
- `opportunity_lots`: the parts that can be bid for on their own, each with a value.
- `opportunity_interest`: one row per organisation that registered interest (or withdrew).
- `opportunity_amendments`: what changed after publishing, who changed it and when.
- `opportunity_announcements`: who was told what (published, amended, withdrawn), on which
  door, and the outbox message that carried it.

Only new tables: nothing that exists changes, so a populated database keeps every row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("needs_and_strengths", sa.Text(), nullable=True),
        sa.Column("funding_sources", sa.Text(), nullable=True),
        sa.Column("outcomes", sa.Text(), nullable=True),
        sa.Column("people_served", sa.Text(), nullable=True),
        sa.Column("standards_and_duties", sa.Text(), nullable=True),
        sa.Column(
            "service_areas",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "cpv_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "area_served",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("value_min_pence", sa.Integer(), nullable=True),
        sa.Column("value_max_pence", sa.Integer(), nullable=True),
        sa.Column("payment_model", sa.String(length=40), nullable=True),
        sa.Column("length_months", sa.Integer(), nullable=True),
        sa.Column("extensions", sa.Text(), nullable=True),
        sa.Column("tupe", sa.String(length=16), nullable=True),
        sa.Column("pensions", sa.Text(), nullable=True),
        sa.Column("assets", sa.Text(), nullable=True),
        sa.Column("timeline", sa.Text(), nullable=True),
        sa.Column("how_to_submit", sa.Text(), nullable=True),
        sa.Column("clarification_process", sa.Text(), nullable=True),
        sa.Column("assessment_criteria", sa.Text(), nullable=True),
        sa.Column("quality_weight", sa.Integer(), nullable=False),
        sa.Column("price_weight", sa.Integer(), nullable=False),
        sa.Column("social_value_weight", sa.Integer(), nullable=False),
        sa.Column("pass_fail_criteria", sa.Text(), nullable=True),
        sa.Column("contacts", sa.Text(), nullable=True),
        sa.Column(
            "submission_formats",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "notice_links",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("procurement_starts_on", sa.Date(), nullable=True),
        sa.Column("submission_deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "clarification_deadline", storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("partners_wanted", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_opportunities_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_opportunities_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    op.create_index(
        op.f("ix_opportunities_authority_id"), "opportunities", ["authority_id"], unique=False
    )
    op.create_index(
        "ix_opportunities_state", "opportunities", ["state", "authority_id"], unique=False
    )
    op.create_table(
        "opportunity_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("what_changed", sa.Text(), nullable=False),
        sa.Column("old_deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("new_deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("made_by", sa.Integer(), nullable=True),
        sa.Column("made_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["made_by"],
            ["people.id"],
            name=op.f("fk_opportunity_amendments_made_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_amendments_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_amendments")),
    )
    op.create_index(
        op.f("ix_opportunity_amendments_opportunity_id"),
        "opportunity_amendments",
        ["opportunity_id"],
        unique=False,
    )
    op.create_table(
        "opportunity_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_announcements_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunity_announcements_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_opportunity_announcements_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_announcements")),
        sa.UniqueConstraint("outbox_key", name=op.f("uq_opportunity_announcements_outbox_key")),
    )
    op.create_index(
        op.f("ix_opportunity_announcements_opportunity_id"),
        "opportunity_announcements",
        ["opportunity_id"],
        unique=False,
    )
    op.create_table(
        "opportunity_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_interest_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunity_interest_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_opportunity_interest_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_interest")),
        sa.UniqueConstraint(
            "opportunity_id", "organisation_id", name=op.f("uq_opportunity_interest_opportunity_id")
        ),
    )
    op.create_index(
        op.f("ix_opportunity_interest_opportunity_id"),
        "opportunity_interest",
        ["opportunity_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_opportunity_interest_organisation_id"),
        "opportunity_interest",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "opportunity_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("value_min_pence", sa.Integer(), nullable=True),
        sa.Column("value_max_pence", sa.Integer(), nullable=True),
        sa.Column(
            "area_served",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_lots_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_lots")),
        sa.UniqueConstraint(
            "opportunity_id", "number", name=op.f("uq_opportunity_lots_opportunity_id")
        ),
    )
    op.create_index(
        op.f("ix_opportunity_lots_opportunity_id"),
        "opportunity_lots",
        ["opportunity_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_opportunity_lots_opportunity_id"), table_name="opportunity_lots")
    op.drop_table("opportunity_lots")
    op.drop_index(
        op.f("ix_opportunity_interest_organisation_id"), table_name="opportunity_interest"
    )
    op.drop_index(op.f("ix_opportunity_interest_opportunity_id"), table_name="opportunity_interest")
    op.drop_table("opportunity_interest")
    op.drop_index(
        op.f("ix_opportunity_announcements_opportunity_id"), table_name="opportunity_announcements"
    )
    op.drop_table("opportunity_announcements")
    op.drop_index(
        op.f("ix_opportunity_amendments_opportunity_id"), table_name="opportunity_amendments"
    )
    op.drop_table("opportunity_amendments")
    op.drop_index("ix_opportunities_state", table_name="opportunities")
    op.drop_index(op.f("ix_opportunities_authority_id"), table_name="opportunities")
    op.drop_table("opportunities")
