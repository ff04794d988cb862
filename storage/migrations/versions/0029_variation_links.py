"""variation follow-ups: linked variations (s.75(4)) and current values.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 17:45:00.000000

Adds `agreement_variation_links` (a variation is one of a series with earlier ones) and
`agreement_originals` (the value and end date on award, once an agreement is varied). An
agreement already varied before this revision gets its original row worked out here: its
value was never changed by a variation until now, and its original end is today's end less
the days its approved variations moved it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKS = "agreement_variation_links"
_ORIGINALS = "agreement_originals"


def upgrade() -> None:
    op.create_table(
        _LINKS,
        sa.Column("variation_id", sa.Integer(), nullable=False),
        sa.Column("linked_variation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variation_id"],
            ["agreement_variations.id"],
            name=op.f(f"fk_{_LINKS}_variation_id_agreement_variations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_variation_id"],
            ["agreement_variations.id"],
            name=op.f(f"fk_{_LINKS}_linked_variation_id_agreement_variations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variation_id", "linked_variation_id", name=op.f(f"pk_{_LINKS}")),
    )
    op.create_index(op.f(f"ix_{_LINKS}_linked_variation_id"), _LINKS, ["linked_variation_id"])
    originals = op.create_table(
        _ORIGINALS,
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column(
            "value_pence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f(f"fk_{_ORIGINALS}_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f(f"pk_{_ORIGINALS}")),
    )
    varied = op.get_bind().execute(
        sa.text(
            "SELECT a.id, a.value_pence, a.ends_on, SUM(v.term_change_days)"
            " FROM agreements a JOIN agreement_variations v ON v.agreement_id = a.id"
            " WHERE v.state = 'approved'"
            " GROUP BY a.id, a.value_pence, a.ends_on ORDER BY a.id"
        )
    )
    now = datetime.now(UTC)
    rows = []
    for agreement_id, value_pence, ends_on, moved in varied:
        end = ends_on if isinstance(ends_on, date) else date.fromisoformat(str(ends_on))
        rows.append(
            {
                "agreement_id": agreement_id,
                "value_pence": value_pence,
                "ends_on": end - timedelta(days=int(moved or 0)),
                "recorded_at": now,
            }
        )
    if rows:
        op.bulk_insert(originals, rows)


def downgrade() -> None:
    # Before this revision the agreement's value was the value on award: put it back.
    op.execute(
        sa.text(
            f"UPDATE agreements SET value_pence = (SELECT o.value_pence FROM {_ORIGINALS} o"
            " WHERE o.agreement_id = agreements.id)"
            f" WHERE id IN (SELECT agreement_id FROM {_ORIGINALS})"
        )
    )
    op.drop_table(_ORIGINALS)
    op.drop_index(op.f(f"ix_{_LINKS}_linked_variation_id"), table_name=_LINKS)
    op.drop_table(_LINKS)
