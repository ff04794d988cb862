"""One engagement story for the bad-input tests, on any door: an engagement set up through
the real handlers, a second council, a fifth provider person, and what a refused attempt
must leave as it was.

Shared by the feature tests (tests/features/test_engagement_bad_input.py, in-process) and
the web door's own contract tests (tests/integration/test_engagement_web_links.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core.reply import FormView, Reply
from bot.core.turn import Door, Intent, Submission, Turn
from bot.services import Services
from storage.engagement_tables import (
    Clarification,
    Engagement,
    EngagementEvent,
    EngagementFeedback,
    EngagementInvitation,
    EngagementParticipant,
    EngagementState,
    EventBooking,
    MeetingRequest,
)
from storage.models import (
    AuditEvent,
    Authority,
    FormResponse,
    Organisation,
    OutboxMessage,
    Person,
    Reminder,
    Role,
)
from storage.people import grant, load_actor
from tests.support.areas import codes

TITLE = "Warm spaces this winter"
HUGE = 99_999_999_999  # bigger than any database integer id


# --- setting up -----------------------------------------------------------------------------


@dataclass
class Story:
    """One engagement (and, when asked for, its event and a waiting question)."""

    engagement_id: int
    event_id: int | None
    people: dict[str, int]
    question_id: int | None = None
    meeting_id: int | None = None


async def _people(services: Services) -> dict[str, int]:
    async with services.db.session() as session:
        return {
            name: person_id
            for name, person_id in (await session.execute(select(Person.name, Person.id))).all()
        }


async def _turn(services: Services, person_id: int, **parts: Any) -> list[Reply]:
    """A turn through the real router, in-process: used only to set the scene."""
    async with services.db.session() as session:
        actor = await load_actor(session, person_id, services.tz)
    return await services.router.dispatch(Turn(door=Door.WEB, actor=actor, **parts), services)


async def _fill_in(services: Services, person_id: int, text: str, values: dict[str, Any]) -> None:
    replies = await _turn(services, person_id, text=text)
    views = [r for r in replies if isinstance(r, FormView)]
    assert views, replies
    submitted = await _turn(
        services,
        person_id,
        submission=Submission(
            response_id=views[0].response_id, page=0, values=values, intent=Intent.SUBMIT
        ),
    )
    assert not any(isinstance(r, FormView) for r in submitted), submitted


async def make_engagement(
    services: Services,
    *,
    publish: bool = True,
    capacity: int | None = None,
    with_question: bool = False,
    with_meeting: bool = False,
) -> Story:
    """Priya's engagement for Preston and Burnley (every demo provider matches), set up
    and, unless asked not to, published through the real handlers."""
    now = services.clock.now()
    people = await _people(services)
    async with services.db.session() as session:
        riverside = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert riverside is not None
        engagement = Engagement(
            authority_id=riverside.id,
            title=TITLE,
            purpose="Warm, welcoming places to spend the day.",
            area_served=codes("Preston", "Burnley"),
            closes_at=now + timedelta(weeks=8),
            confidentiality="We keep what you say private.",
            question_ids=["viable_terms", "payment"],
            created_by=people["Priya Shah"],
            created_at=now,
            state=EngagementState.DRAFT,
        )
        session.add(engagement)
        await session.flush()
        event_id = None
        if capacity is not None:
            event = EngagementEvent(
                engagement_id=engagement.id,
                kind="drop_in",
                title="Drop-in at the library",
                starts_at=now + timedelta(days=10),
                place="Eastgate Library",
                capacity=capacity,
                created_at=now,
            )
            session.add(event)
            await session.flush()
            event_id = event.id
        story = Story(engagement.id, event_id, people)
    if not publish:
        return story
    replies = await _turn(
        services, people["Priya Shah"], text=f"engagements publish {story.engagement_id}"
    )
    assert any("Published" in getattr(r, "text", "") for r in replies), replies
    if with_question:
        await _fill_in(
            services,
            people["Tom Okafor"],
            f"engagements ask {story.engagement_id}",
            {"question": "Can two groups apply together?"},
        )
        async with services.db.session() as session:
            story.question_id = await session.scalar(select(Clarification.id))
    if with_meeting:
        await _fill_in(
            services,
            people["Tom Okafor"],
            f"engagements talk {story.engagement_id}",
            {"topic": "Our costs", "how": "call"},
        )
        async with services.db.session() as session:
            story.meeting_id = await session.scalar(select(MeetingRequest.id))
    return story


async def add_hilltop(services: Services) -> None:
    """A second council, Hilltop, and its commissioner Yusuf Khan."""
    async with services.db.session() as session:
        hilltop = Authority(name="Hilltop District Council", slug="hilltop")
        yusuf = Person(name="Yusuf Khan", email="yusuf@hilltop.example", is_demo=True)
        session.add_all([hilltop, yusuf])
        await session.flush()
        await grant(session, yusuf, Role.COMMISSIONER, authority_id=hilltop.id)


async def add_sam(services: Services) -> None:
    """A second member of Riverside Youth Trust (a fifth provider person)."""
    async with services.db.session() as session:
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert trust is not None
        sam = Person(name="Sam Patel", email="sam@riversideyouth.example", is_demo=True)
        session.add(sam)
        await session.flush()
        await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=trust.id)


# --- what must not change --------------------------------------------------------------------


async def state_of(services: Services) -> dict[str, Any]:
    """Everything a refused attempt must leave as it was (the audit log aside)."""
    async with services.db.session() as session:

        async def count(model: Any, *where: Any) -> int:
            return int(
                await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            )

        engagements = [
            (
                e.id,
                e.state,
                e.title,
                e.published_at,
                e.closed_at,
                e.closes_at,
                e.form_key,
                e.you_said_we_did,
            )
            for e in (await session.scalars(select(Engagement).order_by(Engagement.id))).all()
        ]
        clarifications = [
            (c.id, c.question, c.answer, c.published_at)
            for c in (await session.scalars(select(Clarification).order_by(Clarification.id)))
        ]
        bookings = [
            (b.person_id, b.state)
            for b in (await session.scalars(select(EventBooking).order_by(EventBooking.id)))
        ]
        responses = [
            (r.id, r.form_key, r.state, r.answers)
            for r in (await session.scalars(select(FormResponse).order_by(FormResponse.id)))
        ]
        meetings = [
            (m.id, m.state, m.proposed, m.agreed_at)
            for m in (await session.scalars(select(MeetingRequest).order_by(MeetingRequest.id)))
        ]
        return {
            "engagements": engagements,
            "clarifications": clarifications,
            "bookings": bookings,
            "responses": responses,
            "meetings": meetings,
            "events": await count(EngagementEvent),
            "invitations": await count(EngagementInvitation),
            "participants": await count(EngagementParticipant),
            "outbox": await count(OutboxMessage),
            "reminders": await count(Reminder),
            "feedback": await count(EngagementFeedback),
        }


async def refusals(
    services: Services, person_id: int, action: str = "engagement.refused"
) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == action, AuditEvent.actor_id == person_id)
                    .order_by(AuditEvent.id)
                )
            ).all()
        )


async def assert_refused_and_audited(
    services: Services,
    person_id: int,
    before: dict[str, Any],
    *,
    attempted: str,
    engagement_id: int | None,
) -> None:
    assert await state_of(services) == before, "a refused attempt changed something"
    events = [
        e
        for e in await refusals(services, person_id)
        if (e.details or {}).get("attempted") == attempted
    ]
    assert events, f"the refused {attempted!r} is not in the audit log"
    assert events[-1].door == Door.WEB
    if engagement_id is not None:
        assert events[-1].object_id == str(engagement_id)
