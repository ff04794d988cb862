"""Opportunity clarifications: one clarifications table for engagements and opportunities.

- `clarifications.engagement_id` may now be empty, and `clarifications.opportunity_id`
  (new) names an opportunity instead; a check constraint says each row is about exactly
  one of them. Every existing row is an engagement's and keeps everything it had.
- `clarifications.audience` (everyone, or only the asker's organisation) and
  `private_reason` (why an answer went to the asker alone). Existing rows went to
  everyone, so they get "everyone".
- `opportunities.engagement_id`: the pre-market engagement an opportunity came from
  (s.16: publishing it closes that engagement's private conversations). A plain indexed
  column, added and dropped in place (see the model for why it has no foreign key).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On SQLite this copies the clarifications table (nothing points at it, so nothing
    # else is touched); on PostgreSQL it alters it in place.
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opportunity_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("audience", sa.String(length=16), server_default="everyone", nullable=False)
        )
        batch_op.add_column(sa.Column("private_reason", sa.Text(), nullable=True))
        batch_op.alter_column("engagement_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_clarifications_opportunity_id_opportunities"),
            "opportunities",
            ["opportunity_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_clarifications_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_clarifications_one_subject"),
            "(engagement_id IS NULL) <> (opportunity_id IS NULL)",
        )
    # A plain column (see the model): added in place on both databases, never by copying
    # the table, which on SQLite would cascade into every lot, interest and announcement.
    op.add_column("opportunities", sa.Column("engagement_id", sa.Integer(), nullable=True))
    op.create_index(
        op.f("ix_opportunities_engagement_id"), "opportunities", ["engagement_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_opportunities_engagement_id"), table_name="opportunities")
    with op.batch_alter_table("opportunities", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("engagement_id")
    # An opportunity's questions have nowhere to go in the older schema.
    op.execute(sa.text("DELETE FROM clarifications WHERE opportunity_id IS NOT NULL"))
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_clarifications_one_subject"), type_="check")
        batch_op.drop_index(batch_op.f("ix_clarifications_opportunity_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_clarifications_opportunity_id_opportunities"), type_="foreignkey"
        )
        batch_op.alter_column("engagement_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("private_reason")
        batch_op.drop_column("audience")
        batch_op.drop_column("opportunity_id")
