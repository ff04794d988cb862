"""Setting up feedback points and looking after them: `feedback new ...` (a form),
`feedback` (the list, with counts), `feedback close N` and `feedback reopen N`.

`feedback new agreement 4` is for the agreement's council team or one of its provider
parties; `feedback new engagement 7` for the engagement's council team; `feedback new
service` for a provider's own service (the organisation you belong to). Anyone else is
told why not, and the attempt is on the record.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feedback import DEFAULT_QUESTIONS, question
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements.common import is_party, runs_it
from handlers.engagements.common import number_at, words_of
from handlers.feedback.common import (
    COMMAND,
    NEVER_FOR,
    NotYours,
    Standing,
    base_of,
    load_for_owner,
    owner_label,
    poster_path,
    public_path,
    refuse,
    standing,
)
from handlers.feedback.poster import short_link, sms_text
from handlers.forms import FormPurpose, Subject
from handlers.steps import Refused, refusal_replies
from storage import audit
from storage.agreement_tables import Agreement, AgreementParty
from storage.engagement_tables import Engagement
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, PointState, new_short_code
from storage.models import FormResponse, Organisation, Person
from storage.visibility import Refusal

FORM_KEY = "feedback_point"
HOW_TO_START = (
    "For an agreement, open it and press Set up a feedback point. For your own "
    f"organisation's service: {command_ref(f'{COMMAND} new service', 'a feedback point for your service')}."
)


def new_slug() -> str:
    """The short, unguessable part of a point's link: 72 random bits, 12 characters."""
    return secrets.token_urlsafe(9)


async def unused_short_code(session: AsyncSession) -> str:
    """A short code no other point has (the unique column is the last word)."""
    while True:
        code = new_short_code()
        taken = await session.scalar(
            select(FeedbackPoint.id).where(FeedbackPoint.short_code == code)
        )
        if taken is None:
            return code


@dataclass(frozen=True)
class Target:
    """What a new point is for, checked against who is asking."""

    agreement_id: int | None = None
    engagement_id: int | None = None
    organisation_id: int | None = None
    authority_id: int | None = None

    @property
    def topic(self) -> str:
        if self.agreement_id is not None:
            return f"feedback:agreement:{self.agreement_id}"
        if self.engagement_id is not None:
            return f"feedback:engagement:{self.engagement_id}"
        return f"feedback:service:{self.organisation_id}"


def _target_of_topic(topic: str | None) -> tuple[str, int | None]:
    parts = (topic or "").split(":")
    kind = parts[1] if len(parts) > 1 else ""
    number = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return kind, number


async def check_target(
    session: AsyncSession, turn: Turn, kind: str, number: int | None
) -> Target | Refusal:
    """Whether this person may set up a point for `kind` (agreement, engagement, service)
    `number`; refusals are on the record."""
    assert turn.actor is not None
    actor = turn.actor
    if kind == "agreement":
        agreement = await session.get(Agreement, number) if number else None
        if agreement is not None and (
            runs_it(turn, agreement) or await is_party(session, turn, agreement)
        ):
            return Target(agreement_id=agreement.id, authority_id=agreement.authority_id)
        await refuse(session, turn, None, "new point", "not the agreement's", agreement=number)
        return Refusal(
            "We couldn't find that agreement, or you are not part of it. See yours: "
            f"{command_ref('agreements', 'your agreements')}."
        )
    if kind == "engagement":
        engagement = await session.get(Engagement, number) if number else None
        if engagement is not None and engagement.authority_id in actor.commissioner_for():
            return Target(engagement_id=engagement.id, authority_id=engagement.authority_id)
        await refuse(session, turn, None, "new point", "not the engagement's", engagement=number)
        return Refusal(
            "Only the commissioning team of the council running that engagement can set up "
            "feedback for it."
        )
    if kind == "service":
        mine = sorted(actor.member_of())
        chosen = number if number is not None else (mine[0] if len(mine) == 1 else None)
        if chosen is not None and chosen in mine:
            return Target(organisation_id=chosen)
        if not mine:
            await refuse(session, turn, None, "new point", "not a provider")
            return Refusal("A service's feedback point is for the provider that runs it.")
        return Refusal(
            "You belong to more than one organisation. Which one runs the service? "
            + ", ".join(
                command_ref(f"{COMMAND} new service {m}", f"a feedback point for organisation {m}")
                for m in mine
            )
        )
    return Refusal(f"What is the feedback for? {HOW_TO_START}")


