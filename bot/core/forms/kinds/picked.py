"""Answers that are lists of codes picked from a shipped list (places, CPV codes).

Both kinds read the same way: people type words or codes (in chat, a Slack or Teams text
box, or the web form's search box) or tick codes already chosen; the answer is split into
pieces, each piece must name exactly one code, and a piece that names none or several is
an error naming the nearest, so nothing is silently dropped or guessed. This base holds
that reading once; each kind says how one piece becomes a code and how a code is named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind
from bot.core.forms.kinds.common import AnswerError, is_blank, label_in_sentence
from bot.core.forms.model import Field

SEPARATOR = re.compile(r"[,;\n]+")
#: An answer longer than this is a paste gone wrong, whatever the kind.
MAX_INPUT = 4000


def shown(text: str) -> str:
    """What somebody typed, tidied and cut short, to quote back in an error."""
    tidy = " ".join(text.split())
    return tidy if len(tidy) <= 40 else tidy[:37] + "..."


def as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item) for item in items]


class PickedCodes(FieldKind):
    """A list of codes, kept as codes so matching compares codes, never words."""

    cell = CellKind.TEXT
    # Codes are too many to count one by one in a summary; it says how many answered.
    summary = SummaryKind.TEXT
    picked = True
    #: At most this many in one answer; more is a paste gone wrong.
    most: ClassVar[int]
    #: "places", "codes": what the answer is a list of, in an error.
    unit: ClassVar[str]
    #: Why `most` is enough: "A county covers all the councils in it."
    broader_hint: ClassVar[str]
    #: How codes are joined when shown as one line.
    joiner: ClassVar[str] = ", "

    def resolve(self, field: Field, piece: str) -> str:
        """One typed piece -> one code, or an AnswerError that says what to do next."""
        raise NotImplementedError

    def label(self, code: str) -> str:
        """How one code is named to people."""
        raise NotImplementedError

    def pieces(self, item: str) -> list[str]:
        """One posted text split into the pieces people meant."""
        return [piece.strip() for piece in SEPARATOR.split(item) if piece.strip()]

    def codes_of(self, field: Field, pieces: list[str]) -> list[str]:
        """The pieces as codes, in order. A kind may read several pieces as one."""
        return [self.resolve(field, piece) for piece in pieces]

    def parse_list(self, field: Field, raw: str | Sequence[str]) -> list[str] | None:
        """Every piece of the answer as a code, in the order given, each once."""
        items = [raw] if isinstance(raw, str) else [str(item) for item in raw]
        if sum(len(item) for item in items) > MAX_INPUT:
            raise AnswerError(
                f"That is too long for {label_in_sentence(field)}. "
                f"Choose at most {self.most} {self.unit}.",
                field.id,
            )
        pieces = [piece for item in items for piece in self.pieces(item)]
        if len(pieces) > self.most:
            raise AnswerError(
                f"Choose at most {self.most} {self.unit} for {label_in_sentence(field)}. "
                + self.broader_hint,
                field.id,
            )
        return list(dict.fromkeys(self.codes_of(field, pieces))) or None

    def parse_raw(self, field: Field, raw: str | list[str] | None) -> Any:
        if raw is None or is_blank(raw):
            return None
        return self.parse_list(field, raw)

    def parse(self, field: Field, text: str) -> list[str] | None:
        return self.parse_list(field, text)

    def format(self, field: Field, value: Any) -> str:
        return self.joiner.join(self.label(code) for code in as_list(value))

    def raw(self, field: Field, value: Any) -> list[str]:
        return as_list(value)

    def export_value(self, field: Field, value: Any) -> tuple[str, ...]:
        return tuple(self.label(code) for code in as_list(value))

    def summary_option(self, value: Any) -> str | None:
        return None
