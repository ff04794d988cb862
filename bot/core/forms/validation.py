"""Checking a page of answers, or a whole form before it is sent.

Two moments matter to a charity filling in a form:

* "Save and come back later": we keep whatever they have done, even with
  required questions still blank, but we still refuse answers we cannot
  understand (so nothing wrong is stored silently).
* "Send": every required question must have an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.forms.kinds import kind_of
from bot.core.forms.model import Field, FormDefinition
from bot.core.forms.parsing import (
    AnswerError,
    is_blank,
    label_in_sentence,
    parse_answer,
    to_raw,
)

__all__ = ["PageResult", "error_summary", "required_message", "validate_all", "validate_page"]


def required_message(fld: Field) -> str:
    """The message for a required question left blank: "Enter …" or "Choose …".

    GOV.UK style picks the verb by what the person has to do: type something
    in, or pick from options; each kind knows which it is.
    """
    return kind_of(fld.type).required_message(fld)


@dataclass
class PageResult:
    """Outcome of checking one page.

    ``values`` holds the parsed answer for every field that was understood
    (None for blanks); a field with a problem is left out of ``values`` and
    appears in ``errors`` instead, so the caller re-shows what was typed.
    """

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing on the page needs fixing."""
        return not self.errors


def validate_page(
    defn: FormDefinition,
    page_index: int,
    raw: Mapping[str, str | list[str]],
    *,
    enforce_required: bool = True,
) -> PageResult:
    """Parse every field on one page.

    Missing keys count as blank and unknown keys are ignored: a door may send
    extra things (buttons, CSRF tokens) and a stale browser tab may miss a
    new question. Pass ``enforce_required=False`` for "save and come back
    later". Raises IndexError for a page that does not exist.
    """
    if not 0 <= page_index < len(defn.pages):
        raise IndexError(f"form {defn.key!r} has no page {page_index}")
    result = PageResult()
    for fld in defn.pages[page_index].fields:
        try:
            value = parse_answer(fld, raw.get(fld.id))
        except AnswerError as exc:
            result.errors[fld.id] = exc.message
            continue
        if value is None and fld.required and enforce_required:
            result.errors[fld.id] = required_message(fld)
            continue
        result.values[fld.id] = value
    return result


def _stored_problem(fld: Field, value: Any) -> str | None:
    """Why a saved answer no longer fits its field, if it does not.

    Answers can be saved under an older version of a form (an option removed,
    a limit tightened). Re-parsing the stored value through its raw form
    catches all of that with the same messages people see when typing.
    """
    try:
        parse_answer(fld, to_raw(fld, value))
    except AnswerError as exc:
        return exc.message
    except (TypeError, ValueError, ArithmeticError):
        return (
            f"Check {label_in_sentence(fld)} and answer it again. "
            "The question has changed since you answered it."
        )
    return None


def validate_all(defn: FormDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """Final check before sending: every required question answered and every answer valid.

    ``answers`` are already-parsed values (as stored). Returns errors keyed by
    field id, in form order; an empty dict means the form can be sent.
    """
    errors: dict[str, str] = {}
    for fld in defn.all_fields():
        value = answers.get(fld.id)
        if is_blank(value):
            if fld.required:
                errors[fld.id] = required_message(fld)
            continue
        problem = _stored_problem(fld, value)
        if problem is not None:
            errors[fld.id] = problem
    return errors


def error_summary(defn: FormDefinition, errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Errors as (field id, message) in the order the questions appear.

    Feeds the GOV.UK-style "There is a problem" box, which must list problems
    top to bottom. Keys that are not fields (form-level problems) come last.
    """
    ordered = [(fld.id, errors[fld.id]) for fld in defn.all_fields() if fld.id in errors]
    known = {fld.id for fld in defn.all_fields()}
    ordered.extend((key, message) for key, message in errors.items() if key not in known)
    return ordered
