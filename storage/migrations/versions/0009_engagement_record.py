"""Engagement record corrections (issue 13).

- `engagements.procurement_reference`, `above_threshold`, `intended_route`: what a
  preliminary market engagement notice (UK2, Procurement Act 2023 s.17) needs.
- `clarifications.original_question`: the question as asked, kept when the team edits it
  to keep the asker anonymous (team and audit only).
- `meeting_requests.notes`, `outcome`, `notes_by`, `notes_at`: the team's record of a
  private conversation.
- `conflict_declarations`: each team member's conflict-of-interest declaration per
  engagement (ss.81-83).

Existing rows keep everything they had; every new column is empty until someone fills it.
Drafts still carrying the old default confidentiality promise ("stays between your
organisation and our commissioning team", untrue under the Freedom of Information Act)
get the honest default instead; published engagements keep the words providers were given.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The old default promise, and the honest one (as in handlers/engagements/setup.py then).
OLD_DEFAULT = (
    "What you tell us stays between your organisation and our commissioning team. We never "
    "share one provider's ideas, costs or answers with another. Questions asked in the open "
    "are answered for everyone, without saying who asked."
)
HONEST_DEFAULT = (
    "Who sees your answers: the council's commissioning team for this work. The council's "
    "internal auditors may check them too. Other providers never see your answers, ideas or "
    "costs. Questions asked in the open are answered for everyone, without saying who asked. "
    "The council will treat what you tell it as commercially confidential. If someone asks "
    "for it under the Freedom of Information Act 2000, the council will ask you first, "
    "before it shares anything (the Act lets it hold back secrets, in sections 41 and 43). "
    "The council has promised not to use these answers to score bids. Convene keeps a "
    "record of that promise, but it cannot make the council keep it."
)


def upgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("procurement_reference", sa.String(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("above_threshold", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("intended_route", sa.String(length=40), nullable=True))
    engagements = sa.table(
        "engagements",
        sa.column("confidentiality", sa.Text),
        sa.column("state", sa.String),
    )
    op.execute(
        engagements.update()
        .where(engagements.c.confidentiality == OLD_DEFAULT, engagements.c.state == "draft")
        .values(confidentiality=HONEST_DEFAULT)
    )
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_question", sa.Text(), nullable=True))
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("notes_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("notes_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_meeting_requests_notes_by_people"),
            "people",
            ["notes_by"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "conflict_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("has_conflict", sa.Boolean(), nullable=False),
        sa.Column("what", sa.Text(), nullable=True),
        sa.Column("how_managed", sa.Text(), nullable=True),
        sa.Column("declared_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_conflict_declarations_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_conflict_declarations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_declarations")),
        sa.UniqueConstraint(
            "engagement_id", "person_id", name=op.f("uq_conflict_declarations_engagement_id")
        ),
    )
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conflict_declarations_engagement_id"), ["engagement_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_declarations_engagement_id"))
    op.drop_table("conflict_declarations")
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_meeting_requests_notes_by_people"), type_="foreignkey"
        )
        batch_op.drop_column("notes_at")
        batch_op.drop_column("notes_by")
        batch_op.drop_column("outcome")
        batch_op.drop_column("notes")
    # Dropped in place, never by copying the table: on SQLite a copy drops the old table,
    # and with foreign keys on that deletes every row that points at it (questions, events,
    # invitations...).
    with op.batch_alter_table("clarifications", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("original_question")
    with op.batch_alter_table("engagements", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("intended_route")
        batch_op.drop_column("above_threshold")
        batch_op.drop_column("procurement_reference")
