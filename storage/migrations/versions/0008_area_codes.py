"""Areas as ONS GSS codes, not free text.

- `organisation_areas_served.value` now holds a GSS code ("E08000035"), not a name.
- `engagements.area_served` becomes a JSON list of GSS codes (empty: everywhere).
- Free text already saved is converted with `bot.core.areas.code_for_words`, which never
  guesses: text that names no place, or two, is dropped from matching and written to the
  new `area_migration_notes` table (and the log), for an admin to read with
  `convene areas-report` and put right in the profile or engagement.

It reads the area data as shipped when it runs; a later refresh of that data does not
change a database this migration has already converted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types
from bot.core.areas import area_label, code_for_words

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_SERVED = sa.table(
    "organisation_areas_served",
    sa.column("organisation_id", sa.Integer),
    sa.column("value", sa.String),
)
_NOTES = sa.table(
    "area_migration_notes",
    sa.column("table_name", sa.String),
    sa.column("row_id", sa.Integer),
    sa.column("original", sa.String),
    sa.column("reason", sa.String),
    sa.column("created_at", storage.types.UTCDateTime(timezone=True)),
)


def _note(bind: sa.Connection, table: str, row_id: int, original: str, reason: str) -> None:
    log.warning("area not converted: %s %s %r: %s", table, row_id, original, reason)
    bind.execute(
        _NOTES.insert().values(
            table_name=table,
            row_id=row_id,
            original=original[:500],
            reason=reason[:500],
            created_at=datetime.now(UTC),
        )
    )


def _convert_organisations(bind: sa.Connection) -> None:
    rows = bind.execute(sa.select(_SERVED.c.organisation_id, _SERVED.c.value)).all()
    kept: set[tuple[int, str]] = {(org, value) for org, value in rows}
    for organisation_id, value in rows:
        code, reason = code_for_words(value)
        if code == value:
            continue
        bind.execute(
            _SERVED.delete().where(
                _SERVED.c.organisation_id == organisation_id, _SERVED.c.value == value
            )
        )
        kept.discard((organisation_id, value))
        if code is None:
            _note(bind, "organisation_areas_served", organisation_id, value, reason)
        elif (organisation_id, code) not in kept:
            bind.execute(_SERVED.insert().values(organisation_id=organisation_id, value=code))
            kept.add((organisation_id, code))


def _convert_engagements(bind: sa.Connection) -> None:
    engagements = sa.table(
        "engagements",
        sa.column("id", sa.Integer),
        sa.column("area_served", sa.String),
        sa.column("area_codes", _JSON),
    )
    rows = bind.execute(sa.select(engagements.c.id, engagements.c.area_served)).all()
    for engagement_id, text in rows:
        codes: list[str] = []
        for piece in re.split(r"[,;\n]+", text or ""):
            piece = " ".join(piece.split())
            if not piece:
                continue
            code, reason = code_for_words(piece)
            if code is None:
                _note(bind, "engagements", engagement_id, piece, reason)
            elif code not in codes:
                codes.append(code)
        bind.execute(
            engagements.update().where(engagements.c.id == engagement_id).values(area_codes=codes)
        )


def upgrade() -> None:
    op.create_table(
        "area_migration_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("original", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_migration_notes")),
    )
    bind = op.get_bind()
    _convert_organisations(bind)
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_codes", _JSON, nullable=True))
    _convert_engagements(bind)
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("area_served")
        batch_op.alter_column(
            "area_codes", new_column_name="area_served", existing_type=_JSON, nullable=False
        )


def downgrade() -> None:
    """Codes back to names (as the data names them); the notes table goes."""
    bind = op.get_bind()
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_text", sa.String(length=500), nullable=True))
    engagements = sa.table(
        "engagements",
        sa.column("id", sa.Integer),
        sa.column("area_served", _JSON),
        sa.column("area_text", sa.String),
    )
    for engagement_id, codes in bind.execute(
        sa.select(engagements.c.id, engagements.c.area_served)
    ).all():
        text = ", ".join(area_label(code) for code in codes or []) or None
        bind.execute(
            engagements.update()
            .where(engagements.c.id == engagement_id)
            .values(area_text=text[:500] if text else None)
        )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("area_served")
        batch_op.alter_column(
            "area_text", new_column_name="area_served", existing_type=sa.String(length=500)
        )
    for organisation_id, value in bind.execute(
        sa.select(_SERVED.c.organisation_id, _SERVED.c.value)
    ).all():
        name = area_label(value)[:80]
        if name != value:
            bind.execute(
                _SERVED.update()
                .where(_SERVED.c.organisation_id == organisation_id, _SERVED.c.value == value)
                .values(value=name)
            )
    op.drop_table("area_migration_notes")
