"""Partners and consortia (issue 14: "find partners").

- `organisations.is_infrastructure`: a local infrastructure organisation (a CVS), which may
  broker introductions in the places it serves. False for every existing organisation.
- `partner_posts`: one "looking for partners" post per organisation per opportunity.
- `partner_introductions`: one row per pair of organisations on an opportunity, with each
  side's yes or no; names are shared only when both said yes.
- `consortia` and `consortium_members`: the consortium introduced providers record, each
  member confirming its own part.

New tables and one new column with a default: nothing that exists changes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _drop_indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch "move and copy" (see 0010): on SQLite a rebuilt
    # `organisations` table would take every row that cascades from it when the old one is
    # dropped with foreign keys on.
    op.add_column(
        "organisations",
        sa.Column("is_infrastructure", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "partner_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("posted_by", sa.Integer(), nullable=True),
        sa.Column("brings", sa.Text(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column(
            "area_served",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lot_number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        _when("created_at", False),
        _when("updated_at", False),
        _when("taken_down_at", True),
        _fk("partner_posts", "opportunity_id", "opportunities", "CASCADE"),
        _fk("partner_posts", "organisation_id", "organisations", "CASCADE"),
        _fk("partner_posts", "posted_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_posts")),
        sa.UniqueConstraint(
            "opportunity_id", "organisation_id", name=op.f("uq_partner_posts_opportunity_id")
        ),
    )
    _indexes("partner_posts", "opportunity_id", "organisation_id")
    op.create_table(
        "partner_introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("first_organisation_id", sa.Integer(), nullable=False),
        sa.Column("second_organisation_id", sa.Integer(), nullable=False),
        sa.Column("first_answer", sa.String(length=8), nullable=True),
        sa.Column("second_answer", sa.String(length=8), nullable=True),
        sa.Column("asked_by_organisation_id", sa.Integer(), nullable=True),
        sa.Column("brokered_by_organisation_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        _when("created_at", False),
        _when("decided_at", True),
        sa.CheckConstraint(
            "first_organisation_id < second_organisation_id",
            name=op.f("ck_partner_introductions_pair_in_order"),
        ),
        _fk("partner_introductions", "opportunity_id", "opportunities", "CASCADE"),
        _fk("partner_introductions", "first_organisation_id", "organisations", "CASCADE"),
        _fk("partner_introductions", "second_organisation_id", "organisations", "CASCADE"),
        _fk("partner_introductions", "asked_by_organisation_id", "organisations", "SET NULL"),
        _fk("partner_introductions", "brokered_by_organisation_id", "organisations", "SET NULL"),
        _fk("partner_introductions", "requested_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_introductions")),
        sa.UniqueConstraint(
            "opportunity_id",
            "first_organisation_id",
            "second_organisation_id",
            name=op.f("uq_partner_introductions_opportunity_id"),
        ),
    )
    _indexes(
        "partner_introductions", "opportunity_id", "first_organisation_id", "second_organisation_id"
    )
    op.create_table(
        "consortia",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("lead_organisation_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _when("created_at", False),
        _when("confirmed_at", True),
        _fk("consortia", "opportunity_id", "opportunities", "CASCADE"),
        _fk("consortia", "lead_organisation_id", "organisations", "SET NULL"),
        _fk("consortia", "created_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consortia")),
    )
    _indexes("consortia", "opportunity_id")
    op.create_table(
        "consortium_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("share_percent", sa.Integer(), nullable=True),
        _when("invited_at", False),
        _when("confirmed_at", True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        _fk("consortium_members", "consortium_id", "consortia", "CASCADE"),
        _fk("consortium_members", "opportunity_id", "opportunities", "CASCADE"),
        _fk("consortium_members", "organisation_id", "organisations", "CASCADE"),
        _fk("consortium_members", "confirmed_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consortium_members")),
        sa.UniqueConstraint(
            "opportunity_id", "organisation_id", name=op.f("uq_consortium_members_opportunity_id")
        ),
    )
    _indexes("consortium_members", "consortium_id", "opportunity_id", "organisation_id")


def downgrade() -> None:
    _drop_indexes("consortium_members", "consortium_id", "opportunity_id", "organisation_id")
    op.drop_table("consortium_members")
    _drop_indexes("consortia", "opportunity_id")
    op.drop_table("consortia")
    _drop_indexes(
        "partner_introductions", "opportunity_id", "first_organisation_id", "second_organisation_id"
    )
    op.drop_table("partner_introductions")
    _drop_indexes("partner_posts", "opportunity_id", "organisation_id")
    op.drop_table("partner_posts")
    op.drop_column("organisations", "is_infrastructure")
