"""Pre-market engagement: engagements, participants, invitations, clarifications, events,
bookings, private meeting requests, anonymous feedback, authority channels; form responses
may belong to an engagement.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 19:32:55.312841
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authority_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_authority_channels_authority_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_channels")),
        sa.UniqueConstraint(
            "platform", "workspace_id", "address", name=op.f("uq_authority_channels_platform")
        ),
    )
    with op.batch_alter_table("authority_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authority_channels_authority_id"), ["authority_id"], unique=False
        )

    op.create_table(
        "engagements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=True),
        sa.Column("service_area", sa.String(length=80), nullable=True),
        sa.Column("area_served", sa.String(length=500), nullable=True),
        sa.Column("budget_pence", sa.Integer(), nullable=True),
        sa.Column("timeline", sa.Text(), nullable=True),
        sa.Column(
            "funding_routes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("closes_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confidentiality", sa.Text(), nullable=False),
        sa.Column(
            "question_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "must_answer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "own_questions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("form_key", sa.String(length=80), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("you_said_we_did", sa.Text(), nullable=True),
        sa.Column("you_said_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_engagements_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_engagements_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagements_authority_id"), ["authority_id"], unique=False
        )
        batch_op.create_index("ix_engagements_state", ["state", "authority_id"], unique=False)

    op.create_table(
        "clarifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("asked_by", sa.Integer(), nullable=True),
        sa.Column("asked_for", sa.Integer(), nullable=True),
        sa.Column("asked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["people.id"],
            name=op.f("fk_clarifications_answered_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"],
            ["people.id"],
            name=op.f("fk_clarifications_asked_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asked_for"],
            ["organisations.id"],
            name=op.f("fk_clarifications_asked_for_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_clarifications_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clarifications")),
    )
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clarifications_engagement_id"), ["engagement_id"], unique=False
        )

    op.create_table(
        "engagement_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_events_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_events")),
    )
    with op.batch_alter_table("engagement_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_events_engagement_id"), ["engagement_id"], unique=False
        )

    op.create_table(
        "engagement_feedback",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("engagement_rating", sa.Integer(), nullable=True),
        sa.Column("engagement_comment", sa.Text(), nullable=True),
        sa.Column("process_rating", sa.Integer(), nullable=True),
        sa.Column("process_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_feedback_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_feedback")),
    )
    with op.batch_alter_table("engagement_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_feedback_engagement_id"), ["engagement_id"], unique=False
        )

    op.create_table(
        "engagement_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_invitations_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_engagement_invitations_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_engagement_invitations_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_invitations")),
        sa.UniqueConstraint("outbox_key", name=op.f("uq_engagement_invitations_outbox_key")),
    )
    with op.batch_alter_table("engagement_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_invitations_engagement_id"), ["engagement_id"], unique=False
        )

    op.create_table(
        "engagement_participants",
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_participants_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_engagement_participants_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "engagement_id", "organisation_id", name=op.f("pk_engagement_participants")
        ),
    )
    with op.batch_alter_table("engagement_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_participants_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "feedback_given",
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_feedback_given_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_feedback_given_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("engagement_id", "person_id", name=op.f("pk_feedback_given")),
    )
    op.create_table(
        "meeting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("how", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "proposed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("agreed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_meeting_requests_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meeting_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["people.id"],
            name=op.f("fk_meeting_requests_requested_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_requests")),
    )
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_requests_engagement_id"), ["engagement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_requests_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "event_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["engagement_events.id"],
            name=op.f("fk_event_bookings_event_id_engagement_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_bookings_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_event_bookings_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_bookings")),
        sa.UniqueConstraint("event_id", "person_id", name=op.f("uq_event_bookings_event_id")),
    )
    with op.batch_alter_table("event_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_bookings_event_id"), ["event_id"], unique=False)

    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engagement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=80), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_form_responses_engagement_id"), ["engagement_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_form_responses_engagement_id_engagements"),
            "engagements",
            ["engagement_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_form_responses_engagement_id_engagements"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_form_responses_engagement_id"))
        batch_op.drop_column("topic")
        batch_op.drop_column("engagement_id")

    with op.batch_alter_table("event_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_bookings_event_id"))

    op.drop_table("event_bookings")
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_requests_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_requests_engagement_id"))

    op.drop_table("meeting_requests")
    op.drop_table("feedback_given")
    with op.batch_alter_table("engagement_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_participants_organisation_id"))

    op.drop_table("engagement_participants")
    with op.batch_alter_table("engagement_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_invitations_engagement_id"))

    op.drop_table("engagement_invitations")
    with op.batch_alter_table("engagement_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_feedback_engagement_id"))

    op.drop_table("engagement_feedback")
    with op.batch_alter_table("engagement_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_events_engagement_id"))

    op.drop_table("engagement_events")
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clarifications_engagement_id"))

    op.drop_table("clarifications")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagements_state")
        batch_op.drop_index(batch_op.f("ix_engagements_authority_id"))

    op.drop_table("engagements")
    with op.batch_alter_table("authority_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authority_channels_authority_id"))

    op.drop_table("authority_channels")
