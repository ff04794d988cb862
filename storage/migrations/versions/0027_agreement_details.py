"""agreement details: named people, signing, review and uplift dates, TUPE, payments, termination.

Three new tables (`storage/agreement_detail_tables.py`): the people named on an agreement,
the dates the parties set themselves, and the payment schedule. The old free-text columns
(reviews, price rises, payments, the named people) are moved into the agreement's new
`notes`, each under a heading, so nothing written there is lost; the team turns them into
dates and people by editing the agreement. Going down puts the notes back in the review
column and the named people back as lines.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 17:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The old columns and the heading their words go under in the notes.
_OLD_TEXT = (
    ("review_points", "Reviews"),
    ("price_uplifts", "Price rises"),
    ("payment_schedule", "Payments"),
    ("council_people", "Named for the council"),
    ("provider_contacts", "Named for the provider"),
)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _agreement_fk(table: str) -> sa.ForeignKeyConstraint:
    return _fk(table, "agreement_id", "agreements", "CASCADE")


def upgrade() -> None:
    op.create_table(
        "agreement_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        _agreement_fk("agreement_people"),
        _fk("agreement_people", "person_id", "people", "SET NULL"),
        _fk("agreement_people", "organisation_id", "organisations", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_people")),
    )
    op.create_index(op.f("ix_agreement_people_agreement_id"), "agreement_people", ["agreement_id"])
    op.create_index(op.f("ix_agreement_people_person_id"), "agreement_people", ["person_id"])
    op.create_table(
        "agreement_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        _agreement_fk("agreement_dates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_dates")),
    )
    op.create_index(op.f("ix_agreement_dates_agreement_id"), "agreement_dates", ["agreement_id"])
    op.create_table(
        "agreement_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "amount_pence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("payer", sa.String(length=16), nullable=False),
        sa.Column("payee_organisation_id", sa.Integer(), nullable=True),
        sa.Column("invoice_received_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_by", sa.Integer(), nullable=True),
        sa.Column("paid_recorded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        _agreement_fk("agreement_payments"),
        _fk("agreement_payments", "payee_organisation_id", "organisations", "SET NULL"),
        _fk("agreement_payments", "paid_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_payments")),
    )
    op.create_index(
        op.f("ix_agreement_payments_agreement_id"), "agreement_payments", ["agreement_id"]
    )

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
    connection = op.get_bind()
    columns = ", ".join(column for column, _ in _OLD_TEXT)
    for row in connection.execute(sa.text(f"SELECT id, {columns} FROM agreements")).all():
        parts = [
            f"{heading}: {str(text).strip()}"
            for (_, heading), text in zip(_OLD_TEXT, row[1:], strict=True)
            if text and str(text).strip()
        ]
        if parts:
            connection.execute(
                sa.text("UPDATE agreements SET notes = :notes WHERE id = :id"),
                {"notes": "\n\n".join(parts), "id": row[0]},
            )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        for column, _ in _OLD_TEXT:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        for column, _ in _OLD_TEXT:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE agreements SET review_points = notes"))
    for side, column in (("council", "council_people"), ("provider", "provider_contacts")):
        lines: dict[int, list[str]] = {}
        for agreement_id, name, role in connection.execute(
            sa.text(
                "SELECT agreement_id, name, role FROM agreement_people WHERE side = :side"
                " ORDER BY agreement_id, position"
            ),
            {"side": side},
        ):
            lines.setdefault(agreement_id, []).append(f"{name}, {role.replace('_', ' ')}")
        for agreement_id, found in lines.items():
            connection.execute(
                sa.text(f"UPDATE agreements SET {column} = :text WHERE id = :id"),
                {"text": "\n".join(found), "id": agreement_id},
            )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("notes")
    for table in ("agreement_payments", "agreement_dates", "agreement_people"):
        op.drop_index(op.f(f"ix_{table}_agreement_id"), table_name=table)
    op.drop_index(op.f("ix_agreement_people_person_id"), table_name="agreement_people")
    op.drop_table("agreement_payments")
    op.drop_table("agreement_dates")
    op.drop_table("agreement_people")
