"""Setting up and publishing an engagement: draft first, check the guardrails, then publish
the same invitation to every matching provider at the same moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_when
from bot.core.areas import area_label
from bot.core.forms import Field, FieldType, FormDefinition, Page, what_must_be_answered
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Turn
from bot.core.words import counted
from bot.services import Services
from handlers.engagements.common import (
    FUNDING_ROUTES,
    Refused,
    TeamForm,
    authority_name,
    closes_text,
    closing_moment,
    load_for_team,
    money,
    refusal_replies,
)
from handlers.engagements.conflicts import remind_to_declare
from handlers.engagements.working_days import working_days_before
from handlers.forms import Subject, form_step
from storage import audit
from storage.engagement_tables import (
    AuthorityChannel,
    Engagement,
    EngagementInvitation,
    EngagementState,
)
from storage.engagements import (
    add_participants,
    events_of,
    matching_organisations,
    members_of,
    not_yet_declared,
)
from storage.forms import latest_definition, save_definition
from storage.models import Authority, Door, FormResponse, Membership, Role
from storage.outbox import enqueue, send_to_people
from storage.reminders import schedule_reminder
from storage.upsert import insert_many_ignoring_duplicates
from storage.visibility import Refusal

CLOSE_KIND = "engagement.close"
CLOSING_SOON_KIND = "engagement.closing_soon"
QUESTION_BANK = "engagement_questions"

#: The promise an engagement starts with: only what is true. Answers are not secret: the
#: council's internal auditors may read them, and anyone may ask for them under the Freedom
#: of Information Act 2000, where ss.41 and 43 let the council hold back what was given in
#: confidence or is a commercial secret. Convene records the "no scoring" promise; it cannot
#: enforce it, so it says whose promise it is.
DEFAULT_CONFIDENTIALITY = (
    "Who sees your answers: the council's commissioning team for this work. The council's "
    "internal auditors may check them too. Other providers never see your answers, ideas or "
    "costs. Questions asked in the open are answered for everyone, without saying who asked. "
    "The council will treat what you tell it as commercially confidential. If someone asks "
    "for it under the Freedom of Information Act 2000, the council will ask you first, "
    "before it shares anything (the Act lets it hold back secrets, in sections 41 and 43). "
    "The council has promised not to use these answers to score bids. Convene keeps a "
    "record of that promise, but it cannot make the council keep it."
)

#: Said under every invitation and provider form of an engagement: who sees the answers.
WHO_SEES_ANSWERS = (
    "The council's commissioning team sees your answers, and its internal auditors may check "
    "them. They are commercially confidential: the council will ask you before sharing them "
    "under the Freedom of Information Act. The council has promised not to use these answers "
    "to score bids."
)


def engagement_form_key(engagement_id: int) -> str:
    return f"engagement-{engagement_id}"


async def _authority_for(session: AsyncSession, turn: Turn) -> Authority | Refusal:
    """The authority this commissioner acts for: the only one, or the one named with for=…"""
    assert turn.actor is not None
    mine = sorted(turn.actor.commissioner_for())
    if not mine:
        return Refusal("Only a council's commissioning team can set up an engagement.")
    wanted = turn.args.get("for")
    authorities = list(
        (await session.scalars(select(Authority).where(Authority.id.in_(mine)))).all()
    )
    if wanted:
        authorities = [a for a in authorities if a.slug == wanted]
    if len(authorities) == 1:
        return authorities[0]
    names = ", ".join(
        f"{a.name} ({command_ref(f'engagements new for={a.slug}', f'a new engagement for {a.name}')})"
        for a in authorities
    )
    return Refusal(f"Which council is this for? {names}")


def apply_notice_fields(engagement: Engagement, answers: dict[str, Any]) -> None:
    """The UK2 notice facts, from the setup form or the later reference form."""
    engagement.above_threshold = answers.get("above_threshold")
    engagement.intended_route = answers.get("intended_route")
    reference = answers.get("procurement_reference")
    engagement.procurement_reference = reference.strip() if isinstance(reference, str) else None


class EngagementSetup(TeamForm):
    """The commissioner's form: what the engagement is, money and timing, which questions."""

    form_key = "engagement_setup"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        from handlers.engagements.common import number_at, words_of

        assert turn.actor is not None
        wants_edit = words_of(turn)[:1] == ["edit"]
        editing = number_at(turn, 1) if wants_edit else None
        if editing is None and wants_edit:
            return Refusal(
                f"Which one? Find it in the list: {command_ref('engagements', 'the engagements list')}."
            )
        if editing is not None:
            engagement = await self.own_engagement(
                session, turn, editing, "edit", "That engagement isn't one of your council's."
            )
            if isinstance(engagement, Refusal):
                return engagement
            if engagement.state != EngagementState.DRAFT:
                return Refusal(
                    "This engagement is published, so its details can't be changed in place. "
                    "Publish an update instead: "
                    + command_ref(
                        f"engagements update {engagement.id}",
                        f"the update form for engagement {engagement.id}",
                    )
                    + "."
                )
            return Subject(
                None, engagement.authority_id, engagement_id=engagement.id, topic="setup"
            )
        authority = await _authority_for(session, turn)
        if isinstance(authority, Refusal):
            return authority
        return Subject(None, authority.id, label=authority.name, topic="setup")

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        if subject.engagement_id is None:
            bank = await latest_definition(session, QUESTION_BANK)
            ids = [f.id for f in bank.all_fields()] if bank else []
            return {
                "confidentiality": DEFAULT_CONFIDENTIALITY,
                "questions": [i for i in ids if i != "ideas_confidential"],
                "must_answer": [],
            }
        engagement = await session.get(Engagement, subject.engagement_id)
        assert engagement is not None
        own = [*engagement.own_questions, "", "", ""]
        return {
            "title": engagement.title,
            "purpose": engagement.purpose,
            "outcomes": engagement.outcomes,
            "service_area": engagement.service_area,
            "area_served": list(engagement.area_served) or None,
            "budget": engagement.budget_pence,
            "timeline": engagement.timeline,
            "funding_routes": list(engagement.funding_routes),
            "closes_on": engagement.closes_at.astimezone(LONDON).date().isoformat(),
            "confidentiality": engagement.confidentiality,
            "above_threshold": engagement.above_threshold,
            "intended_route": engagement.intended_route,
            "procurement_reference": engagement.procurement_reference,
            "questions": list(engagement.question_ids),
            "must_answer": list(engagement.must_answer),
            **{f"own_question_{i}": own[i - 1] or None for i in (1, 2, 3)},
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.authority_id is not None
        answers = response.answers
        engagement = (
            await session.get(Engagement, response.engagement_id)
            if response.engagement_id
            else None
        )
        new = engagement is None
        if engagement is None:
            engagement = Engagement(
                authority_id=response.authority_id,
                created_by=turn.actor.person_id,
                created_at=services.clock.now(),
                state=EngagementState.DRAFT,
            )
            session.add(engagement)
        engagement.title = answers["title"]
        engagement.purpose = answers["purpose"]
        engagement.outcomes = answers.get("outcomes")
        engagement.service_area = answers.get("service_area")
        engagement.area_served = list(answers.get("area_served") or [])
        engagement.budget_pence = answers.get("budget")
        engagement.timeline = answers.get("timeline")
        engagement.funding_routes = list(answers.get("funding_routes") or [])
        engagement.closes_at = closing_moment(answers["closes_on"], services.tz)
        engagement.confidentiality = answers.get("confidentiality") or DEFAULT_CONFIDENTIALITY
        apply_notice_fields(engagement, answers)
        engagement.question_ids = list(answers.get("questions") or [])
        engagement.must_answer = [
            q for q in answers.get("must_answer") or [] if q in engagement.question_ids
        ]
        engagement.own_questions = [
            text
            for text in (answers.get(f"own_question_{i}") for i in (1, 2, 3))
            if isinstance(text, str) and text.strip()
        ]
        await session.flush()
        response.engagement_id = engagement.id
        if new:
            await remind_to_declare(session, engagement, services.clock.now())
        await audit.record_turn(
            session,
            turn,
            "engagement.drafted",
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
        )
        return await draft_view(session, turn, services, engagement)


SETUP = EngagementSetup()


open_setup = form_step(SETUP)


async def build_questions(session: AsyncSession, engagement: Engagement) -> FormDefinition | None:
    """The questions providers answer: the chosen defaults (required where the commissioner
    said so), then the council's own, as a form definition of its own."""
    bank = await latest_definition(session, QUESTION_BANK)
    if bank is None:
        return None
    chosen = set(engagement.question_ids)
    if "ideas" in chosen:
        chosen.add("ideas_confidential")
    must = set(engagement.must_answer)
    pages: list[Page] = []
    for page in bank.pages:
        fields = [
            field.model_copy(update={"required": field.id in must})
            for field in page.fields
            if field.id in chosen
        ]
        if fields:
            pages.append(page.model_copy(update={"fields": fields}))
    own = [
        Field(id=f"own_{i}", type=FieldType.LONG_TEXT, label=text)
        for i, text in enumerate(engagement.own_questions, start=1)
    ]
    if own:
        pages.append(Page(id="council_questions", title="The council's own questions", fields=own))
    if not pages:  # always leave room to say something
        last = bank.pages[-1]
        pages.append(last.model_copy(update={"fields": [bank.field("anything_else")]}))
    built = FormDefinition(
        key=engagement_form_key(engagement.id),
        title=f"Questions: {engagement.title}"[:200],
        intro=bank.intro,
        who_sees=bank.who_sees,
        pages=pages,
    )
    # Which questions may be left blank depends on what the commissioner made required.
    intro = " ".join(part for part in (bank.intro, what_must_be_answered(built)) if part)
    return built.model_copy(update={"intro": intro})


def question_count(engagement: Engagement) -> int:
    chosen = set(engagement.question_ids)
    return len(chosen) + len(engagement.own_questions) + (1 if "ideas" in chosen else 0)


def guardrails(engagement: Engagement, services: Services, now: datetime) -> list[str]:
    """Warnings for the commissioner: too little time, too many or too many required questions.

    The time warning uses the council's own minimum (`CONVENE_ENGAGEMENT_MINIMUM_DAYS`): the
    law sets no length for pre-market engagement, and seed 004's six weeks is for tender
    windows, so it is not used here."""
    settings = services.settings
    warnings: list[str] = []
    days = (engagement.closes_at - now) / timedelta(days=1)
    if days < settings.engagement_minimum_days:
        warnings.append(
            f"It is open for {int(max(0.0, days))} days after publishing. Your council asks "
            f"for at least {settings.engagement_minimum_days} days, so small groups and people "
            "who can't answer at once have time. This is the council's own rule, not the law."
        )
    count = question_count(engagement)
    if count > settings.engagement_max_questions:
        warnings.append(
            f"It asks {count} questions. More than {settings.engagement_max_questions} puts "
            "small groups off. Ask only what you will use."
        )
    if count and len(engagement.must_answer) * 2 > count:
        warnings.append(
            f"{len(engagement.must_answer)} of {count} questions must be answered. Optional "
            "questions get more replies; make required only what you truly need."
        )
    return warnings


async def draft_view(
    session: AsyncSession, turn: Turn, services: Services, engagement: Engagement
) -> list[Reply]:
    """The draft as providers will see it, the guardrail warnings, and what to do next."""
    assert turn.actor is not None
    invitation = await invitation_message(session, engagement, services)
    warnings = guardrails(engagement, services, services.clock.now())
    replies: list[Reply] = [Notice(text=text, level="warning") for text in warnings]
    undeclared = await not_yet_declared(session, engagement)
    if undeclared:
        replies.append(
            Notice(
                text="Before it opens, everyone on your team should declare any conflict of "
                "interest (Procurement Act 2023, sections 81 to 83). Not declared yet: "
                + ", ".join(person.name for person in undeclared)
                + ".",
                level="warning",
                buttons=[
                    Button(
                        label="Declare yours",
                        action="cmd.engagements",
                        value=f"declare {engagement.id}",
                    ),
                    Button(
                        label="Who has declared",
                        action="cmd.engagements",
                        value=f"declarations {engagement.id}",
                    ),
                ],
            )
        )
    questions = await questions_section(session, engagement)
    replies.append(
        Message(
            title=f"Draft: {engagement.title}",
            text="This is what every invited provider will see. Nothing is sent until you publish.",
            sections=[*invitation.sections, *([questions] if questions else [])],
            buttons=[
                Button(
                    label="Publish",
                    action="cmd.engagements",
                    value=f"publish {engagement.id}",
                    style="primary",
                ),
                Button(label="Change it", action="cmd.engagements", value=f"edit {engagement.id}"),
                Button(
                    label="Add an event", action="cmd.engagements", value=f"event {engagement.id}"
                ),
            ],
        )
    )
    return replies


async def questions_section(session: AsyncSession, engagement: Engagement) -> Section | None:
    """The questions providers will be asked, in order, each saying whether it must be
    answered: so the commissioner checks them before anything is sent."""
    form = await build_questions(session, engagement)
    if form is None:
        return None
    lines = [
        f"{number}. {field.label}" + ("" if field.required else " (optional)")
        for number, field in enumerate(form.all_fields(), start=1)
    ]
    count = len(lines)
    return Section(
        heading="The questions we will ask",
        text=f"Providers will be asked {counted(count, 'question')}. "
        f"{what_must_be_answered(form)}\n" + "\n".join(lines),
    )


async def invitation_message(
    session: AsyncSession, engagement: Engagement, services: Services
) -> Message:
    """The open invitation: the same words, for every provider, at the same time."""
    tz = services.tz
    council = await authority_name(session, engagement)
    routes = (
        ", ".join(FUNDING_ROUTES.get(r, r) for r in engagement.funding_routes) or "Not decided yet"
    )
    facts = [
        Fact(label="Closes", value=closes_text(engagement, tz)),
        Fact(label="Money (a rough figure)", value=money(engagement.budget_pence)),
        Fact(label="How it might be funded", value=routes),
        Fact(
            label="Areas",
            value=", ".join(area_label(c) for c in engagement.area_served)
            or "Everywhere the council covers",
        ),
    ]
    sections = [Section(heading="What it is for", text=engagement.purpose, facts=facts)]
    if engagement.outcomes:
        sections.append(Section(heading="What we hope changes", text=engagement.outcomes))
    if engagement.timeline:
        sections.append(Section(heading="Timeline", text=engagement.timeline))
    sections.append(Section(heading="Confidentiality", text=engagement.confidentiality))
    events = await events_of(session, engagement.id)
    for event in events:
        where = (event.place or event.link or "Details to follow").rstrip(".")
        sections.append(
            Section(
                heading=f"{event.title} ({event.kind.replace('_', '-')})",
                text=f"{format_when(event.starts_at, tz)}. {where}."
                + (f" {counted(event.capacity, 'place')}." if event.capacity else ""),
                buttons=[
                    Button(label="Book a place", action="cmd.engagements", value=f"rsvp {event.id}")
                ],
            )
        )
    return Message(
        title=f"{council} would like your views: {engagement.title}",
        text="This is an open invitation. Every organisation we invite gets this same message "
        "at the same time, and any other organisation on Convene can take part too.",
        sections=sections,
        buttons=[
            Button(
                label="Answer the questions",
                action="cmd.engagements",
                value=f"answer {engagement.id}",
                style="primary",
            ),
            Button(label="Ask a question", action="cmd.engagements", value=f"ask {engagement.id}"),
            Button(label="Talk privately", action="cmd.engagements", value=f"talk {engagement.id}"),
            Button(label="See details", action="cmd.engagements", value=f"show {engagement.id}"),
        ],
        who_sees=WHO_SEES_ANSWERS,
    )


async def publish(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """`engagements publish 4`: invite every matching provider, at the same moment."""
    async with services.db.session() as session:
        try:
            published = await publish_engagement(session, turn, services, engagement_id)
        except ClosingDatePassed as refusal:
            return [
                Notice(
                    text=refusal.message,
                    level=refusal.level,
                    buttons=[
                        Button(
                            label="Change it",
                            action="cmd.engagements",
                            value=f"edit {refusal.engagement_id}",
                        )
                    ],
                )
            ]
        except Refused as refusal:
            return refusal_replies(refusal)
    return published_replies(published)


@dataclass(frozen=True)
class Published:
    """What publishing did: who was invited, and what the team should still look at."""

    engagement: Engagement
    organisations: int
    people: int
    channels: int
    #: Guardrails the engagement falls short of (it is published anyway).
    warnings: tuple[str, ...]


class AlreadyPublished(Refused):
    level = "info"


class ClosingDatePassed(Refused):
    """Nothing is sent once the closing date has passed; the team changes it first."""

    level = "error"

    def __init__(self, message: str, engagement_id: int) -> None:
        super().__init__(message)
        self.engagement_id = engagement_id


class QuestionsMissing(Refused):
    level = "error"


async def publish_engagement(
    session: AsyncSession, turn: Turn, services: Services, engagement_id: int | None
) -> Published:
    """The team publishes its draft: the questions are fixed as version 1, the same
    invitation is queued for every matching provider at once, and closing is scheduled.
    Raises `NotTheTeam`, `AlreadyPublished`, `ClosingDatePassed` or `QuestionsMissing`
    before changing anything."""
    now = services.clock.now()
    engagement = await load_for_team(
        session,
        turn,
        engagement_id,
        "publish",
        "Only the commissioning team of the council running an engagement can publish it.",
        lock=True,
    )
    if engagement.state != EngagementState.DRAFT:
        raise AlreadyPublished(f"{engagement.title} is already published.")
    if engagement.closes_at <= now:
        raise ClosingDatePassed(
            "The closing date has passed, so nothing was sent. Change the closing date first.",
            engagement.id,
        )
    definition = await build_questions(session, engagement)
    if definition is None:
        raise QuestionsMissing("The question set is missing. Please tell us.")
    await save_definition(session, definition, version=1, source="engagement")
    engagement.form_key = definition.key
    engagement.state = EngagementState.OPEN
    engagement.published_at = now
    invited = await invite_matching(session, engagement, services, now)
    await schedule_closing(session, engagement, services)
    await audit.record_turn(
        session,
        turn,
        "engagement.published",
        object_type="engagement",
        object_id=engagement.id,
        authority_id=engagement.authority_id,
        at=now,
        organisations_invited=invited.organisations,
        people_invited=invited.people,
        channels=invited.channels,
    )
    return Published(
        engagement,
        invited.organisations,
        invited.people,
        invited.channels,
        tuple(guardrails(engagement, services, now)),
    )


def published_replies(published: Published) -> list[Reply]:
    """The publish view: how many were invited, any guardrail warnings, and what next."""
    engagement = published.engagement
    text = (
        f"Published. We are sending the same invitation to {published.people} "
        f"{'person' if published.people == 1 else 'people'} in {published.organisations} "
        f"{'organisation' if published.organisations == 1 else 'organisations'}"
        + (f" and {published.channels} channels" if published.channels else "")
        + ". Other organisations on Convene can also find it and take part."
    )
    return [
        Notice(text=text, level="success"),
        *[Notice(text=w, level="warning") for w in published.warnings],
        Message(
            title=engagement.title,
            buttons=[
                Button(label="See it", action="cmd.engagements", value=f"show {engagement.id}"),
                Button(
                    label="Add an event", action="cmd.engagements", value=f"event {engagement.id}"
                ),
                Button(
                    label="The record", action="cmd.engagements", value=f"record {engagement.id}"
                ),
            ],
        ),
    ]


class Invited:
    def __init__(self, organisations: int, people: int, channels: int) -> None:
        self.organisations = organisations
        self.people = people
        self.channels = channels


async def invite_matching(
    session: AsyncSession, engagement: Engagement, services: Services, now: datetime
) -> Invited:
    """Queue one identical invitation per person, all due at `now`, and put each on the record."""
    matched = matching_organisations(engagement)
    organisations = len(await add_participants(session, engagement.id, matched, invited_at=now))
    message = await invitation_message(session, engagement, services)
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    sent = await send_to_people(
        session,
        members_of(matched),
        payload,
        f"engagement:{engagement.id}:invite:{{person_id}}",
        not_before=now,
    )
    organisation_of: dict[int, int | None] = {}
    for person_id, organisation_id in await session.execute(
        select(Membership.person_id, Membership.organisation_id)
        .where(Membership.organisation_id.in_(matched))
        .where(Membership.role.in_((Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER)))
        .order_by(Membership.organisation_id)
    ):
        organisation_of.setdefault(person_id, organisation_id)
    rows: list[dict[str, Any]] = [
        {
            "engagement_id": engagement.id,
            "organisation_id": organisation_of.get(person_id),
            "person_id": person_id,
            "door": where.door,
            "outbox_key": key,
            "created_at": now,
        }
        for person_id, (where, key) in sent.items()
    ]
    channels = (
        await session.scalars(
            select(AuthorityChannel).where(AuthorityChannel.authority_id == engagement.authority_id)
        )
    ).all()
    for channel in channels:
        key = f"engagement:{engagement.id}:channel:{channel.id}"
        await enqueue(
            session,
            door=Door(channel.platform),
            address=channel.address,
            workspace_id=channel.workspace_id,
            payload=payload,
            idempotency_key=key,
            not_before=now,
        )
        rows.append(
            {
                "engagement_id": engagement.id,
                "organisation_id": None,
                "person_id": None,
                "door": channel.platform,
                "outbox_key": key,
                "created_at": now,
            }
        )
    await insert_many_ignoring_duplicates(session, EngagementInvitation, rows, ["outbox_key"])
    return Invited(organisations, len(sent), len(channels))


async def schedule_closing(
    session: AsyncSession, engagement: Engagement, services: Services
) -> None:
    """The scheduler closes it at the closing time, and reminds people who started but did
    not send, a few working days before."""
    await schedule_reminder(
        session,
        kind=CLOSE_KIND,
        due_at=engagement.closes_at,
        target_type="engagement",
        target_id=engagement.id,
    )
    remind_at = working_days_before(
        engagement.closes_at,
        services.settings.engagement_reminder_working_days,
        region=services.settings.bank_holiday_region,
        tz=services.tz,
    )
    if remind_at > services.clock.now():
        await schedule_reminder(
            session,
            kind=CLOSING_SOON_KIND,
            due_at=remind_at,
            target_type="engagement",
            target_id=engagement.id,
        )
