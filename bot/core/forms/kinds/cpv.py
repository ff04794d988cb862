"""CPV codes, picked from the CPV 2008 list: "meals on wheels, 85311000" -> two codes.

People type words or codes (in chat, in a Slack or Teams text box, or in the web form's
search box) and tick codes already chosen; every door posts that text or those codes back
here. An answer is stored only when every piece names exactly one code: a piece that could
mean several codes, or none, is an error that names the nearest ones, so nobody's code is
silently dropped or guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.cpv import Cpv, cpv_label, find_cpv, search_cpv
from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import AnswerError, is_blank, label_in_sentence
from bot.core.forms.model import Field, FieldType

_SEPARATOR = re.compile(r"[,;\n]+")
#: More codes than this in one answer is a paste gone wrong: a broader code covers the
#: narrower ones inside it.
MAX_CODES = 40
_MAX_INPUT = 4000


def _names(codes: Sequence[Cpv]) -> str:
    """'85310000-5 Social work services, 85300000-2 ... or 85312000-9 ...'."""
    labels = [code.shown for code in codes]
    if len(labels) == 1:
        return labels[0]
    return "; ".join(labels[:-1]) + " or " + labels[-1]


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 40 else shown[:37] + "..."


def resolve_cpv(field: Field, piece: str) -> str:
    """One typed piece -> one code, or an AnswerError that says what to do next."""
    found = find_cpv(piece)
    if found.wrong_check:
        right = found.codes[0]
        raise AnswerError(
            f"The last digit of '{_shown(piece)}' does not fit: the code is {right.shown}. "
            "Check the code, or type it without the last digit.",
            field.id,
        )
    if len(found.codes) == 1:
        return found.codes[0].code
    if found.codes:
        raise AnswerError(
            f"'{_shown(piece)}' could be {_names(found.codes[:4])}. "
            "Type the code of the one you mean.",
            field.id,
        )
    if found.by_code:
        raise AnswerError(
            f"There is no CPV code {_shown(piece)}. Type 8 digits, like 85311000, or words, "
            "like meals on wheels.",
            field.id,
        )
    near = search_cpv(piece, limit=4)
    if near:
        raise AnswerError(
            f"We could not find '{_shown(piece)}'. Did you mean {_names(near)}? "
            "Type the code of the one you mean.",
            field.id,
        )
    raise AnswerError(
        f"We could not find '{_shown(piece)}'. Type words, like meals on wheels, "
        "or a code, like 85311000.",
        field.id,
    )


def parse_cpv(field: Field, raw: str | Sequence[str]) -> list[str] | None:
    """Every piece of the answer as 8-digit codes, in the order given, each once."""
    items = [raw] if isinstance(raw, str) else [str(item) for item in raw]
    if sum(len(item) for item in items) > _MAX_INPUT:
        raise AnswerError(
            f"That is too long for {label_in_sentence(field)}. Choose at most {MAX_CODES} codes.",
            field.id,
        )
    pieces = [p.strip() for item in items for p in _SEPARATOR.split(item) if p.strip()]
    if len(pieces) > MAX_CODES:
        raise AnswerError(
            f"Choose at most {MAX_CODES} codes for {label_in_sentence(field)}. A broader code "
            "covers all the codes inside it.",
            field.id,
        )
    codes = [resolve_cpv(field, piece) for piece in pieces]
    return list(dict.fromkeys(codes)) or None


@register
class CpvCodes(FieldKind):
    """Several CPV codes, kept as 8-digit codes so matching compares codes, never words."""

    type = FieldType.CPV
    cell = CellKind.TEXT
    # Codes are too many to count one by one in a summary; it says how many answered.
    summary = SummaryKind.TEXT
    picked = True

    def example(self, field: Field) -> str:
        return "meals on wheels, 85311000"

    def parse_raw(self, field: Field, raw: str | list[str] | None) -> Any:
        if raw is None or is_blank(raw):
            return None
        return parse_cpv(field, raw)

    def parse(self, field: Field, text: str) -> list[str] | None:
        return parse_cpv(field, text)

    def format(self, field: Field, value: Any) -> str:
        items = value if isinstance(value, list | tuple) else [value]
        return "; ".join(cpv_label(str(code)) for code in items)

    def raw(self, field: Field, value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        return [str(code) for code in items]

    def how_to_answer(self, field: Field) -> str:
        return (
            "Reply with what you do in a few words, or CPV codes, separated by commas, "
            "like meals on wheels, 85311000. A broader code covers the codes inside it."
        )

    def export_value(self, field: Field, value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(cpv_label(str(code)) for code in items)

    def summary_option(self, value: Any) -> str | None:
        return None
