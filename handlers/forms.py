"""Filling in forms, the same way on every door.

A feature says what its form is *for* (a `FormPurpose`: whose answers they are,
what to pre-fill, what to do on submission); this module does the rest: drafts
that survive restarts and move between doors, page-by-page validation where
nothing is saved from a page with errors, chat mode one question at a time,
and a confirmation after every submission.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import (
    ChatState,
    FormDefinition,
    chat_answer,
    format_answer,
    start_chat,
    to_raw,
    validate_all,
    validate_page,
)
from bot.core.reply import Button, Fact, FormView, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Intent, Turn, row_id
from bot.services import Services
from storage import audit
from storage.forms import definition_at, latest_definition, open_draft, start_draft
from storage.models import ConversationState, FormResponse, ResponseState
from storage.visibility import Refusal, can_answer_for

CHAT_KEY = "chat_form"


@dataclass(frozen=True)
class Subject:
    """Whose answers these are: an organisation (and the authority asking), or a person."""

    organisation_id: int | None
    authority_id: int | None = None
    label: str = ""
    #: For engagement forms: which engagement, and what about it ("clarification:4").
    engagement_id: int | None = None
    topic: str | None = None
    #: A form made for this subject (an engagement's own questions), instead of the purpose's.
    form_key: str | None = None


def topic_number(topic: str | None, at: int = 1) -> int | None:
    """The number at place `at` of a form's topic ("checkin:4" gives 4; "agreement:7:12" at 2
    gives 12), or None: what a purpose reads back to find the thing its draft is about."""
    parts = (topic or "").split(":")
    return row_id(parts[at]) if len(parts) > at else None


class FormPurpose(ABC):
    """What a form is for. One subclass per feature (profile, readiness, engagement questions)."""

    form_key: str
    #: The command that opens this form again, for "you can change it" messages.
    command: str
    #: True when `on_submit` says itself what was saved (a question sent, feedback given),
    #: so the usual "what you told us" confirmation is left out.
    confirms_itself: bool = False

    @abstractmethod
    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        """Whose form this person is filling in, or why they may not."""

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        """Answers to start a new draft with (e.g. the current profile)."""
        return {}

    def resume(self, response: FormResponse) -> str:
        """What follows the command to reopen this draft (`answer 4` for `engagements`)."""
        return ""

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        """Anything to say above the form when it opens (e.g. when it was last answered)."""
        return []

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        """Problems one answer makes of another (a detail needed because of a choice), keyed
        by field id, checked with the required questions before anything is sent."""
        return {}

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        """Problems only the records or today's date can show (an organisation that is not in
        the directory, a day that has passed), keyed by field id. Checked when the form is
        sent, after `cross_check` found none; any problem sends the form back, nothing sent.
        A purpose that wants the attempt on the record writes it here."""
        return {}

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        """Checked on every page sent: the draft must belong to someone this person acts for."""
        assert turn.actor is not None
        if can_answer_for(turn.actor, response):
            return None
        return Refusal("This form belongs to another organisation, so you can't change it.")

    @abstractmethod
    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        """Apply the answers to the domain. Runs in the same unit of work as the submission."""


def purpose_for(form_key: str) -> FormPurpose | None:
    """The purpose of a form key, as the features declare them (`Feature.form_purposes`)."""
    from handlers import features

    found: FormPurpose | None = features().purpose(form_key)
    return found


async def open_form(turn: Turn, services: Services, purpose: FormPurpose) -> list[Reply]:
    """Show the form: resume the subject's draft from any door, or start a new one."""
    async with services.db.session() as session:
        subject = await purpose.subject(session, turn, services)
        if isinstance(subject, Refusal):
            return [Notice(text=subject.message, level="warning")]
        assert turn.actor is not None
        response = await open_draft(
            session,
            form_key=subject.form_key or purpose.form_key,
            organisation_id=subject.organisation_id,
            authority_id=subject.authority_id,
            respondent_id=turn.actor.person_id,
            engagement_id=subject.engagement_id,
            topic=subject.topic,
        )
        if response is None:
            definition = await latest_definition(session, subject.form_key or purpose.form_key)
            if definition is None:
                return [Notice(text="That form is not set up yet. Please tell us.", level="error")]
            response = await start_draft(
                session,
                definition,
                organisation_id=subject.organisation_id,
                authority_id=subject.authority_id,
                respondent_id=turn.actor.person_id,
                answers=await purpose.prefill(session, subject),
                now=services.clock.now(),
                engagement_id=subject.engagement_id,
                topic=subject.topic,
            )
        else:
            loaded = await definition_at(session, response.form_key, response.form_version)
            if loaded is None:
                return [_gone()]
            definition = loaded
        if turn.wants_chat:
            return await _start_chat(session, turn, services, purpose, definition, response)
        preface = await purpose.preface(session, turn, subject)
        return [*preface, form_view(definition, response, response.current_page)]


