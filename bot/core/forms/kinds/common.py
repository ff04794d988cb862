"""Helpers every kind of question shares: naming a question in a sentence, blank answers,
folding what people type, and showing amounts.

They live apart from the kinds so that each kind module, and the public parsing
functions, import them from one place without importing each other.

Error messages are read by busy, sometimes anxious people, many with
dyslexia. They follow GOV.UK style: say what to do, name the question, show an
example, never blame.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.core.forms.model import Field

__all__ = [
    "LARGEST",
    "MAX_SHORT_INPUT",
    "NOT_ANSWERED",
    "AnswerError",
    "choice_label",
    "clean_label",
    "is_blank",
    "is_question",
    "label_at_start",
    "label_in_sentence",
    "limit_text",
    "normalise",
    "plain_decimal",
    "pounds_limit_text",
    "pounds_text",
    "single_raw",
]

NOT_ANSWERED = "Not answered"

# Anything longer than this cannot be a number, a date or an option name, so
# refuse it before doing any work on it.
MAX_SHORT_INPUT = 200
# Stored numbers (and pence) stay below this so that JavaScript, which reads
# JSON numbers as doubles, gets them exactly. No real answer comes close.
LARGEST = 10**15


class AnswerError(ValueError):
    """An answer we could not accept. ``message`` is safe to show the person."""

    def __init__(self, message: str, field_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_id = field_id


# --------------------------------------------------------------------------
# Naming a question inside a sentence
# --------------------------------------------------------------------------


def clean_label(field: Field) -> str:
    return field.label.strip().rstrip(":").strip()


def is_question(field: Field) -> bool:
    return clean_label(field).endswith("?")


def label_in_sentence(field: Field) -> str:
    """The question's name for use mid-sentence: "Enter <annual cost>".

    Labels written as questions ("How many staff do you have?") read badly
    after a verb, so they become "the answer to '…'". The first letter is
    lower-cased unless the first word looks like an acronym (TUPE, VCFSE).
    """
    label = clean_label(field)
    if label.endswith("?"):
        return f"the answer to '{label}'"
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def label_at_start(field: Field) -> str:
    """The question's name for the start of a sentence: "<Annual cost> must be…"."""
    label = clean_label(field)
    if label.endswith("?"):
        return f"The answer to '{label}'"
    return label


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """True for "no answer": None, empty or whitespace text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(is_blank(item) for item in value)
    return False


_DASHES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-"})


def normalise(text: str) -> str:
    """Fold case, odd quotes and spacing so "Under £10,000 " matches "under £10,000"."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    text = " ".join(text.split())
    # Keep a leading "." (".5k") but drop a full stop or quotes around the answer.
    return text.strip("'\"").rstrip(" .!").strip()


def plain_decimal(value: Decimal) -> str:
    """Decimal as plain digits with no exponent and no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def limit_text(value: float) -> str:
    """A min/max limit as people write it: 0, 1,500, 2.5."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def pounds_text(pence: int) -> str:
    """Pence as "£12,500" or "£12,500.50" (pence only when there are some)."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    text = f"£{pounds:,}"
    if rest:
        text += f".{rest:02d}"
    return sign + text


def pounds_limit_text(pounds: float) -> str:
    pence = int((Decimal(repr(float(pounds))) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    return pounds_text(pence)


def choice_label(field: Field, value: Any) -> str:
    """The label of the option stored as ``value``, or the value itself."""
    for choice in field.choices:
        if choice.value == str(value):
            return choice.label
    return str(value)  # An option removed since the answer was saved.


def single_raw(field: Field, raw: str | list[str] | None, verb: str = "Enter") -> str | None:
    """Reduce the raw input for a one-answer question to one stripped string.

    Web frameworks sometimes hand over a list even for a single input, so a
    list with one real item is accepted. ``verb`` starts the message when
    there are several ("Choose only one answer ...").
    """
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        items = [str(item) for item in raw if not is_blank(item)]
        if not items:
            return None
        if len(items) > 1:
            raise AnswerError(f"{verb} only one answer for {label_in_sentence(field)}", field.id)
        raw = items[0]
    text = str(raw)
    return None if not text.strip() else text
