"""Server-side control of web sessions, demo people marked, workspaces that removed Convene.

- `people.session_generation`: every web session carries the generation it was made in;
  signing out, an admin removing the person, or forgetting them bumps it, which ends
  every session of theirs at once (a copied cookie stops working).
- `people.is_demo`: the people `--demo-if-empty` made up. The local sign-in page lists
  only these, never real people. Existing demo people (made-up `.example` addresses)
  are marked here.
- `workspace_links.removed_at`: when Slack told us the app was uninstalled or its tokens
  revoked; nothing more is sent to that workspace.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("is_demo", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    people = sa.table("people", sa.column("email", sa.String), sa.column("is_demo", sa.Boolean))
    op.execute(people.update().where(people.c.email.like("%.example")).values(is_demo=True))
    with op.batch_alter_table("workspace_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("removed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("workspace_links", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("is_demo")
        batch_op.drop_column("session_generation")
