"""Checking a page of answers, or a whole form before it is sent.

Two moments matter to a charity filling in a form:

* "Save and come back later": we keep whatever they have done, even with
  required questions still blank, but we still refuse answers we cannot
  understand (so nothing wrong is stored silently).
* "Send": every required question must have an answer.

Some checks need today's date: a ``future_only`` date (a closing date, an event) before
today is refused, and one on a weekend or bank holiday earns a warning (shown, never
blocking). Callers pass ``today`` from their clock and the council's bank holiday
``region``; without them, today in the UK and England and Wales are assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.core.clock import LONDON
from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.dates import non_working_day_warning, past_day_problem
from bot.core.forms.model import Field, FormDefinition
from bot.core.forms.parsing import (
    AnswerError,
    is_blank,
    label_in_sentence,
    parse_answer,
    to_raw,
)
from bot.core.working_days import ENGLAND_AND_WALES

__all__ = [
    "PageResult",
    "answer_warning",
    "error_summary",
    "required_message",
    "uk_today",
    "validate_all",
    "validate_page",
    "what_must_be_answered",
]


def what_must_be_answered(defn: FormDefinition) -> str:
    """One sentence saying which questions may be left blank, worked out from the form.

    A form's intro must never say "every question can be left blank" when one must be
    answered, so forms put together from chosen questions use this instead.
    """
    required = sum(1 for fld in defn.all_fields() if fld.required)
    total = len(defn.all_fields())
    if not required:
        return "Every question can be left blank."
    if required == total:
        return "Please answer every question." if total > 1 else "Please answer the question."
    must = "1 question must" if required == 1 else f"{required} questions must"
    return f"{must} be answered. The others can be left blank."


def uk_today() -> date:
    """Today's date in the UK, for callers with no clock of their own."""
    return datetime.now(LONDON).date()


def today_problem(fld: Field, value: Any, today: date | None = None) -> str | None:
    """Why an understood answer still cannot be used today (a ``future_only`` day gone)."""
    if value is None or not fld.future_only:
        return None
    return past_day_problem(fld, value, today or uk_today())


def answer_warning(fld: Field, value: Any, region: str = ENGLAND_AND_WALES) -> str | None:
    """Something to point out about an accepted answer (a closing date on a bank holiday)."""
    if value is None:
        return None
    return non_working_day_warning(fld, value, region)


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
    #: Accepted answers worth a second look (a date on a bank holiday), by field id.
    warnings: dict[str, str] = field(default_factory=dict)

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
    today: date | None = None,
    region: str = ENGLAND_AND_WALES,
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
        problem = today_problem(fld, value, today)
        if problem is not None:
            result.errors[fld.id] = problem
            continue
        warning = answer_warning(fld, value, region)
        if warning is not None:
            result.warnings[fld.id] = warning
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


def validate_all(
    defn: FormDefinition, answers: Mapping[str, Any], *, today: date | None = None
) -> dict[str, str]:
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
        problem = _stored_problem(fld, value) or today_problem(fld, value, today)
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
