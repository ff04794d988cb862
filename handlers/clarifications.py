"""Clarifications, equal for all, for any subject: an engagement or an opportunity.

A provider asks privately; the commissioning team answers; the answer goes to everyone
taking part at the same moment, never naming who asked (the team may edit the question so
it can't identify them: the wording as asked is kept for the team and the record). Only a
question that is genuinely about the asker alone may be answered to the asker alone, and
then the team's reason is on the record. Updates from the council travel the same way.

The subject is a parameter (`ClarificationSubject`): each feature says how its subject
is found, who "everyone" is, when asking and publishing are open, and how a refusal is
recorded. Everything else (the rules, the rows, the audit, the words) is here, once.
The feature's forms (`handlers/engagements/clarifications.py`,
`handlers/opportunities/clarifications.py`) are thin: they check who may fill them in and
call the steps below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section
from bot.core.turn import Turn
from handlers.steps import Refused, load_locked
from storage import audit
from storage.clarification_tables import About, Audience, Clarification, ClarificationKind
from storage.engagements import members_of
from storage.models import Membership, Organisation, Role
from storage.outbox import send_to_people

#: Shown beside a published question the team changed so it could not identify who asked.
EDITED_MARK = "edited to keep the asker anonymous"

#: The answer form's choice: everyone (the rule), or only the organisation that asked.
EVERYONE = Audience.EVERYONE.value
ASKER_ONLY = Audience.ASKER.value


class ClarificationSubject(ABC):
    """What the questions are about, and the few rules that differ between subjects."""

    #: Which row the clarifications hang off.
    about: About
    title: str
    authority_id: int
    #: The command whose steps the buttons carry (`engagements`, `opportunities`).
    command: str
    #: Who gets every answer, in words: "everyone taking part".
    everyone: str
    #: The same people, after a number: "5 people taking part".
    people_words: str

    @abstractmethod
    def answer_step(self, question_id: int) -> str:
        """The button value that opens the answer form for one question."""

    def show_step(self) -> str:
        return f"show {self.about.id}"

    @abstractmethod
    def asking_closed(self, now: datetime, tz: ZoneInfo) -> str | None:
        """Why a provider can't ask now (the whole message), or None while they can."""

    @abstractmethod
    def publishing_closed(self, now: datetime) -> str | None:
        """Why the team can't publish now (the whole message), or None while it can."""

    @abstractmethod
    async def refuse(self, session: AsyncSession, turn: Turn, attempted: str, reason: str) -> None:
        """Put a refused attempt on the subject's record (nothing else changes)."""

    @abstractmethod
    async def send_to_everyone(
        self, session: AsyncSession, message: Message, item: Clarification, now: datetime
    ) -> int:
        """Queue one message (about `item`) for everyone taking part, all due at `now`, once
        each however often it runs; how many people."""

    async def asked(
        self, session: AsyncSession, organisation_id: int | None, now: datetime
    ) -> None:
        """Anything the subject does when one of its providers asks (an engagement counts
        the organisation as taking part from then on)."""
        return None


# --- refusals --------------------------------------------------------------------------------


class QuestionsClosed(Refused):
    """Asking is closed: the subject has closed, or its last day for questions has passed."""


class PublishingClosed(Refused):
    """The subject has closed, so nothing more is published."""


class NoSuchQuestion(Refused):
    """The question is not this subject's, or has been answered already."""

    level = "info"


class NobodyToTell(Refused):
    """A private answer, but the organisation that asked is no longer here."""


# --- rules -----------------------------------------------------------------------------------


def keep_original(question: Clarification, published: str) -> None:
    """Publish the team's wording, but never lose what the provider asked: the original is
    kept (team and audit only) whenever the wording changed, however slightly."""
    if published.strip() == (question.question or "").strip():
        return
    if question.original_question is None:
        question.original_question = question.question
    question.question = published


def published_question(item: Clarification) -> str:
    """The question as everyone sees it, marked when the team edited it."""
    text = item.question or ""
    return f"{text} ({EDITED_MARK})" if item.edited_for_anonymity else text


