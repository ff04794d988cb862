"""Profile registers: the numbers an organisation really has, and the reserved-contract flags.

There is no such thing as a "CIC number": a community interest company is a company, with
a Companies House number. So ``cic_number`` goes. A stored CIC number moves into the
company number when that is empty; when both are there and differ, it is kept in
``registration_note`` (shown on the organisation's page) and named in the migration's log,
so nothing anybody typed is lost silently.

New: the Scottish (OSCR) and Northern Ireland (CCNI) charity numbers, the FCA Mutuals
Public Register number, the Public Procurement Organisation Number (PPON) from the Central
Digital Platform, and whether the organisation is a public service mutual (Procurement Act
2023 s.33) or a supported employment provider (s.32).

Self-contained (plain tables, its own rules), so it means the same however the app changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("company_number", sa.String),
    sa.column("cic_number", sa.String),
    sa.column("registration_note", sa.String),
)


def _same_number(a: str, b: str) -> bool:
    """Two ways of typing one Companies House number ("sc 12345" and "SC012345") match."""

    def fold(text: str) -> str:
        text = "".join(text.upper().split())
        head = text[:2] if text[:2].isalpha() else ""
        return head + text[len(head) :].lstrip("0")

    return fold(a) == fold(b)


def move_cic_numbers(connection: sa.Connection) -> list[str]:
    """Move each CIC number into an empty company number, or keep it in a note.

    Returns one line per organisation whose CIC number went into a note, for the log.
    """
    kept: list[str] = []
    rows = connection.execute(
        sa.select(
            organisations.c.id,
            organisations.c.slug,
            organisations.c.company_number,
            organisations.c.cic_number,
        ).where(organisations.c.cic_number.is_not(None))
    ).all()
    for org_id, slug, company, cic in rows:
        cic = " ".join(str(cic).split())
        if not cic:
            continue
        company = (company or "").strip()
        if not company:
            connection.execute(
                organisations.update()
                .where(organisations.c.id == org_id)
                .values(company_number=cic[:20])
            )
        elif not _same_number(company, cic):
            note = (
                f"You gave a CIC number, {cic}, as well as your company number. A CIC's "
                "only number is its company number, so we no longer keep a separate one. "
                "Check your company number is right."
            )
            connection.execute(
                organisations.update()
                .where(organisations.c.id == org_id)
                .values(registration_note=note[:500])
            )
            kept.append(f"organisation {org_id} ({slug}): CIC number {cic!r}, company {company!r}")
    return kept


# Plain ALTER TABLE, never a batch "move and copy": on SQLite a batch drop_column rebuilds
# `organisations`, and dropping the old table with foreign keys on deletes every row that
# cascades from it (memberships, areas, readiness facts). SQLite has had ALTER TABLE ... DROP
# COLUMN since 3.35 (2021); these columns have no index or constraint, so it applies.
NEW_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("oscr_number", sa.String(length=20)),
    ("ccni_number", sa.String(length=20)),
    ("mutuals_number", sa.String(length=20)),
    ("ppon", sa.String(length=20)),
    ("public_service_mutual", sa.Boolean()),
    ("supported_employment", sa.Boolean()),
    ("registration_note", sa.String(length=500)),
)


def upgrade() -> None:
    for name, type_ in NEW_COLUMNS:
        op.add_column("organisations", sa.Column(name, type_, nullable=True))
    kept = move_cic_numbers(op.get_bind())
    for line in kept:
        log.warning("CIC number kept in a note (company number differs): %s", line)
    if kept:
        log.warning(
            "%d CIC number(s) could not move into the company number; each is kept in "
            "organisations.registration_note and shown on the organisation's page.",
            len(kept),
        )
    op.drop_column("organisations", "cic_number")


def downgrade() -> None:
    # The CIC numbers that moved into the company number stay there: which ones moved is
    # not recorded, and a company number is the right place for them anyway.
    op.add_column("organisations", sa.Column("cic_number", sa.String(length=20), nullable=True))
    for name, _ in reversed(NEW_COLUMNS):
        op.drop_column("organisations", name)
