"""Answers picked from a list: one option, several, yes or no, and a 1 to 5 scale.

Web forms send an option's value; people in chat type its words or the number
shown beside it, so all of these are matched here, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import (
    MAX_SHORT_INPUT,
    AnswerError,
    choice_label,
    clean_label,
    is_blank,
    is_question,
    label_in_sentence,
    normalise,
)
from bot.core.forms.model import SCALE_MAX, SCALE_MIN, Choice, Field, FieldType

# --------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(?:option\s*|number\s*)?(\d{1,3})(?:[.)])?$")
_NUMBER_THEN_LABEL = re.compile(r"^(\d{1,3})[.)]\s+(.+)$")


def _match_choice(field: Field, text: str) -> Choice | None:
    """Find the option someone meant by its value, its words, or its number.

    Values are tried first because web forms send them; then labels, which
    chat users type; then the 1-based number we show beside each option.
    Raises AnswerError for a number with no option, so the message can say so.
    """
    for choice in field.choices:
        if text.strip() == choice.value:
            return choice
    wanted = normalise(text)
    if not wanted:
        return None
    for choice in field.choices:
        if wanted in (normalise(choice.value), normalise(choice.label)):
            return choice
    numbered = _NUMBERED.match(wanted)
    if numbered:
        number = int(numbered[1])
        if 1 <= number <= len(field.choices):
            return field.choices[number - 1]
        raise AnswerError(
            f"There is no option {number} for {label_in_sentence(field)}. "
            f"Choose a number from 1 to {len(field.choices)}.",
            field.id,
        )
    copied = _NUMBER_THEN_LABEL.match(wanted)  # "2. Food banks", pasted from the prompt
    if copied:
        number = int(copied[1])
        if 1 <= number <= len(field.choices):
            choice = field.choices[number - 1]
            if normalise(choice.label) == copied[2]:
                return choice
    return None


def _unknown_choice(field: Field, text: str) -> AnswerError:
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return AnswerError(
        f"'{shown}' is not one of the options for {label_in_sentence(field)}. "
        f"Choose from the list, like {field.choices[0].label}",
        field.id,
    )


def _parse_single_choice(field: Field, text: str) -> str:
    choice = _match_choice(field, text)
    if choice is None:
        raise _unknown_choice(field, text)
    return choice.value


_SEPARATOR = re.compile(r"(\s*(?:,|;|\n|&|\+|\band\b)\s*)", re.IGNORECASE)
_MAX_PIECES = 60


def _split_choices(field: Field, text: str) -> list[Choice]:
    """Split "1, 3 and Food banks" into options.

    Labels can themselves hold commas or "and" ("Under £10,000", "Food and
    drink"), so rather than splitting blindly we look for a way of grouping
    the pieces in which every group names an option, preferring long groups.
    """
    whole = _match_choice(field, text)
    if whole is not None:
        return [whole]
    if re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", text.strip()):  # "1 3 4"
        pieces = text.split()
        found = [_match_choice(field, piece) for piece in pieces]
        return [choice for choice in found if choice is not None]

    parts = _SEPARATOR.split(text)
    tokens, seps = parts[0::2], parts[1::2]
    if len(tokens) > _MAX_PIECES:
        raise AnswerError(
            f"Choose fewer options for {label_in_sentence(field)}, using the list", field.id
        )
    memo: dict[int, list[Choice] | None] = {}

    def solve(start: int) -> list[Choice] | None:
        if start == len(tokens):
            return []
        if start in memo:
            return memo[start]
        result: list[Choice] | None = None
        if not tokens[start].strip():
            result = solve(start + 1)
        else:
            for end in range(len(tokens), start, -1):
                piece = "".join(
                    tokens[i] + (seps[i] if i < end - 1 else "") for i in range(start, end)
                )
                try:
                    choice = _match_choice(field, piece)
                except AnswerError:
                    choice = None
                if choice is None:
                    continue
                rest = solve(end)
                if rest is not None:
                    result = [choice, *rest]
                    break
        memo[start] = result
        return result

    solved = solve(0)
    if solved is not None:
        return solved
    # No grouping works: name the first piece we cannot place.
    for token in tokens:
        # _match_choice may itself raise, to say "there is no option 7".
        if token.strip() and _match_choice(field, token) is None:
            raise _unknown_choice(field, token)
    raise _unknown_choice(field, text)  # pragma: no cover - defensive


def _parse_multiple_choice(field: Field, raw: str | Sequence[str]) -> list[str] | None:
    chosen: list[Choice] = []
    if isinstance(raw, str):
        if len(raw) > 20 * MAX_SHORT_INPUT:
            raise _unknown_choice(field, raw)
        chosen = _split_choices(field, raw)
    else:
        for item in raw:
            if is_blank(item):
                continue
            choice = _match_choice(field, str(item))
            if choice is None:
                raise _unknown_choice(field, str(item))
            chosen.append(choice)
    values: list[str] = []
    for choice in chosen:
        if choice.value not in values:
            values.append(choice.value)
    return values or None


_YES_WORDS = frozenset({"yes", "y", "true", "1", "yeah", "yep", "yup"})
_NO_WORDS = frozenset({"no", "n", "false", "0", "nope", "nah"})


def _parse_yes_no(field: Field, text: str) -> bool:
    try:
        choice = _match_choice(field, text)
    except AnswerError:
        choice = None  # e.g. "0" is not an option number but does mean no.
    if choice is not None:
        return choice.value == "yes"
    cleaned = normalise(text)
    if cleaned in _YES_WORDS:
        return True
    if cleaned in _NO_WORDS:
        return False
    if is_question(field):
        message = f"Answer yes or no to '{clean_label(field)}'"
    else:
        message = f"Answer yes or no for {label_in_sentence(field)}"
    raise AnswerError(message, field.id)


_SCALE_TEXT = re.compile(rf"^(\d)\s*(?:/\s*{SCALE_MAX}|out of {SCALE_MAX}|of {SCALE_MAX})?$")


def _parse_scale(field: Field, text: str) -> int:
    error = AnswerError(
        f"Choose a number from {SCALE_MIN} to {SCALE_MAX} for {label_in_sentence(field)}, "
        f"like {field.effective_example}",
        field.id,
    )
    allowed = {choice.value for choice in field.choices}
    match = _SCALE_TEXT.match(normalise(text))
    if match and match[1] in allowed:
        return int(match[1])
    try:
        choice = _match_choice(field, text)
    except AnswerError as exc:
        raise error from exc
    if choice is None:
        raise error
    return int(choice.value)


# --------------------------------------------------------------------------
# The kinds
# --------------------------------------------------------------------------


def _default_labels(fld: Field) -> bool:
    """True when the options are the built-in ones, so no list is needed."""
    if fld.type == FieldType.YES_NO:
        return [(c.value, c.label) for c in fld.choices] == [("yes", "Yes"), ("no", "No")]
    if fld.type == FieldType.SCALE:
        return all(c.label == c.value for c in fld.choices)
    return False


@register
class SingleChoice(FieldKind):
    type = FieldType.SINGLE_CHOICE
    cell = CellKind.TEXT
    summary = SummaryKind.CHOICE
    one_answer_verb = "Choose"
    picked = True
    has_choices = True

    def check_field(self, field: Field) -> None:
        super().check_field(field)
        if not field.choices:
            raise ValueError(f"field {field.id!r} is a {field.type} question but has no choices")

    def example(self, field: Field) -> str:
        return field.choices[0].label

    def parse(self, field: Field, text: str) -> str:
        return _parse_single_choice(field, text)

    def format(self, field: Field, value: Any) -> str:
        return choice_label(field, value)

    def how_to_answer(self, field: Field) -> str:
        return "Reply with a number or the words."

    def lists_options(self, field: Field) -> bool:
        return True

    def export_value(self, field: Field, value: Any) -> str:
        return choice_label(field, value)


@register
class MultipleChoice(FieldKind):
    type = FieldType.MULTIPLE_CHOICE
    cell = CellKind.TEXT
    summary = SummaryKind.MULTIPLE
    picked = True
    has_choices = True

    def check_field(self, field: Field) -> None:
        super().check_field(field)
        if not field.choices:
            raise ValueError(f"field {field.id!r} is a {field.type} question but has no choices")

    def example(self, field: Field) -> str:
        return ", ".join(c.label for c in field.choices[:2])

    def parse_raw(self, field: Field, raw: str | list[str] | None) -> Any:
        # Several answers: a list from a form, or "1, 3 and Food banks" from chat.
        if raw is None or is_blank(raw):
            return None
        return _parse_multiple_choice(field, raw)

    def parse(self, field: Field, text: str) -> list[str] | None:
        return _parse_multiple_choice(field, text)

    def format(self, field: Field, value: Any) -> str:
        items = value if isinstance(value, list | tuple) else [value]
        return ", ".join(choice_label(field, item) for item in items)

    def raw(self, field: Field, value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        return [str(item) for item in items]

    def how_to_answer(self, field: Field) -> str:
        numbers = "1, 3" if len(field.choices) >= 3 else "1, 2"
        return f"Reply with one or more numbers or words, like {numbers}."

    def lists_options(self, field: Field) -> bool:
        return True

    def export_value(self, field: Field, value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(choice_label(field, item) for item in items)


@register
class YesNo(FieldKind):
    type = FieldType.YES_NO
    cell = CellKind.TEXT
    summary = SummaryKind.CHOICE
    has_choices = True

    def default_choices(self) -> list[dict[str, str]]:
        return [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]

    def check_field(self, field: Field) -> None:
        # The parser stores True/False from these two values; other wording goes in labels.
        super().check_field(field)
        if sorted(c.value for c in field.choices) != ["no", "yes"]:
            raise ValueError(
                f"field {field.id!r}: yes/no choices must have the values 'yes' and 'no'"
            )

    def example(self, field: Field) -> str:
        return "yes"

    def parse(self, field: Field, text: str) -> bool:
        return _parse_yes_no(field, text)

    def format(self, field: Field, value: Any) -> str:
        return choice_label(field, "yes" if value else "no")

    def raw(self, field: Field, value: Any) -> str:
        return "yes" if value else "no"

    def required_message(self, field: Field) -> str:
        if is_question(field):
            return f"Choose yes or no for '{clean_label(field)}'"
        return f"Choose yes or no for {label_in_sentence(field)}"

    def how_to_answer(self, field: Field) -> str:
        if _default_labels(field):
            return "Reply yes or no."
        return "Reply with a number or the words."

    def lists_options(self, field: Field) -> bool:
        return not _default_labels(field)

    def export_value(self, field: Field, value: Any) -> str:
        return choice_label(field, "yes" if value in (True, "yes") else "no")

    def summary_option(self, value: Any) -> str | None:
        return ("yes" if value else "no") if isinstance(value, bool) else None


@register
class Scale(FieldKind):
    type = FieldType.SCALE
    cell = CellKind.NUMBER
    summary = SummaryKind.CHOICE
    one_answer_verb = "Choose"
    picked = True
    has_choices = True

    def default_choices(self) -> list[dict[str, str]]:
        return [{"value": str(n), "label": str(n)} for n in range(SCALE_MIN, SCALE_MAX + 1)]

    def check_field(self, field: Field) -> None:
        # Answers are stored as the number; a label may say more ("5 - very ready").
        super().check_field(field)
        allowed = {str(n) for n in range(SCALE_MIN, SCALE_MAX + 1)}
        if not {c.value for c in field.choices} <= allowed:
            raise ValueError(
                f"field {field.id!r}: scale choice values must be the numbers "
                f"{SCALE_MIN} to {SCALE_MAX}"
            )

    def example(self, field: Field) -> str:
        return "3"

    def parse(self, field: Field, text: str) -> int:
        return _parse_scale(field, text)

    def format(self, field: Field, value: Any) -> str:
        label = choice_label(field, int(value))
        if label == str(int(value)):
            return f"{label} out of {SCALE_MAX}"
        return label

    def raw(self, field: Field, value: Any) -> str:
        return str(int(value))

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with a number from {SCALE_MIN} to {SCALE_MAX}."

    def lists_options(self, field: Field) -> bool:
        return not _default_labels(field)

    def export_value(self, field: Field, value: Any) -> int:
        return int(value)

    def summary_option(self, value: Any) -> str | None:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else None