class NewPoint(FormPurpose):
    """The form that sets up a feedback point: the service's name, the questions, and the
    safeguarding lead. Each draft is the person's own."""

    form_key = FORM_KEY
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        words = words_of(turn)
        kind = words[1] if len(words) > 1 else ""
        target = await check_target(session, turn, kind, number_at(turn, 2))
        if isinstance(target, Refusal):
            return target
        return Subject(None, None, topic=target.topic)

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        kind, number = _target_of_topic(subject.topic)
        name = ""
        if kind == "agreement" and number:
            agreement = await session.get(Agreement, number)
            name = agreement.title if agreement else ""
        elif kind == "service" and number:
            organisation = await session.get(Organisation, number)
            name = organisation.name if organisation else ""
        return {"service_name": name[:120], "questions": list(DEFAULT_QUESTIONS)}

    def resume(self, response: FormResponse) -> str:
        kind, number = _target_of_topic(response.topic)
        return f"new {kind} {number}" if number else f"new {kind}"

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        email = str(answers.get("safeguarding_lead") or "").strip()
        if email and await _person_by_email(session, email) is None:
            return {
                "safeguarding_lead": "We couldn't find anyone on Convene with that email. "
                "Check it, or leave it empty and we will tell you."
            }
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        kind, number = _target_of_topic(response.topic)
        target = await check_target(session, turn, kind, number)
        if isinstance(target, Refusal):
            raise Refused(target.message)
        answers = response.answers
        keys = [k for k in (answers.get("questions") or []) if question(str(k))]
        email = str(answers.get("safeguarding_lead") or "").strip()
        lead = await _person_by_email(session, email) if email else None
        point = FeedbackPoint(
            slug=new_slug(),
            short_code=await unused_short_code(session),
            service_name=str(answers["service_name"]).strip()[:120],
            state=PointState.OPEN,
            question_keys=keys or list(DEFAULT_QUESTIONS),
            agreement_id=target.agreement_id,
            engagement_id=target.engagement_id,
            organisation_id=target.organisation_id,
            authority_id=target.authority_id,
            safeguarding_lead_id=lead.id if lead else turn.actor.person_id,
            created_by=turn.actor.person_id,
            created_at=services.clock.now(),
        )
        session.add(point)
        await session.flush()
        await audit.record_turn(
            session,
            turn,
            "feedback.point_created",
            object_type="feedback_point",
            object_id=point.id,
            authority_id=point.authority_id,
            organisation_id=point.organisation_id,
            at=services.clock.now(),
        )
        await session.delete(response)
        return [await point_message(session, turn, services, point, created=True)]


async def _person_by_email(session: AsyncSession, email: str) -> Person | None:
    return await session.scalar(select(Person).where(func.lower(Person.email) == email.lower()))


NEW_POINT = NewPoint()


async def new(turn: Turn, services: Services) -> list[Reply]:
    from handlers.forms import open_form

    return await open_form(turn, services, NEW_POINT)


# --- the list ------------------------------------------------------------------------------


async def points_for(session: AsyncSession, turn: Turn) -> list[FeedbackPoint]:
    """Every point this person looks after: their organisations' services and agreements
    first (the provider sees feedback first), then their councils'."""
    assert turn.actor is not None
    actor = turn.actor
    mine = actor.member_of()
    councils = actor.commissioner_for()
    party_agreements = (
        select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(mine))
        if mine
        else None
    )
    conditions = []
    if mine:
        conditions.append(FeedbackPoint.organisation_id.in_(mine))
        assert party_agreements is not None
        conditions.append(FeedbackPoint.agreement_id.in_(party_agreements))
    if councils:
        conditions.append(FeedbackPoint.authority_id.in_(councils))
    if not conditions:
        return []
    points = list(
        (
            await session.scalars(
                select(FeedbackPoint).where(or_(*conditions)).order_by(FeedbackPoint.id)
            )
        ).all()
    )
    standings = {p.id: await standing(session, turn, p) for p in points}
    return sorted(points, key=lambda p: (not standings[p.id].is_provider, p.id))