def form_step(purpose: FormPurpose) -> Callable[[Turn, Services], Awaitable[list[Reply]]]:
    """A step that only opens `purpose`'s form (`opportunities ask 4`), declared where the
    steps are listed instead of a one-line wrapper function per form."""

    async def step(turn: Turn, services: Services) -> list[Reply]:
        return await open_form(turn, services, purpose)

    step.__qualname__ = f"open {type(purpose).__name__}"
    return step


def form_view(
    definition: FormDefinition,
    response: FormResponse,
    page_index: int,
    *,
    raw: Mapping[str, str | list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
) -> FormView:
    """One page as a neutral reply, with stored answers (or what was just typed) filled in."""
    page_index = max(0, min(page_index, len(definition.pages) - 1))
    page = definition.pages[page_index]
    values: dict[str, Any] = {}
    for field in page.fields:
        if raw is not None and field.id in raw:
            values[field.id] = raw[field.id]
        else:
            values[field.id] = to_raw(field, response.answers.get(field.id))
    return FormView(
        form_key=definition.key,
        form_version=definition.version,
        response_id=response.id,
        title=definition.title,
        intro=definition.intro,
        who_sees=definition.who_sees,
        page_index=page_index,
        page_count=len(definition.pages),
        page_title=page.title,
        page_intro=page.intro,
        fields=list(page.fields),
        values=values,
        errors=dict(errors or {}),
    )


async def submit_page(turn: Turn, services: Services) -> list[Reply]:
    """Handle one page sent from any door. A page with errors saves nothing."""
    submission = turn.submission
    assert submission is not None and turn.actor is not None
    async with services.db.session() as session:
        response = await session.get(FormResponse, submission.response_id, with_for_update=True)
        if response is None:
            return [_gone()]
        purpose = purpose_for(response.form_key)
        definition = await definition_at(session, response.form_key, response.form_version)
        if purpose is None or definition is None:
            return [_gone()]
        refusal = await purpose.may_answer(session, turn, services, response)
        if refusal is not None:
            await audit.record_turn(
                session,
                turn,
                "form.refused",
                object_type="form_response",
                object_id=response.id,
                organisation_id=response.organisation_id,
            )
            return [Notice(text=refusal.message, level="error")]
        if response.state != ResponseState.DRAFT:
            return [
                Notice(
                    text="You already sent this form, so this page was not saved. "
                    "To change your answers: "
                    f"{command_ref(purpose.command, 'the form again')}.",
                    level="warning",
                    buttons=[Button(label="Change answers", action=f"cmd.{purpose.command}")],
                )
            ]
        page = max(0, min(submission.page, len(definition.pages) - 1))
        strict = submission.intent in (Intent.NEXT, Intent.SUBMIT)
        today = _today(services)
        result = validate_page(
            definition,
            page,
            submission.values,
            enforce_required=strict,
            today=today,
            region=services.settings.bank_holiday_region,
        )
        if not result.ok:
            return [
                form_view(definition, response, page, raw=submission.values, errors=result.errors)
            ]
        # A date on a weekend or bank holiday is accepted, with a word above the next view.
        warnings: list[Reply] = [
            Notice(text=text, level="warning") for text in result.warnings.values()
        ]
        answers = {**response.answers, **result.values}
        now = services.clock.now()
        if submission.intent == Intent.SAVE:
            _store(response, answers, page, now)
            return [*warnings, _saved_notice(purpose, turn, services)]
        if submission.intent == Intent.BACK:
            _store(response, answers, max(0, page - 1), now)
            return [*warnings, form_view(definition, response, response.current_page)]
        if page < len(definition.pages) - 1:
            _store(response, answers, page + 1, now)
            return [*warnings, form_view(definition, response, response.current_page)]
        missing = {**validate_all(definition, answers, today=today), **purpose.cross_check(answers)}
        if not missing:
            missing = await purpose.check_against_records(
                session, turn, services, response, answers
            )
        if missing:
            first = definition.page_of(next(iter(missing)))
            _store(response, answers, first, now)
            return [*warnings, form_view(definition, response, first, errors=missing)]
        _store(response, answers, page, now)
        return [*warnings, *await _finish(session, turn, services, purpose, definition, response)]


def _today(services: Services) -> date:
    """Today where the council is, by the app's clock: what "future only" dates count from."""
    return services.clock.now().astimezone(services.tz).date()


def _store(response: FormResponse, answers: dict[str, Any], page: int, now: Any) -> None:
    response.answers = answers
    response.current_page = page
    response.updated_at = now


async def _finish(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    purpose: FormPurpose,
    definition: FormDefinition,
    response: FormResponse,
) -> list[Reply]:
    assert turn.actor is not None
    now = services.clock.now()
    response.state = ResponseState.SUBMITTED
    response.submitted_at = now
    response.respondent_id = turn.actor.person_id
    await audit.record_turn(
        session,
        turn,
        "form.submitted",
        object_type="form_response",
        object_id=response.id,
        organisation_id=response.organisation_id,
        authority_id=response.authority_id,
        form_key=response.form_key,
        form_version=response.form_version,
        at=now,
    )
    replies = await purpose.on_submit(session, turn, services, response, definition)
    if purpose.confirms_itself:
        return replies
    return [*replies, confirmation(definition, response, purpose, turn, services)]


def confirmation(
    definition: FormDefinition,
    response: FormResponse,
    purpose: FormPurpose,
    turn: Turn,
    services: Services,
) -> Message:
    """What was saved, when, who sees it, and how to change it."""
    assert turn.actor is not None
    when = format_when(response.submitted_at or services.clock.now(), turn.actor.timezone)
    facts = [
        Fact(label=field.label, value=format_answer(field, response.answers.get(field.id)))
        for field in definition.all_fields()
    ]
    # Back to this same form (`engagements answer 4`), not the feature's list.
    reopen = purpose.resume(response)
    change = f"{purpose.command} {reopen}".strip()
    return Message(
        title=f"Thank you. We saved your {definition.title[:1].lower()}{definition.title[1:]}.",
        text=f"Saved on {when}. You can change it any time: "
        f"{command_ref(change, 'change your answers')}.",
        sections=[Section(heading="What you told us", facts=facts)],
        buttons=[Button(label="Change answers", action=f"cmd.{purpose.command}", value=reopen)],
        who_sees=definition.who_sees,
    )


def _saved_notice(purpose: FormPurpose, turn: Turn, services: Services) -> Notice:
    assert turn.actor is not None
    when = format_when(services.clock.now(), turn.actor.timezone)
    return Notice(
        text=f"Saved on {when}. Nothing is sent yet. Come back any time, from here or "
        f"from Slack or Teams. To carry on: {command_ref(purpose.command, 'the form')}.",
        level="success",
        buttons=[Button(label="Carry on", action=f"cmd.{purpose.command}")],
    )


def _gone() -> Notice:
    return Notice(
        text=f"That form is no longer open, so nothing was saved. To start again, {command_ref('help', 'help')}.",
        level="error",
    )


# --- Chat mode: one question at a time -------------------------------------------------


async def _conversation(
    session: AsyncSession, turn: Turn, *, create: bool
) -> ConversationState | None:
    assert turn.actor is not None
    row = await session.scalar(
        select(ConversationState).where(
            ConversationState.person_id == turn.actor.person_id,
            ConversationState.door == turn.door,
            ConversationState.conversation_key == turn.conversation,
        )
    )
    if row is None and create:
        row = ConversationState(
            person_id=turn.actor.person_id,
            door=turn.door,
            conversation_key=turn.conversation,
            state={},
        )
        session.add(row)
    return row


async def _start_chat(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    purpose: FormPurpose,
    definition: FormDefinition,
    response: FormResponse,
) -> list[Reply]:
    # Every question already answered (they are changing what they sent): go through them
    # from the first, showing each answer, rather than sending them again untouched.
    outcome = start_chat(definition, response.answers, review=True)
    conversation = await _conversation(session, turn, create=True)
    assert conversation is not None
    conversation.state = {
        CHAT_KEY: {
            "response_id": response.id,
            "position": outcome.state.position,
            "review": outcome.state.review,
        }
    }
    conversation.updated_at = services.clock.now()
    intro = definition.intro or ""
    if definition.who_sees:
        intro = f"{intro}\n{definition.who_sees}".strip()
    return [
        Message(title=definition.title, text=intro or None),
        Message(text=outcome.prompt),
    ]


async def answer_in_chat(turn: Turn, services: Services) -> Sequence[Reply] | None:
    """If this conversation has a form open, treat the text as the next answer."""
    if turn.text is None or turn.actor is None:
        return None
    async with services.db.session() as session:
        conversation = await _conversation(session, turn, create=False)
        if conversation is None or CHAT_KEY not in conversation.state:
            return None
        marker = conversation.state[CHAT_KEY]
        response = await session.get(FormResponse, int(marker["response_id"]), with_for_update=True)
        definition = (
            None
            if response is None
            else await definition_at(session, response.form_key, response.form_version)
        )
        purpose = None if response is None else purpose_for(response.form_key)
        if response is None or definition is None or purpose is None:
            conversation.state = {}
            return [_gone()]
        if response.state != ResponseState.DRAFT:
            conversation.state = {}
            return [
                Notice(
                    text=f"That form is closed now. See what you can do: {command_ref('help', 'help')}."
                )
            ]
        refusal = await purpose.may_answer(session, turn, services, response)
        if refusal is not None:  # as for a page sent on any door: say why, and keep a record
            conversation.state = {}
            await audit.record_turn(
                session,
                turn,
                "form.refused",
                object_type="form_response",
                object_id=response.id,
                organisation_id=response.organisation_id,
            )
            return [Notice(text=refusal.message, level="error")]
        state = ChatState(
            position=int(marker["position"]),
            answers=dict(response.answers),
            review=marker.get("review") is True,
        )
        outcome = chat_answer(definition, state, turn.text, today=_today(services))
        now = services.clock.now()
        _store(response, dict(outcome.state.answers), response.current_page, now)
        conversation.updated_at = now
        if outcome.stopped:
            conversation.state = {}
            return [_saved_notice(purpose, turn, services)]
        if outcome.done:
            conversation.state = {}
            missing = {
                **validate_all(definition, response.answers, today=_today(services)),
                **purpose.cross_check(response.answers),
            }
            if missing:
                return [Notice(text=" ".join(missing.values()), level="error")]
            return await _finish(session, turn, services, purpose, definition, response)
        conversation.state = {
            CHAT_KEY: {
                "response_id": response.id,
                "position": outcome.state.position,
                "review": outcome.state.review,
            }
        }
        replies: list[Reply] = []
        if outcome.error:
            replies.append(Notice(text=outcome.error, level="warning"))
        replies.append(Message(text=outcome.prompt))
        return replies
