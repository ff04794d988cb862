"""Filling in a form one question at a time, in a chat thread.

For many small charities a long web form is the thing that never gets done;
answering one question at a time in Slack or Teams fits between other jobs.
The state is a plain dict (see :class:`ChatState`) so adapters can keep it in
a JSON column and pick it up on any door: start in Teams, finish on the web.

The engine only decides what to ask and what to store. Adapters decide what
to say when someone stops or finishes, because only they know, for example,
the link to the web form; :data:`STOPPED_MESSAGE` and :data:`FINISHED_MESSAGE`
are sensible defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.forms.kinds import kind_of
from bot.core.forms.model import Field, FormDefinition
from bot.core.forms.parsing import AnswerError, format_answer, is_blank, parse_answer
from bot.core.forms.validation import required_message, today_problem

__all__ = [
    "FINISHED_MESSAGE",
    "STOPPED_MESSAGE",
    "ChatOutcome",
    "ChatState",
    "chat_answer",
    "chat_prompt",
    "start_chat",
]

STOPPED_MESSAGE = "Your answers are saved. You can come back and finish at any time."
FINISHED_MESSAGE = "That was the last question. Check your answers, then send the form."

_STOP_WORDS = frozenset(
    {"stop", "save", "later", "pause", "finish later", "save for later", "save and finish later"}
)
_BACK_WORDS = frozenset({"back", "go back", "previous"})
_SKIP_WORDS = frozenset({"skip"})
_KEEP_WORDS = frozenset({"keep", "keep it"})

_MAX_SHOWN_ANSWER = 200


@dataclass
class ChatState:
    """Where someone is in the form and what they have said so far.

    ``position`` indexes ``FormDefinition.all_fields()``; it equals the number
    of fields once the last question is done.
    """

    position: int = 0
    answers: dict[str, Any] = field(default_factory=dict)
    #: Going through answers already given, one by one (to change some), rather than
    #: jumping to the next unanswered question.
    review: bool = False

    def to_json(self) -> dict[str, Any]:
        """A plain dict, ready for a JSON column."""
        return {"position": self.position, "answers": dict(self.answers), "review": self.review}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> ChatState:
        """Rebuild from :meth:`to_json` output (a dict, or the JSON text of one)."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, Mapping):
            raise ValueError("chat state must be a JSON object")
        position = data.get("position", 0)
        answers = data.get("answers") or {}
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise ValueError("chat state position must be a whole number, 0 or more")
        if not isinstance(answers, Mapping):
            raise ValueError("chat state answers must be a JSON object")
        return cls(position=position, answers=dict(answers), review=data.get("review") is True)


@dataclass
class ChatOutcome:
    """What to do after a chat step.

    ``prompt`` is the question to send next (None once ``done`` or
    ``stopped``). ``error`` is a message to send before it when the reply
    could not be used. ``saved_field`` is the id of the answer stored by this
    step, so an adapter can save the draft straight away.
    """

    state: ChatState
    prompt: str | None
    error: str | None
    done: bool
    stopped: bool
    saved_field: str | None


def _next_unanswered(fields: list[Field], answers: Mapping[str, Any], start: int) -> int:
    """First position at or after ``start`` with no answer (len(fields) if none).

    Moving forward skips questions already answered, for example on the web
    before switching to chat, so nobody is asked the same thing twice.
    """
    for index in range(max(start, 0), len(fields)):
        if is_blank(answers.get(fields[index].id)):
            return index
    return len(fields)


def _advance(fields: list[Field], state: ChatState) -> int:
    """The next question: the very next one when reviewing, else the next unanswered."""
    if state.review:
        return state.position + 1
    return _next_unanswered(fields, state.answers, state.position + 1)


def _commands(fld: Field, position: int) -> str:
    options = []
    if not fld.required:
        options.append("skip to leave it")
    if position > 0:
        options.append("back to go back")
    options.append("stop to save and finish later")
    if len(options) == 1:
        return f"Type {options[0]}."
    return "Type " + ", ".join(options[:-1]) + f", or {options[-1]}."


