"""The one shared database, as typed SQLAlchemy 2 models.

Every door (Slack, Teams, web) reads and writes these same rows. Conversation
state, reminders and queued messages live here rather than in memory so that a
restart, or a second replica, loses nothing. Schema changes go through Alembic
(`storage/migrations`); a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Shared with the core (which must not import storage); still importable from here.
from bot.core.enums import Door as Door
from bot.core.enums import Role as Role
from storage.types import JSONType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Default for created/updated columns; handlers pass their clock's time where it matters."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class ResponseState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class WorkState(StrEnum):
    """States shared by reminders and outbox messages."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    DEAD = "dead"


class Authority(Base):
    """A commissioning body: a council or an ICB."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Organisation(Base):
    """A provider: charity, CIC, social enterprise, mutual, co-operative, faith or community group."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    legal_form: Mapped[str | None] = mapped_column(String(40))
    charity_number: Mapped[str | None] = mapped_column(String(20))
    company_number: Mapped[str | None] = mapped_column(String(20))
    #: Other public registers (see bot/core/registers.py): Scottish and Northern Ireland
    #: charity regulators, the FCA Mutuals Public Register, and the Central Digital Platform.
    oscr_number: Mapped[str | None] = mapped_column(String(20))
    ccni_number: Mapped[str | None] = mapped_column(String(20))
    mutuals_number: Mapped[str | None] = mapped_column(String(20))
    ppon: Mapped[str | None] = mapped_column(String(20))
    #: Who may bid for contracts reserved by Procurement Act 2023 s.33 and s.32.
    public_service_mutual: Mapped[bool | None]
    supported_employment: Mapped[bool | None]
    #: Said once, by migration 0010, where a stored "CIC number" could not move into the
    #: company number (CICs have only a Companies House number): kept so nothing is lost.
    registration_note: Mapped[str | None] = mapped_column(String(500))
    income_band: Mapped[str | None] = mapped_column(String(40))
    staff_count: Mapped[int | None]
    volunteer_count: Mapped[int | None]
    led_by_and_for: Mapped[str | None] = mapped_column(String(40))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: A local infrastructure organisation (a CVS): it convenes providers and may broker
    #: introductions between partners in the places it serves (migration 0016).
    is_infrastructure: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    service_areas: Mapped[list[OrganisationServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganisationServiceArea.value"
    )
    areas_served: Mapped[list[OrganisationAreaServed]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganisationAreaServed.value"
    )


class OrganisationServiceArea(Base):
    """One service area an organisation works in (kept as rows so the directory can filter in SQL)."""

    __tablename__ = "organisation_service_areas"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class OrganisationAreaServed(Base):
    """One place an organisation serves, as its ONS GSS code (``bot.core.areas``).

    Codes, not names, so that matching an engagement's areas never depends on spelling.
    """

    __tablename__ = "organisation_areas_served"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class AreaMigrationNote(Base):
    """A free-text area that migration 0008 could not turn into a code, kept for an admin
    (`convene areas-report`): the words are not lost, and nobody is silently uninvited."""

    __tablename__ = "area_migration_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int]
    original: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    """Somebody who uses Convene from any door."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    preferred_door: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Web sessions carry the generation they were made in; bumping it ends them all.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Made up by the demo loader: only these are listed on the local sign-in page.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan"
    )


class EmailUnsubscribe(Base):
    """A person who turned email off (by the link in an email, or on the notifications page)."""

    __tablename__ = "email_unsubscribes"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    unsubscribed_at: Mapped[datetime] = mapped_column()


class Membership(Base):
    """A person's role: in an organisation (provider member/admin) or an authority (commissioner)."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")


class ChatIdentity(Base):
    """How to find a person on Slack or Teams, and what we need to message them later."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FormDefinitionRow(Base):
    """One version of a questionnaire. Answers keep the version they were given against."""

    __tablename__ = "form_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]]
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="shipped")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormResponse(Base):
    """Answers to one form, draft until submitted. Survives restarts and moves between doors."""

    __tablename__ = "form_responses"
    __table_args__ = (Index("ix_form_responses_lookup", "form_key", "organisation_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[int]
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"))
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: The engagement these answers belong to, and what about it (e.g. "clarification:4"),
    #: so one person can have a draft question for one engagement and answers for another.
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(16), default=ResponseState.DRAFT)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current_page: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only record of who did what to engagement-relevant data, and when.

    The migration adds a trigger that refuses UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    door: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Reminder(Base):
    """Something that must happen at a time: a check-in, a deadline nudge, a key date.

    The due sweep claims rows with a lease; APScheduler only wakes the sweep.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime]
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default=WorkState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One outbound message. The sender delivers it exactly once, or marks it dead for a person to see."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    door: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    workspace_id: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=WorkState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class InboxItem(Base):
    """A message delivered to a person's web inbox. The unique key makes delivery idempotent."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class ConversationState(Base):
    """Where a person is in a chat conversation (e.g. question 4 of a form), per door and conversation."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("person_id", "door", "conversation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    door: Mapped[str] = mapped_column(String(16))
    conversation_key: Mapped[str] = mapped_column(String(200))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SignInToken(Base):
    """A one-time sign-in link for the web door. Only a hash of the token is stored."""

    __tablename__ = "sign_in_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ProcessedEvent(Base):
    """Platform events already handled, so a retried delivery (Slack, Teams) is processed once."""

    __tablename__ = "processed_events"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WorkspaceLink(Base):
    """A Slack workspace or Teams tenant, and the authority or organisation it belongs to."""

    __tablename__ = "workspace_links"
    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="SET NULL")
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Slack said the app was uninstalled or its tokens revoked: send nothing more there.
    removed_at: Mapped[datetime | None]