def answer_form_problems(answers: dict[str, Any]) -> dict[str, str]:
    """An answer for the asker alone needs the team's reason (it goes on the record)."""
    if answers.get("who_for") == ASKER_ONLY and not (answers.get("private_reason") or "").strip():
        return {
            "private_reason": "Say why this question is only about the organisation that "
            "asked. Every other answer goes to everyone."
        }
    return {}


def private_reason(answers: dict[str, Any]) -> str | None:
    """The reason, when the team chose to answer the asker alone; None for everyone."""
    if answers.get("who_for") != ASKER_ONLY:
        return None
    return str(answers.get("private_reason") or "").strip() or None


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    subject: ClarificationSubject
    question: Clarification


@dataclass(frozen=True)
class Published:
    """An answer or an update that went out: to everyone, or (privately) to the asker."""

    subject: ClarificationSubject
    item: Clarification
    recipients: int
    at: datetime

    @property
    def privately(self) -> bool:
        return self.item.answered_privately


async def tell_the_team(
    session: AsyncSession, authority_id: int, message: Message, key: str, now: datetime
) -> None:
    """Let a council's commissioning team know something needs them."""
    team = select(Membership.person_id).where(
        Membership.authority_id == authority_id, Membership.role == Role.COMMISSIONER
    )
    await send_to_people(
        session,
        team,
        ReplyList(replies=[message]).model_dump(mode="json"),
        f"{key}:{{person_id}}",
        not_before=now,
    )


async def ask_question(
    session: AsyncSession,
    turn: Turn,
    subject: ClarificationSubject,
    organisation_id: int | None,
    text: str,
    now: datetime,
) -> Asked:
    """A provider asks. Stored (with who asked, for the team alone), on the record, and the
    team is told. Raises `QuestionsClosed` (audited) once asking has closed."""
    assert turn.actor is not None
    closed = subject.asking_closed(now, turn.actor.timezone)
    if closed is not None:
        await subject.refuse(session, turn, "ask", closed)
        raise QuestionsClosed(closed)
    question = Clarification(
        **subject.about.columns(),
        kind=ClarificationKind.QUESTION,
        question=text,
        asked_by=turn.actor.person_id,
        asked_for=organisation_id,
        asked_at=now,
    )
    session.add(question)
    await session.flush()
    await subject.asked(session, organisation_id, now)
    await audit.record_turn(
        session,
        turn,
        "clarification.asked",
        object_type="clarification",
        object_id=question.id,
        authority_id=subject.authority_id,
        organisation_id=organisation_id,
        **subject.about.columns(),
    )
    await tell_the_team(
        session,
        subject.authority_id,
        team_alert(subject, question),
        f"clarification:{question.id}:asked",
        now,
    )
    return Asked(subject, question)


async def waiting_question(
    session: AsyncSession, subject: ClarificationSubject, question_id: int | None, *, lock: bool
) -> Clarification | None:
    """One of the subject's questions still waiting for an answer, or None."""
    if question_id is None:
        return None
    if lock:
        question = await load_locked(session, Clarification, question_id)
    else:
        question = await session.get(Clarification, question_id)
    if (
        question is None
        or question.kind != ClarificationKind.QUESTION
        or question.published_at is not None
        or getattr(question, f"{subject.about.kind}_id") != subject.about.id
    ):
        return None
    return question


async def answer_question(
    session: AsyncSession,
    turn: Turn,
    subject: ClarificationSubject,
    question_id: int,
    wording: str,
    answer: str,
    now: datetime,
    *,
    privately_because: str | None = None,
) -> Published:
    """The team answers: for everyone at the same moment, or (with a reason on the record)
    for the asker alone. Raises before changing anything: `NoSuchQuestion` (answered
    already: two answers at once, one wins), `PublishingClosed`, `NobodyToTell`."""
    question = await waiting_question(session, subject, question_id, lock=True)
    if question is None:
        raise NoSuchQuestion("That question was answered already.")
    closed = subject.publishing_closed(now)
    if closed is not None:
        await subject.refuse(session, turn, "publish clarification", closed)
        raise PublishingClosed(closed)
    if privately_because is not None and question.asked_for is None:
        await subject.refuse(session, turn, "answer privately", "asker gone")
        raise NobodyToTell(
            "The organisation that asked is no longer on Convene, so an answer for them "
            "alone can't reach anyone. Answer it for everyone instead. Nothing was sent."
        )
    keep_original(question, wording)
    question.answer = answer
    if privately_because is not None:
        return await _answer_privately(session, turn, subject, question, privately_because, now)
    return await publish_clarification(session, turn, subject, question, now)