def chat_prompt(defn: FormDefinition, position: int, answers: Mapping[str, Any]) -> str:
    """The text of one question, with everything needed to answer it in a reply.

    Options are numbered so people can reply "2" instead of typing words
    (kinder for dyslexic users and on phones). Raises IndexError if
    ``position`` is not a question.
    """
    fields = defn.all_fields()
    if not 0 <= position < len(fields):
        raise IndexError(f"form {defn.key!r} has no question at position {position}")
    fld = fields[position]
    title = f"Question {position + 1} of {len(fields)} — {fld.label.strip()}"
    if fld.required:
        title += " (required)"
    lines = [title]
    lines.extend(text.strip() for text in (fld.hint, fld.help) if text and text.strip())
    if kind_of(fld.type).lists_options(fld):
        for number, choice in enumerate(fld.choices, start=1):
            line = f"{number}. {choice.label}"
            if choice.hint:
                line += f" — {choice.hint}"
            lines.append(line)
    current = answers.get(fld.id)
    if not is_blank(current):
        shown = format_answer(fld, current)
        if len(shown) > _MAX_SHOWN_ANSWER:
            shown = shown[: _MAX_SHOWN_ANSWER - 3].rstrip() + "..."
        stop = "" if shown.endswith((".", "!", "?")) else "."
        lines.append(f"Your answer now: {shown}{stop} Type keep to keep it.")
    lines.append(f"{kind_of(fld.type).how_to_answer(fld)} {_commands(fld, position)}")
    return "\n".join(lines)


def _ask(
    defn: FormDefinition,
    state: ChatState,
    *,
    error: str | None = None,
    saved_field: str | None = None,
) -> ChatOutcome:
    """An outcome that asks the question at ``state.position``, or finishes."""
    if state.position >= len(defn.all_fields()):
        return ChatOutcome(
            state=state,
            prompt=None,
            error=error,
            done=True,
            stopped=False,
            saved_field=saved_field,
        )
    return ChatOutcome(
        state=state,
        prompt=chat_prompt(defn, state.position, state.answers),
        error=error,
        done=False,
        stopped=False,
        saved_field=saved_field,
    )


def start_chat(
    defn: FormDefinition, answers: Mapping[str, Any] | None = None, *, review: bool = False
) -> ChatOutcome:
    """Begin, or resume, a form in chat.

    With earlier answers (from a draft saved on any door) we start at the
    first question without an answer. If every question is answered the
    outcome is already ``done`` - unless ``review`` is set: then we go through
    them from the first, each showing the answer given, so a person changing
    answers they sent before can change any of them ("keep" keeps one).
    """
    saved = dict(answers or {})
    fields = defn.all_fields()
    position = _next_unanswered(fields, saved, 0)
    reviewing = review and position >= len(fields)
    state = ChatState(position=0 if reviewing else position, answers=saved, review=reviewing)
    return _ask(defn, state)


def _command(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".!")


def chat_answer(
    defn: FormDefinition, state: ChatState, text: str, *, today: date | None = None
) -> ChatOutcome:
    """Handle one reply. The given state is never changed; a new one is returned.

    Replies "skip", "back", "stop" (or "save"/"later") and "keep" are
    commands; anything else is an answer to the current question. If the
    answer cannot be used, ``error`` says why and the same question is asked
    again with the state unchanged.
    """
    fields = defn.all_fields()
    # A hand-built or corrupted state must never index from the end of the list.
    current = ChatState(
        position=max(state.position, 0), answers=dict(state.answers), review=state.review
    )
    command = _command(text)
    if current.position >= len(fields):
        # Already finished; "back" reopens the last question so it can be changed.
        current.position = len(fields) - 1 if command in _BACK_WORDS else len(fields)
        return _ask(defn, current)
    fld = fields[current.position]

    if command in _STOP_WORDS:
        return ChatOutcome(
            state=current, prompt=None, error=None, done=False, stopped=True, saved_field=None
        )
    if command in _BACK_WORDS:
        if current.position == 0:
            return _ask(
                defn,
                current,
                error="This is the first question, so there is nothing to go back to.",
            )
        current.position -= 1
        return _ask(defn, current)
    if command in _SKIP_WORDS:
        if fld.required:
            return _ask(
                defn,
                current,
                error="You need to answer this question, so you cannot skip it. "
                "If you want to finish later, type stop.",
            )
        # Skipping leaves any earlier answer alone: never lose work silently.
        current.position = _advance(fields, current)
        return _ask(defn, current)
    if command in _KEEP_WORDS:
        if is_blank(current.answers.get(fld.id)):
            return _ask(
                defn,
                current,
                error="You have not answered this question yet, so there is nothing to keep.",
            )
        current.position = _advance(fields, current)
        return _ask(defn, current)

    try:
        value = parse_answer(fld, text)
    except AnswerError as exc:
        return _ask(defn, current, error=exc.message)
    if value is None:
        message = (
            required_message(fld) if fld.required else "Type your answer, or type skip to leave it."
        )
        return _ask(defn, current, error=message)
    problem = today_problem(fld, value, today)
    if problem is not None:
        return _ask(defn, current, error=problem)
    current.answers[fld.id] = value
    current.position = _advance(fields, current)
    return _ask(defn, current, saved_field=fld.id)
