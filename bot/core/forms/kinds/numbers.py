"""Numbers people type: whole numbers, money (stored as whole pence) and percentages."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import (
    LARGEST,
    MAX_SHORT_INPUT,
    AnswerError,
    label_at_start,
    label_in_sentence,
    limit_text,
    normalise,
    plain_decimal,
    pounds_limit_text,
    pounds_text,
)
from bot.core.forms.model import Field, FieldType

# fmt: off
NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
# fmt: on
_SMALL_NUMBERS = {word: n for n, word in enumerate(NUMBER_WORDS)}
_SMALL_NUMBERS["none"] = 0

_GROUPED = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_WHOLE = re.compile(rf"^(?P<sign>[-+]?)\s*(?P<num>{_GROUPED})(?:\.0+)?$")


def _check_limits(field: Field, value: Decimal) -> None:
    """Apply the author's hard min/max, naming the limit in the field's own units."""
    if field.min_value is not None and value < Decimal(repr(field.min_value)):
        raise AnswerError(
            f"{label_at_start(field)} must be {limit_text(field.min_value)} or more",
            field.id,
        )
    if field.max_value is not None and value > Decimal(repr(field.max_value)):
        raise AnswerError(
            f"{label_at_start(field)} must be {limit_text(field.max_value)} or less",
            field.id,
        )


@register
class WholeNumber(FieldKind):
    type = FieldType.WHOLE_NUMBER
    cell = CellKind.NUMBER
    summary = SummaryKind.NUMBER
    takes_limits = True

    def example(self, field: Field) -> str:
        return "12"

    def parse(self, field: Field, text: str) -> int:
        cleaned = normalise(text)
        if cleaned in _SMALL_NUMBERS:
            number = _SMALL_NUMBERS[cleaned]
        else:
            match = _WHOLE.match(cleaned) if len(cleaned) <= MAX_SHORT_INPUT else None
            if not match:
                raise AnswerError(
                    f"Enter {label_in_sentence(field)} as a whole number, "
                    f"like {field.effective_example}",
                    field.id,
                )
            number = int(match["num"].replace(",", ""))
            if number >= LARGEST:
                raise AnswerError(
                    f"Enter {label_in_sentence(field)} as a whole number, "
                    f"like {field.effective_example}",
                    field.id,
                )
            if match["sign"] == "-":
                number = -number
        _check_limits(field, Decimal(number))
        return number

    def format(self, field: Field, value: Any) -> str:
        return f"{int(value):,}"

    def raw(self, field: Field, value: Any) -> str:
        return str(int(value))

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with a whole number, like {field.effective_example}."

    def export_value(self, field: Field, value: Any) -> int:
        return int(value)


_FOREIGN_MONEY = re.compile(r"[$€¥₹]|\b(?:usd|eur|euros?|dollars?|cents?)\b")
_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_MONEY = re.compile(
    rf"^(?P<int>{_GROUPED})?(?:\.(?P<frac>\d+))?"
    r"(?:\s*(?P<mult>k|thousand|m|mn|million|bn|billion))?$"
)
_PENCE_ONLY = re.compile(r"^(?P<pence>\d+)\s*(?:p|pence)$")


@register
class Money(FieldKind):
    type = FieldType.MONEY
    cell = CellKind.MONEY
    summary = SummaryKind.NUMBER
    takes_limits = True

    def example(self, field: Field) -> str:
        return "£12,500"

    def parse(self, field: Field, text: str) -> int:
        """Pounds typed any common way -> whole pence (int, so sums are exact)."""
        name = label_in_sentence(field)
        example = field.effective_example
        bad = AnswerError(f"Enter {name} as an amount of money, like {example}", field.id)
        cleaned = normalise(text)
        if len(cleaned) > MAX_SHORT_INPUT:
            raise bad
        if _FOREIGN_MONEY.search(cleaned):
            raise AnswerError(f"Enter {name} in pounds, like {example}", field.id)

        negative = False
        if cleaned.startswith("(") and cleaned.endswith(")"):  # accountants' negatives
            negative, cleaned = True, cleaned[1:-1].strip()
        for word in ("minus ", "-"):
            if cleaned.startswith(word):
                negative, cleaned = True, cleaned[len(word) :].strip()
        for prefix in ("gbp", "£"):
            if cleaned.startswith(prefix):
                cleaned = cleaned[len(prefix) :].strip()
        if cleaned.startswith("-"):  # "£-500"
            negative, cleaned = True, cleaned[1:].strip()
        for suffix in ("pounds", "pound", "gbp", "quid"):
            if cleaned.endswith(suffix):
                cleaned = cleaned[: -len(suffix)].strip()
                break

        pence_match = _PENCE_ONLY.match(cleaned)
        if pence_match and "£" not in text:
            amount = Decimal(pence_match["pence"])
        else:
            match = _MONEY.match(cleaned)
            if not match or not (match["int"] or match["frac"]):
                raise bad
            frac = match["frac"] or ""
            if not match["mult"] and len(frac) > 2:
                # "12.500" is twelve thousand five hundred in much of Europe; don't guess.
                raise AnswerError(
                    f"Enter {name} with no more than 2 numbers after the point, like £12,500.50",
                    field.id,
                )
            try:
                pounds = Decimal(f"{(match['int'] or '0').replace(',', '')}.{frac or '0'}")
            except InvalidOperation as exc:  # pragma: no cover - regex makes this unreachable
                raise bad from exc
            pounds *= _MULTIPLIERS.get(match["mult"] or "", 1)
            if pounds * 100 >= LARGEST:  # also keeps quantize() within Decimal's precision
                raise bad
            amount = (pounds * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)

        if abs(amount) >= LARGEST:
            raise bad
        if negative and amount:
            amount = -amount
        pence = int(amount)
        start = label_at_start(field)
        min_pounds = field.min_value if field.min_value is not None else 0.0
        if Decimal(pence) < Decimal(repr(min_pounds)) * 100:
            raise AnswerError(f"{start} must be {pounds_limit_text(min_pounds)} or more", field.id)
        if field.max_value is not None and Decimal(pence) > Decimal(repr(field.max_value)) * 100:
            raise AnswerError(
                f"{start} must be {pounds_limit_text(field.max_value)} or less", field.id
            )
        return pence

    def format(self, field: Field, value: Any) -> str:
        return pounds_text(int(value))

    def raw(self, field: Field, value: Any) -> str:
        return pounds_text(int(value)).replace("£", "").replace(",", "")

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with an amount in pounds, like {field.effective_example}."

    def export_value(self, field: Field, value: Any) -> Decimal:
        # Stored as pence; a spreadsheet wants pounds.
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))

    def statistic_value(self, value: float) -> int:
        # To the pound: pence in a median across organisations is false precision.
        pounds = Decimal(repr(value)) / 100
        return int(pounds.quantize(Decimal(1), ROUND_HALF_UP)) * 100


_PERCENT = re.compile(
    r"^(?P<sign>[-+]?)\s*(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?:%|percent|per cent|pc)?$"
)


@register
class Percentage(FieldKind):
    type = FieldType.PERCENTAGE
    cell = CellKind.PERCENT
    summary = SummaryKind.NUMBER
    takes_limits = True

    def example(self, field: Field) -> str:
        return "15%"

    def parse(self, field: Field, text: str) -> float:
        cleaned = normalise(text)
        match = _PERCENT.match(cleaned) if len(cleaned) <= MAX_SHORT_INPUT else None
        if not match:
            raise AnswerError(
                f"Enter {label_in_sentence(field)} as a percentage, like {field.effective_example}",
                field.id,
            )
        number = Decimal(match["num"])
        if match["sign"] == "-":
            number = -number
        low = field.min_value if field.min_value is not None else 0.0
        high = field.max_value if field.max_value is not None else 100.0
        start = label_at_start(field)
        if number < Decimal(repr(low)):
            raise AnswerError(f"{start} must be {limit_text(low)}% or more", field.id)
        if number > Decimal(repr(high)):
            raise AnswerError(f"{start} must be {limit_text(high)}% or less", field.id)
        return float(number)

    def format(self, field: Field, value: Any) -> str:
        shown = Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return f"{plain_decimal(shown)}%"

    def raw(self, field: Field, value: Any) -> str:
        return plain_decimal(Decimal(repr(float(value))))

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with a percentage, like {field.effective_example}."

    def export_value(self, field: Field, value: Any) -> Decimal:
        return Decimal(repr(float(value)))

    def statistic_value(self, value: float) -> float:
        # One decimal place: enough to tell two medians apart, no more.
        return float(Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))
