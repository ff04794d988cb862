"""CPV codes, picked from the CPV 2008 list: "meals on wheels, 85311000" -> two codes.

Read as every picked-code kind is (`picked.PickedCodes`); what is particular to CPV: a
code's check digit may be wrong, and words may match several codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.cpv import Cpv, cpv_label, find_cpv, search_cpv
from bot.core.forms.kinds.base import register
from bot.core.forms.kinds.common import AnswerError
from bot.core.forms.kinds.picked import PickedCodes, shown
from bot.core.forms.model import Field, FieldType

#: More codes than this in one answer is a paste gone wrong: a broader code covers the
#: narrower ones inside it.
MAX_CODES = 40


def _names(codes: Sequence[Cpv]) -> str:
    """'85310000-5 Social work services, 85300000-2 ... or 85312000-9 ...'."""
    labels = [code.shown for code in codes]
    if len(labels) == 1:
        return labels[0]
    return "; ".join(labels[:-1]) + " or " + labels[-1]


def resolve_cpv(field: Field, piece: str) -> str:
    """One typed piece -> one code, or an AnswerError that says what to do next."""
    found = find_cpv(piece)
    if found.wrong_check:
        right = found.codes[0]
        raise AnswerError(
            f"The last digit of '{shown(piece)}' does not fit: the code is {right.shown}. "
            "Check the code, or type it without the last digit.",
            field.id,
        )
    if len(found.codes) == 1:
        return found.codes[0].code
    if found.codes:
        raise AnswerError(
            f"'{shown(piece)}' could be {_names(found.codes[:4])}. "
            "Type the code of the one you mean.",
            field.id,
        )
    if found.by_code:
        raise AnswerError(
            f"There is no CPV code {shown(piece)}. Type 8 digits, like 85311000, or words, "
            "like meals on wheels.",
            field.id,
        )
    near = search_cpv(piece, limit=4)
    if near:
        raise AnswerError(
            f"We could not find '{shown(piece)}'. Did you mean {_names(near)}? "
            "Type the code of the one you mean.",
            field.id,
        )
    raise AnswerError(
        f"We could not find '{shown(piece)}'. Type words, like meals on wheels, "
        "or a code, like 85311000.",
        field.id,
    )


@register
class CpvCodes(PickedCodes):
    """Several CPV codes, kept as 8-digit codes so matching compares codes, never words."""

    type = FieldType.CPV
    most = MAX_CODES
    unit = "codes"
    broader_hint = "A broader code covers all the codes inside it."
    joiner = "; "

    def resolve(self, field: Field, piece: str) -> str:
        return resolve_cpv(field, piece)

    def label(self, code: str) -> str:
        return cpv_label(code)

    def example(self, field: Field) -> str:
        return "meals on wheels, 85311000"

    def how_to_answer(self, field: Field) -> str:
        return (
            "Reply with what you do in a few words, or CPV codes, separated by commas, "
            "like meals on wheels, 85311000. A broader code covers the codes inside it."
        )
