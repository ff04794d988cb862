"""Typed words: a one-line answer and a longer one."""

from __future__ import annotations

import unicodedata

from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import AnswerError, clean_label
from bot.core.forms.model import Field, FieldType
from bot.core.registers import REGISTERS, RegisterNumberError, read_number

_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\x0b\x0c\x85\u2028\u2029", "\n"))


def _checked(field: Field, value: str, allowed: set[str]) -> str:
    """Refuse control characters (other than ``allowed``) and answers over the length limit."""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise AnswerError(
            f"Answer to '{clean_label(field)}' has a hidden character in it that we cannot "
            "save. Try typing the answer instead of pasting it.",
            field.id,
        )
    limit = field.effective_max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(
            f"Answer to '{clean_label(field)}' must be {limit:,} characters or fewer. "
            f"You wrote {len(value):,}.",
            field.id,
        )
    return value


@register
class ShortText(FieldKind):
    type = FieldType.SHORT_TEXT
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    default_max_length = 200

    def parse(self, field: Field, text: str) -> str:
        # A short answer is one line: fold pasted line breaks and tabs into spaces.
        return _checked(field, " ".join(text.split()), set())


@register
class LongText(FieldKind):
    type = FieldType.LONG_TEXT
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    default_max_length = 5000

    def parse(self, field: Field, text: str) -> str:
        # Word and some phones paste line breaks as odd characters; make them plain.
        value = text.replace("\r\n", "\n").translate(_LINE_BREAKS).strip()
        return _checked(field, value, {"\n", "\t"})

    def how_to_answer(self, field: Field) -> str:
        text = super().how_to_answer(field)
        limit = field.effective_max_length
        if limit:
            text += f" You can write up to {limit:,} characters."
        return text


@register
class RegisterNumber(FieldKind):
    """A number from a public register, stored the one way that register writes it.

    Checking the format here, once, means a mistyped company or charity number is caught on
    every door, in chat too, with the same plain message; and what is stored can be linked
    to the register's public entry without guessing.
    """

    type = FieldType.REGISTER_NUMBER
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    # The longest stored register number (a PPON with its hyphens) is 14 characters;
    # the rest is room for the spaces people type.
    default_max_length = 30
    takes_register = True

    def check_field(self, field: Field) -> None:
        super().check_field(field)
        if field.public_register not in REGISTERS:
            raise ValueError(
                f"field {field.id!r}: a register_number question needs a public_register, "
                f"one of {sorted(REGISTERS)}"
            )

    def parse(self, field: Field, text: str) -> str:
        _checked(field, text, set())
        assert field.public_register is not None  # Field._check insists on one.
        try:
            return read_number(field.public_register, text)
        except RegisterNumberError as exc:
            raise AnswerError(exc.message, field.id) from exc

    def example(self, field: Field) -> str | None:
        return (
            REGISTERS[field.public_register].example if field.public_register in REGISTERS else None
        )