async def publish_update(
    session: AsyncSession,
    turn: Turn,
    subject: ClarificationSubject,
    title: str,
    text: str,
    now: datetime,
) -> Published:
    """An update from the council, to everyone taking part at the same moment."""
    closed = subject.publishing_closed(now)
    if closed is not None:
        await subject.refuse(session, turn, "update", closed)
        raise PublishingClosed(closed)
    update = Clarification(
        **subject.about.columns(), kind=ClarificationKind.UPDATE, title=title, answer=text
    )
    session.add(update)
    await session.flush()
    return await publish_clarification(session, turn, subject, update, now)


async def publish_clarification(
    session: AsyncSession,
    turn: Turn,
    subject: ClarificationSubject,
    item: Clarification,
    now: datetime,
) -> Published:
    """Send an answered question (never naming who asked) or an update to everyone taking
    part at the same moment, and add it to the Q&A log."""
    assert turn.actor is not None
    closed = subject.publishing_closed(now)
    if closed is not None:
        await subject.refuse(session, turn, "publish clarification", closed)
        raise PublishingClosed(closed)
    item.published_at = now
    item.answered_by = turn.actor.person_id
    item.audience = Audience.EVERYONE
    about = subject.about
    recipients = await subject.send_to_everyone(
        session, published_message(subject, item), item, now
    )
    await audit.record_turn(
        session,
        turn,
        "clarification.published",
        object_type="clarification",
        object_id=item.id,
        authority_id=subject.authority_id,
        **about.columns(),
        kind=item.kind,
        edited_for_anonymity=item.edited_for_anonymity,
        recipients=recipients,
        at=now,
    )
    return Published(subject, item, recipients, now)


async def _answer_privately(
    session: AsyncSession,
    turn: Turn,
    subject: ClarificationSubject,
    question: Clarification,
    reason: str,
    now: datetime,
) -> Published:
    """Only the asker's organisation hears it; the reason is kept and audited."""
    assert turn.actor is not None and question.asked_for is not None
    question.published_at = now
    question.answered_by = turn.actor.person_id
    question.audience = Audience.ASKER
    question.private_reason = reason
    sent = await send_to_people(
        session,
        members_of(select(Organisation.id).where(Organisation.id == question.asked_for)),
        ReplyList(replies=[private_message(subject, question)]).model_dump(mode="json"),
        f"{subject.about.kind}:{subject.about.id}:clarification:{question.id}:{{person_id}}",
        not_before=now,
    )
    await audit.record_turn(
        session,
        turn,
        "clarification.answered_privately",
        object_type="clarification",
        object_id=question.id,
        authority_id=subject.authority_id,
        organisation_id=question.asked_for,
        **subject.about.columns(),
        reason=reason,
        recipients=len(sent),
        at=now,
    )
    return Published(subject, question, len(sent), now)


# --- views -----------------------------------------------------------------------------------


def team_alert(subject: ClarificationSubject, question: Clarification) -> Message:
    """The team's message: a new question, with the button to answer it."""
    return Message(
        title=f"A new question about {subject.title}",
        text=question.question,
        buttons=[
            Button(
                label="Answer it for everyone",
                action=f"cmd.{subject.command}",
                value=subject.answer_step(question.id),
                style="primary",
            )
        ],
    )


def asked_replies(asked: Asked) -> list[Reply]:
    return [
        Notice(
            text=f"Thank you. The council will answer your question for {asked.subject.everyone}, "
            "at the same time, without your name or your organisation's name. You will get "
            "the answer in your messages. Only if it is about your organisation alone may "
            "they answer you alone, and then they must say why.",
            level="success",
        )
    ]


