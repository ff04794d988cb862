"""Turning what people type into stored answers, and back again.

Every door (web, Slack, Teams, chat) hands us text, so all of the forgiving
parsing lives in the form engine, once: "£12.5k", "31 March 2027", "2" for the
second option. Stored values are plain JSON types (str, int, float, bool, list)
so they can go straight into a JSON column.

How each kind of question is read and shown lives with that kind, in
``bot.core.forms.kinds``; these functions are the one way in for every door.
"""

from __future__ import annotations

from typing import Any

from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.common import (
    NOT_ANSWERED,
    AnswerError,
    is_blank,
    label_at_start,
    label_in_sentence,
)
from bot.core.forms.kinds.dates import read_date_time
from bot.core.forms.model import Field

__all__ = [
    "NOT_ANSWERED",
    "AnswerError",
    "format_answer",
    "is_blank",
    "label_at_start",
    "label_in_sentence",
    "parse_answer",
    "read_date_time",
    "to_raw",
]


def parse_answer(field: Field, raw: str | list[str] | None) -> Any:
    """Turn raw input from any door into the stored value, or None if blank.

    Raises AnswerError, with a message ready to show, if the input cannot be
    understood or breaks the field's limits. Required-ness is NOT checked
    here: blank is a valid "no answer", and the caller decides whether that is
    acceptable (it is when saving a draft).
    """
    return kind_of(field.type).parse_raw(field, raw)


def format_answer(field: Field, value: Any) -> str:
    """Show a stored answer to a person, e.g. on a check-your-answers page.

    Never raises: an answer saved under an older form version should still
    display as something rather than break the page.
    """
    if is_blank(value):
        return NOT_ANSWERED
    try:
        return kind_of(field.type).format(field, value)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


def to_raw(field: Field, value: Any) -> str | list[str]:
    """The text to pre-fill an input with, so that parse_answer gives ``value`` back."""
    if value is None:
        return ""
    return kind_of(field.type).raw(field, value)
