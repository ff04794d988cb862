"""Places, stored as ONS GSS codes: "Leeds, LS6 1AA, Lancashire" -> three codes.

People type council names or postcodes (in chat, in a Slack or Teams text box, or in the
web form's search box) and tick places already chosen; every door posts that text or
those codes back here. An answer is stored only when every piece names exactly one
place: a piece that could mean two places, or none, is an error that names the
candidates, so nobody's area is silently dropped or guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.areas import Area, area_label, find_areas, near_areas, typed_label
from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import AnswerError, is_blank, label_in_sentence
from bot.core.forms.model import Field, FieldType

_SEPARATOR = re.compile(r"[,;\n]+")
#: ONS writes "Bristol, City of"; that comma does not start a new place.
_NAME_SUFFIX = re.compile(r",\s*((?:city|county) of)\s*(?=$|[,;\n])", re.IGNORECASE)
#: More places than this in one answer is a paste gone wrong, not a real answer.
MAX_AREAS = 60
_MAX_INPUT = 4000


def _names(areas: Sequence[Area]) -> str:
    """'Leeds, Bradford or Wakefield'."""
    labels = [typed_label(a.code) for a in areas]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 40 else shown[:37] + "..."


def resolve_area(field: Field, piece: str) -> str:
    """One typed piece -> one code, or an AnswerError that says what to do next."""
    found = find_areas(piece)
    if len(found.areas) == 1:
        return found.areas[0].code
    if found.areas:
        if found.by_postcode:
            raise AnswerError(
                f"Postcode area {_shown(piece).upper()} is in more than one council: "
                f"{_names(found.areas)}. Type the council's name instead.",
                field.id,
            )
        raise AnswerError(
            f"'{_shown(piece)}' could be {_names(found.areas)}. Type the one you mean.",
            field.id,
        )
    near = near_areas(piece, limit=4)
    if near:
        raise AnswerError(
            f"We could not find '{_shown(piece)}'. Did you mean {_names(near)}?", field.id
        )
    raise AnswerError(
        f"We could not find '{_shown(piece)}'. Type a council name, like Leeds, "
        "or a postcode, like LS6 1AA.",
        field.id,
    )


def parse_areas(field: Field, raw: str | Sequence[str]) -> list[str] | None:
    """Every piece of the answer as codes, in the order given, each once."""
    items = [raw] if isinstance(raw, str) else [str(item) for item in raw]
    if sum(len(item) for item in items) > _MAX_INPUT:
        raise AnswerError(
            f"That is too long for {label_in_sentence(field)}. Choose at most {MAX_AREAS} places.",
            field.id,
        )
    pieces = [
        p.strip()
        for item in items
        for p in _SEPARATOR.split(_NAME_SUFFIX.sub(r" \1", item))
        if p.strip()
    ]
    if len(pieces) > MAX_AREAS:
        raise AnswerError(
            f"Choose at most {MAX_AREAS} places for {label_in_sentence(field)}. A county "
            "covers all the councils in it.",
            field.id,
        )
    codes: list[str] = []
    start = 0
    while start < len(pieces):
        # Some names hold commas ("Bournemouth, Christchurch and Poole"): the longest run
        # of pieces that names one place wins, before each piece is read on its own.
        for span in (3, 2):
            joined = find_areas(", ".join(pieces[start : start + span]))
            if start + span <= len(pieces) and len(joined.areas) == 1 and not joined.by_postcode:
                codes.append(joined.areas[0].code)
                start += span
                break
        else:
            codes.append(resolve_area(field, pieces[start]))
            start += 1
    return list(dict.fromkeys(codes)) or None


@register
class Areas(FieldKind):
    """Several places, each a GSS code. Kept as a code list so matching never reads names."""

    type = FieldType.AREA
    cell = CellKind.TEXT
    # Places are too many to count one by one in a summary; it says how many answered.
    summary = SummaryKind.TEXT
    picked = True

    def example(self, field: Field) -> str:
        return "Leeds, LS6 1AA"

    def parse_raw(self, field: Field, raw: str | list[str] | None) -> Any:
        if raw is None or is_blank(raw):
            return None
        return parse_areas(field, raw)

    def parse(self, field: Field, text: str) -> list[str] | None:
        return parse_areas(field, text)

    def format(self, field: Field, value: Any) -> str:
        items = value if isinstance(value, list | tuple) else [value]
        return ", ".join(area_label(str(code)) for code in items)

    def raw(self, field: Field, value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        return [str(code) for code in items]

    def how_to_answer(self, field: Field) -> str:
        return (
            "Reply with council names or postcodes, separated by commas, like Leeds, LS6 1AA. "
            "A county covers every council in it."
        )

    def export_value(self, field: Field, value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(area_label(str(code)) for code in items)

    def summary_option(self, value: Any) -> str | None:
        return None