class InviteCode(Base):
    """A code a provider admin shares so colleagues can join their organisation from any door."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32), default=Role.PROVIDER_MEMBER)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class JoinRequest(Base):
    """Somebody asking to join an organisation; one of its admins approves or declines."""

    __tablename__ = "join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]


class TeamsConversation(Base):
    """A Teams conversation reference, kept so proactive messages work after a restart and
    from any replica. Refreshed on every activity (the service URL can change)."""

    __tablename__ = "teams_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(300), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(100), index=True)
    service_url: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))  # personal, groupChat, channel
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReadinessAnswer(Base):
    """One typed fact from an organisation's latest submitted readiness answers for one
    authority, so the commissioners' summary counts plain columns instead of reading JSON.

    Rows are derived from `form_responses.answers` (`storage.readiness.answer_facts`) and
    replaced, in the same transaction, whenever the organisation sends that authority new
    answers; every earlier version stays in `form_responses`. Per (organisation,
    authority): one row with question "*" (these answers count at all), and per answered
    question one row: `choice` for a one-answer question, `number` for a number, neither
    for text; a multiple choice has that row plus one row per option chosen. Organisation
    data, not personal data: no names, and never the words of a text answer.
    """

    __tablename__ = "readiness_answers"
    __table_args__ = (
        Index("ix_readiness_answers_counts", "authority_id", "question", "choice"),
        Index("ix_readiness_answers_numbers", "authority_id", "question", "number"),
        Index("ix_readiness_answers_organisation", "organisation_id", "authority_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"))
    # Which response the facts came from. Not a foreign key on purpose: SQLite rebuilds a
    # table to change it (Alembic's batch mode), and rebuilding form_responses would then
    # delete every fact. The organisation's foreign key removes them with it.
    response_id: Mapped[int]
    question: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str | None] = mapped_column(Text)
    number: Mapped[float | None]  # a double on both databases


# Slack's OAuth tables live on the same metadata so Alembic creates and checks them too.
import storage.agreement_detail_tables  # noqa: E402
import storage.agreement_tables  # noqa: E402
import storage.assessment_tables  # noqa: E402
import storage.clarification_tables  # noqa: E402
import storage.commissioner_digest_tables  # noqa: E402
import storage.conversation_tables  # noqa: E402
import storage.digest_tables  # noqa: E402
import storage.engagement_tables  # noqa: E402
import storage.evidence_tables  # noqa: E402
import storage.feedback_tables  # noqa: E402
import storage.monitoring_tables  # noqa: E402
import storage.notification_tables  # noqa: E402
import storage.opportunity_route_tables  # noqa: E402
import storage.opportunity_tables  # noqa: E402
import storage.outcome_tables  # noqa: E402
import storage.partner_tables  # noqa: E402
import storage.pipeline_tables  # noqa: E402
import storage.rate_limits  # noqa: E402
import storage.slack_tables  # noqa: E402
import storage.testimony_tables  # noqa: E402
import storage.variation_link_tables  # noqa: E402
import storage.variation_tables  # noqa: E402, F401
