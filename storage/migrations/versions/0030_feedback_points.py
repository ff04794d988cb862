"""feedback points: feedback and testimony from people who use services, with no account.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "feedback_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=24), nullable=False),
        sa.Column("service_name", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("question_keys", _json(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("engagement_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("authority_id", sa.Integer(), nullable=True),
        sa.Column("safeguarding_lead_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["authority_id"], ["authorities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["safeguarding_lead_id"], ["people.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    for column in ("agreement_id", "engagement_id", "organisation_id", "authority_id"):
        op.create_index(
            op.f(f"ix_feedback_points_{column}"), "feedback_points", [column], unique=False
        )
    op.create_table(
        "feedback_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("answers", _json(), nullable=False),
        sa.Column("comments", _json(), nullable=False),
        sa.Column("with_help", sa.Boolean(), nullable=False),
        sa.Column("safeguarding", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("hidden_by", sa.Integer(), nullable=True),
        sa.Column("hidden_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["point_id"], ["feedback_points.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["hidden_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_feedback_entries_point_id"), "feedback_entries", ["point_id"], unique=False
    )
    op.create_table(
        "feedback_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_by", sa.Integer(), nullable=True),
        sa.Column("posted_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["feedback_points.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["posted_by"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_feedback_posts_point_id"), "feedback_posts", ["point_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_posts_point_id"), table_name="feedback_posts")
    op.drop_table("feedback_posts")
    op.drop_index(op.f("ix_feedback_entries_point_id"), table_name="feedback_entries")
    op.drop_table("feedback_entries")
    for column in ("authority_id", "organisation_id", "engagement_id", "agreement_id"):
        op.drop_index(op.f(f"ix_feedback_points_{column}"), table_name="feedback_points")
    op.drop_table("feedback_points")