def published_message(subject: ClarificationSubject, item: Clarification) -> Message:
    """What everyone gets: the question (never who asked) and the answer, or the update."""
    if item.kind == ClarificationKind.QUESTION:
        message = Message(
            title=f"A question about {subject.title}, answered for everyone",
            sections=[
                Section(heading="The question", text=published_question(item)),
                Section(heading="The council's answer", text=item.answer),
            ],
            text=f"{subject.everyone[0].upper()}{subject.everyone[1:]} gets this answer at "
            "the same time. We never say who asked.",
        )
    else:
        message = Message(title=f"Update on {subject.title}: {item.title}", text=item.answer)
    message.buttons = [
        Button(
            label="See all questions and answers",
            action=f"cmd.{subject.command}",
            value=subject.show_step(),
        )
    ]
    return message


def private_message(subject: ClarificationSubject, question: Clarification) -> Message:
    """The asker's organisation alone gets this, with the council's reason."""
    return Message(
        title=f"Your question about {subject.title}, answered for your organisation only",
        sections=[
            Section(heading="Your question", text=published_question(question)),
            Section(heading="The council's answer", text=question.answer),
            Section(heading="Why only you", text=question.private_reason),
        ],
        text="The council answered this for your organisation alone, because it is only "
        "about you. Other providers don't see it. It is on the council's record, with the "
        "reason.",
        who_sees="Only the people in your organisation and the council's commissioning team.",
    )


def published_replies(published: Published, tz: ZoneInfo) -> list[Reply]:
    """What the team is told once it went out."""
    when = format_when(published.at, tz)
    n = published.recipients
    people = "person" if n == 1 else "people"
    if published.privately:
        text = (
            f"Sent on {when} only to the {n} {people} in the organisation that asked. Other "
            "providers don't see it. It is on the record as answered privately, with your "
            "reason."
        )
    else:
        text = (
            f"Published on {when} to {n} {people} {published.subject.people_words}, all at "
            "the same time. It is in the questions and answers log too."
        )
    return [Notice(text=text, level="success")]


def log_fact(clarification: Clarification, team: bool) -> Fact:
    """One line of the Q&A log. An edited question says so; the team also sees how it was
    first asked (kept for audit, never shown to providers), and why an answer was private."""
    if clarification.kind == ClarificationKind.UPDATE:
        return Fact(label=f"Update: {clarification.title}", value=clarification.answer or "")
    value = f"A: {clarification.answer}"
    if clarification.answered_privately:
        value += "\n(Answered for the organisation that asked only"
        value += f". Why: {clarification.private_reason})" if team else ".)"
    if team and clarification.original_question is not None:
        value += f"\n(Only your team sees this. First asked as: {clarification.original_question})"
    return Fact(label=f"Q: {published_question(clarification)}", value=value)


def log_section(items: list[Clarification], team: bool) -> list[Section]:
    """The questions-and-answers log as one section (none when empty)."""
    if not items:
        return []
    return [
        Section(
            heading="Questions and answers, and updates",
            facts=[log_fact(item, team) for item in items],
        )
    ]


async def waiting_view(
    session: AsyncSession,
    subject: ClarificationSubject,
    waiting: list[Clarification],
    tz: ZoneInfo,
) -> list[Reply]:
    """The team's list of questions waiting for an answer (it may see who asked)."""
    names = dict(
        (
            await session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_([q.asked_for for q in waiting if q.asked_for])
                )
            )
        ).all()
    )
    sections = [
        Section(
            heading=f"Asked {format_when(q.asked_at, tz)}" if q.asked_at else None,
            text=f"{q.question}\n(From {names.get(q.asked_for, 'a provider') if q.asked_for else 'a provider'}. "
            "Only your team sees this; the published answer never names them.)",
            buttons=[
                Button(
                    label="Answer it for everyone",
                    action=f"cmd.{subject.command}",
                    value=subject.answer_step(q.id),
                    style="primary",
                )
            ],
        )
        for q in waiting
    ]
    return [
        Message(
            title=f"Questions about {subject.title}",
            text=None if waiting else "There are no questions waiting for an answer.",
            sections=sections,
        )
    ]