async def counts_of(session: AsyncSession, point_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Point id -> (entries shown, entries flagged for safeguarding); hidden ones not counted."""
    if not point_ids:
        return {}
    rows = await session.execute(
        select(
            FeedbackEntry.point_id,
            func.count(),
            func.sum(case((FeedbackEntry.safeguarding, 1), else_=0)),
        )
        .where(FeedbackEntry.point_id.in_(point_ids), FeedbackEntry.hidden_at.is_(None))
        .group_by(FeedbackEntry.point_id)
    )
    return {point_id: (int(count), int(flagged or 0)) for point_id, count, flagged in rows}


async def list_points(turn: Turn, services: Services) -> list[Reply]:
    """`feedback`: the points this person looks after, with how many answers each has."""
    async with services.db.session() as session:
        points = await points_for(session, turn)
        counts = await counts_of(session, [p.id for p in points])
        sections = []
        for point in points:
            where = await standing(session, turn, point)
            count, flagged = counts.get(point.id, (0, 0))
            shown = _count_words(count, where, services.settings.suppression_minimum)
            facts = [
                Fact(label="For", value=await owner_label(session, point)),
                Fact(label="Open", value="Yes" if point.state == PointState.OPEN else "No, closed"),
                Fact(label="Answers", value=shown),
                Fact(label="Link", value=base_of(turn, services) + public_path(point)),
            ]
            if flagged and where.is_provider:
                facts.append(Fact(label="Flagged for safeguarding", value=str(flagged)))
            sections.append(
                Section(
                    heading=f"{point.id}. {point.service_name}",
                    facts=facts,
                    buttons=[
                        Button(
                            label="See feedback",
                            action=f"cmd.{COMMAND}",
                            value=f"show {point.id}",
                        )
                    ],
                )
            )
    if not sections:
        return [
            Message(
                title="Feedback points",
                text="You have no feedback points yet. A feedback point lets people who use "
                f"a service tell you what they think, with no account. {HOW_TO_START}",
                who_sees=NEVER_FOR,
            )
        ]
    return [
        Message(
            title="Feedback points",
            text=f"To set up another: {HOW_TO_START}",
            sections=sections,
            who_sees=NEVER_FOR,
        )
    ]


def _count_words(count: int, where: Standing, minimum: int) -> str:
    """How many answered, as this person may see it: beyond the service, a count below the
    minimum is shown only as "fewer than N"."""
    if where.is_provider or count >= minimum or count == 0:
        return str(count)
    return f"Fewer than {minimum}"


async def point_message(
    session: AsyncSession, turn: Turn, services: Services, point: FeedbackPoint, *, created: bool
) -> Message:
    """The point's links: the page, the poster and the QR codes."""
    base = base_of(turn, services)
    lead = (
        await session.get(Person, point.safeguarding_lead_id)
        if point.safeguarding_lead_id
        else None
    )
    questions = [q.text for key in point.question_keys if (q := question(key))]
    short = short_link(services.settings.base_url, point)
    return Message(
        title=("Your feedback point is ready: " if created else "Feedback point: ")
        + point.service_name,
        text=(
            f"People can open {base}{public_path(point)} or scan the QR code on the poster. "
            "They need no account, and we never store their name or when they wrote. "
            f"If what they write looks like harm, we tell {lead.name if lead else 'you'} at "
            "once, and show them who to call."
        ),
        sections=[
            Section(
                heading="Short link, for a text message or to type in",
                text=(
                    f"{short}\n"
                    "Copy this text message and send it to people who use the service:\n"
                    f"{sms_text(point.service_name, short)}"
                ),
            ),
            Section(heading="The questions", text="\n".join(f"• {q}" for q in questions)),
        ],
        buttons=[
            Button(
                label="Open the poster", action=f"{COMMAND}.poster", url=base + poster_path(point)
            ),
            Button(label="See feedback", action=f"cmd.{COMMAND}", value=f"show {point.id}"),
            *(
                [
                    Button(
                        label="See the agreement and its check-ins",
                        action="cmd.agreements",
                        value=f"show {point.agreement_id}",
                    )
                ]
                if point.agreement_id is not None
                else []
            ),
        ],
        who_sees=NEVER_FOR,
    )


# --- closing and reopening -----------------------------------------------------------------


async def _set_state(
    turn: Turn, services: Services, point_id: int | None, state: PointState
) -> list[Reply]:
    attempted = "close" if state == PointState.CLOSED else "reopen"
    now = services.clock.now()
    async with services.db.session() as session:
        try:
            point, _ = await load_for_owner(session, turn, point_id, attempted, lock=True)
        except NotYours as refusal:
            return refusal_replies(refusal)
        if point.state == state:
            word = "closed" if state == PointState.CLOSED else "open"
            return [Notice(text=f"{point.service_name} is already {word}. Nothing changed.")]
        point.state = state
        point.closed_at = now if state == PointState.CLOSED else None
        await audit.record_turn(
            session,
            turn,
            f"feedback.point_{'closed' if state == PointState.CLOSED else 'reopened'}",
            object_type="feedback_point",
            object_id=point.id,
            authority_id=point.authority_id,
            organisation_id=point.organisation_id,
            at=now,
        )
        if state == PointState.CLOSED:
            text = (
                f"Closed {point.service_name}. The page now says it is not taking feedback, "
                'and still shows your "you said, we did" posts. '
                f"Open it again: {command_ref(f'{COMMAND} reopen {point.id}', 'Reopen it')}."
            )
        else:
            text = f"{point.service_name} is open for feedback again."
        return [Notice(text=text, level="success")]


async def close(turn: Turn, services: Services, point_id: int | None) -> list[Reply]:
    return await _set_state(turn, services, point_id, PointState.CLOSED)


async def reopen(turn: Turn, services: Services, point_id: int | None) -> list[Reply]:
    return await _set_state(turn, services, point_id, PointState.OPEN)
