"""uploads: files sent as evidence (reports, photos, voice notes) with consent flags.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=160), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("service_may_see", sa.Boolean(), nullable=False),
        sa.Column("council_may_quote", sa.Boolean(), nullable=False),
        sa.Column("people_shown_agreed", sa.Boolean(), nullable=False),
        sa.Column("answers_checkin", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["checkin_id"], ["monitoring_checkins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_evidence_files_agreement_id"), "evidence_files", ["agreement_id"], unique=False
    )
    op.create_index(
        op.f("ix_evidence_files_checkin_id"), "evidence_files", ["checkin_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evidence_files_checkin_id"), table_name="evidence_files")
    op.drop_index(op.f("ix_evidence_files_agreement_id"), table_name="evidence_files")
    op.drop_table("evidence_files")
