"""feedback points: an SMS-friendly short code (reserved for the feedback slice).

Every point gets a short code for its short link (`/s/<code>`): six letters from an
alphabet with no look-alikes, unique. Points made before this get one here. The letters
are written out below (not imported) so this revision stays as it was when written.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 00:15:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "346789ABCDEFGHJKMNPQRTWXY"
LENGTH = 6


def upgrade() -> None:
    # On SQLite this copies the feedback_points table; on PostgreSQL it alters it in place.
    with op.batch_alter_table("feedback_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_code", sa.String(length=LENGTH), nullable=True))
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM feedback_points"))]
    used: set[str] = set()
    for point_id in ids:
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        used.add(code)
        connection.execute(
            sa.text("UPDATE feedback_points SET short_code = :code WHERE id = :id"),
            {"code": code, "id": point_id},
        )
    with op.batch_alter_table("feedback_points", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_feedback_points_short_code"), ["short_code"]
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_points", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_feedback_points_short_code"), type_="unique")
        batch_op.drop_column("short_code")
