"""Opportunity routes and checklists: the route chosen from the guided questions (with the
answers), each checklist step the team recorded as done, and money columns wide enough for
big contracts.

- `opportunity_routes`: one row per opportunity with a route chosen.
- `opportunity_checklist_steps`: one row per opportunity and step done.
- `opportunities.value_min_pence/value_max_pence` and the same on `opportunity_lots` become
  64-bit on PostgreSQL: £30m is 3,000,000,000p, more than a 32-bit integer holds. SQLite's
  INTEGER is 64-bit already, so nothing changes there (and no table is rebuilt).
- `opportunities.route` held the setup form's own route words before the guided questions
  existed. Each becomes the route key it names (`contract` -> `standard_contract`, ...);
  the two that name no one route (`reserved_contract`, `not_decided`) become empty, and the
  team is asked the route questions before publishing.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = (
    ("opportunities", "value_min_pence"),
    ("opportunities", "value_max_pence"),
    ("opportunity_lots", "value_min_pence"),
    ("opportunity_lots", "value_max_pence"),
)

#: The setup form's old route words, and the route key each names (None: no one route).
OLD_ROUTES: dict[str, str | None] = {
    "grant": "grant",
    "contract": "standard_contract",
    "light_touch_contract": "light_touch",
    "below_threshold_contract": "below_threshold",
    "direct_award": "direct_award",
    "reserved_contract": None,
    "innovation_partnership": "innovation_partnership",
    "framework": "framework_call_off",
    "grant_then_contract": "grant_then_contract",
    "participatory_grants": "participatory_grants",
    "not_decided": None,
}


def upgrade() -> None:
    op.create_table(
        "opportunity_routes",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("chosen_by", sa.Integer(), nullable=True),
        sa.Column("chosen_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by"],
            ["people.id"],
            name=op.f("fk_opportunity_routes_chosen_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_routes_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("opportunity_id", name=op.f("pk_opportunity_routes")),
    )
    op.create_table(
        "opportunity_checklist_steps",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=60), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.String(length=120), nullable=True),
        sa.Column("awarded_organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["awarded_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunity_checklist_steps_awarded_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["people.id"],
            name=op.f("fk_opportunity_checklist_steps_done_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_checklist_steps_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "opportunity_id", "step", name=op.f("pk_opportunity_checklist_steps")
        ),
    )
    op.create_index(
        op.f("ix_opportunity_checklist_steps_awarded_organisation_id"),
        "opportunity_checklist_steps",
        ["awarded_organisation_id"],
        unique=False,
    )
    if op.get_bind().dialect.name != "sqlite":
        for table, column in MONEY_COLUMNS:
            op.alter_column(
                table,
                column,
                existing_type=sa.Integer(),
                type_=sa.BigInteger(),
                existing_nullable=True,
            )
    opportunities = sa.table("opportunities", sa.column("route", sa.String(40)))
    for old, new in OLD_ROUTES.items():
        if old != new:
            op.execute(opportunities.update().where(opportunities.c.route == old).values(route=new))


def downgrade() -> None:
    opportunities = sa.table("opportunities", sa.column("route", sa.String(40)))
    for old, new in OLD_ROUTES.items():
        if new is not None and old != new:
            op.execute(opportunities.update().where(opportunities.c.route == new).values(route=old))
    # Routes only the guided questions give have no old word: they are left empty.
    op.execute(
        opportunities.update()
        .where(opportunities.c.route.notin_(list(OLD_ROUTES)))
        .values(route=None)
    )
    if op.get_bind().dialect.name != "sqlite":
        # A value too big for 32 bits cannot go back: the downgrade fails rather than lose it.
        for table, column in MONEY_COLUMNS:
            op.alter_column(
                table,
                column,
                existing_type=sa.BigInteger(),
                type_=sa.Integer(),
                existing_nullable=True,
            )
    op.drop_index(
        op.f("ix_opportunity_checklist_steps_awarded_organisation_id"),
        table_name="opportunity_checklist_steps",
    )
    op.drop_table("opportunity_checklist_steps")
    op.drop_table("opportunity_routes")
