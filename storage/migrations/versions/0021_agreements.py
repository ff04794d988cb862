"""agreements: the agreements register, each agreement's parties and its KPIs.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("light_touch", sa.Boolean(), nullable=False),
        sa.Column("below_threshold", sa.Boolean(), nullable=False),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.Column("framework_call_off", sa.Boolean(), nullable=False),
        sa.Column("grant_funded", sa.Boolean(), nullable=False),
        sa.Column(
            "value_pence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("vat_basis", sa.String(length=16), nullable=False),
        sa.Column("area_served", _json(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("extension_options", sa.Text(), nullable=True),
        sa.Column("break_clauses", _json(), nullable=False),
        sa.Column("review_points", sa.Text(), nullable=True),
        sa.Column("price_uplifts", sa.Text(), nullable=True),
        sa.Column("payment_schedule", sa.Text(), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("council_people", sa.Text(), nullable=True),
        sa.Column("provider_contacts", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_agreements_authority_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_agreements_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_agreements_opportunity_id_opportunities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index(op.f("ix_agreements_authority_id"), "agreements", ["authority_id"])
    op.create_index(op.f("ix_agreements_opportunity_id"), "agreements", ["opportunity_id"])
    op.create_table(
        "agreement_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("share_percent", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_parties_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_parties_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_parties")),
        sa.UniqueConstraint(
            "agreement_id", "organisation_id", name=op.f("uq_agreement_parties_agreement_id")
        ),
    )
    op.create_index(
        op.f("ix_agreement_parties_agreement_id"), "agreement_parties", ["agreement_id"]
    )
    op.create_index(
        op.f("ix_agreement_parties_organisation_id"), "agreement_parties", ["organisation_id"]
    )
    op.create_table(
        "agreement_kpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_kpis_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_kpis")),
    )
    op.create_index(op.f("ix_agreement_kpis_agreement_id"), "agreement_kpis", ["agreement_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agreement_kpis_agreement_id"), table_name="agreement_kpis")
    op.drop_table("agreement_kpis")
    op.drop_index(op.f("ix_agreement_parties_organisation_id"), table_name="agreement_parties")
    op.drop_index(op.f("ix_agreement_parties_agreement_id"), table_name="agreement_parties")
    op.drop_table("agreement_parties")
    op.drop_index(op.f("ix_agreements_opportunity_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_authority_id"), table_name="agreements")
    op.drop_table("agreements")
