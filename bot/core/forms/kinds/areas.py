"""Places, stored as ONS GSS codes: "Leeds, LS6 1AA, Lancashire" -> three codes.

Read as every picked-code kind is (`picked.PickedCodes`); what is particular to places:
a postcode may name several councils, and some council names hold commas.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.areas import Area, area_label, find_areas, near_areas, typed_label
from bot.core.forms.kinds.base import register
from bot.core.forms.kinds.common import AnswerError
from bot.core.forms.kinds.picked import SEPARATOR, PickedCodes, shown
from bot.core.forms.model import Field, FieldType

#: ONS writes "Bristol, City of"; that comma does not start a new place.
_NAME_SUFFIX = re.compile(r",\s*((?:city|county) of)\s*(?=$|[,;\n])", re.IGNORECASE)
#: More places than this in one answer is a paste gone wrong, not a real answer.
MAX_AREAS = 60


def _names(areas: Sequence[Area]) -> str:
    """'Leeds, Bradford or Wakefield'."""
    labels = [typed_label(a.code) for a in areas]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def resolve_area(field: Field, piece: str) -> str:
    """One typed piece -> one code, or an AnswerError that says what to do next."""
    found = find_areas(piece)
    if len(found.areas) == 1:
        return found.areas[0].code
    if found.areas:
        if found.by_postcode:
            raise AnswerError(
                f"Postcode area {shown(piece).upper()} is in more than one council: "
                f"{_names(found.areas)}. Type the council's name instead.",
                field.id,
            )
        raise AnswerError(
            f"'{shown(piece)}' could be {_names(found.areas)}. Type the one you mean.",
            field.id,
        )
    near = near_areas(piece, limit=4)
    if near:
        raise AnswerError(
            f"We could not find '{shown(piece)}'. Did you mean {_names(near)}?", field.id
        )
    raise AnswerError(
        f"We could not find '{shown(piece)}'. Type a council name, like Leeds, "
        "or a postcode, like LS6 1AA.",
        field.id,
    )


@register
class Areas(PickedCodes):
    """Several places, each a GSS code. Kept as a code list so matching never reads names."""

    type = FieldType.AREA
    most = MAX_AREAS
    unit = "places"
    broader_hint = "A county covers all the councils in it."

    def resolve(self, field: Field, piece: str) -> str:
        return resolve_area(field, piece)

    def label(self, code: str) -> str:
        return area_label(code)

    def pieces(self, item: str) -> list[str]:
        return [p.strip() for p in SEPARATOR.split(_NAME_SUFFIX.sub(r" \1", item)) if p.strip()]

    def codes_of(self, field: Field, pieces: list[str]) -> list[str]:
        codes: list[str] = []
        start = 0
        while start < len(pieces):
            # Some names hold commas ("Bournemouth, Christchurch and Poole"): the longest
            # run of pieces that names one place wins, before each piece is read on its own.
            for span in (3, 2):
                joined = find_areas(", ".join(pieces[start : start + span]))
                if (
                    start + span <= len(pieces)
                    and len(joined.areas) == 1
                    and not joined.by_postcode
                ):
                    codes.append(joined.areas[0].code)
                    start += span
                    break
            else:
                codes.append(self.resolve(field, pieces[start]))
                start += 1
        return codes

    def example(self, field: Field) -> str:
        return "Leeds, LS6 1AA"

    def how_to_answer(self, field: Field) -> str:
        return (
            "Reply with council names or postcodes, separated by commas, like Leeds, LS6 1AA. "
            "A county covers every council in it."
        )
