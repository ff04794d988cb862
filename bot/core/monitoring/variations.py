"""Variations to an agreement, added up against what was awarded.

Variations are normal (Plymouth's alliance contract had 64 in five years), so the team
needs to see, after each one, how far the agreement has moved from its original value and
term, and whether this change needs a contract change notice (UK10). The legal tests are
`bot.core.law.modifications` (s.74, Sch. 8, s.75); this module only keeps the running
totals and asks those tests, once per variation.

Which earlier variations "could reasonably have been made together" with a new one
(s.75(4)) is a person's judgement: each variation names them (`linked_with`). The totals
also say when all the changes so far, taken as one, would be beyond the limits, as a
prompt to ask that question, never as a decision. Grants are not public contracts and
light-touch contracts never need a change notice (s.75(6)(b)): neither is ever told to
publish one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.core.law.modifications import (
    AwardedContract,
    Modification,
    changes_term_substantially,
    needs_change_notice,
)
from bot.core.law.thresholds import Money


@dataclass(frozen=True)
class Variation:
    """One agreed change: pounds (signed) and days of term (signed); `linked_with` are the
    positions (from 0) of earlier variations a person judged could have been made with it."""

    value_change: Money = 0
    term_change_days: int = 0
    corporate_restructuring: bool = False
    linked_with: frozenset[int] = frozenset()

    @property
    def modification(self) -> Modification:
        return Modification(self.value_change, self.term_change_days, self.corporate_restructuring)


@dataclass(frozen=True)
class RunningTotal:
    """Where the agreement stands after one variation and every one before it."""

    variation: Variation
    value: Decimal
    value_change: Decimal
    value_change_percent: Decimal
    term_days: int
    term_change_days: int
    term_change_percent: Decimal
    #: This variation needs a contract change notice before it is made (s.75).
    change_notice_required: bool
    #: This variation, with those linked to it, moves the term by more than 10% (s.74(2)).
    substantial_term_change: bool
    #: All changes so far, taken as one, would need a notice: ask whether they are linked.
    together_beyond_limits: bool


def _percent(part: Decimal | int, whole: Decimal | int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def running_totals(
    award: AwardedContract, variations: Sequence[Variation], grant: bool = False
) -> list[RunningTotal]:
    """The running totals after each variation, in order, against the value and the
    longest term on award (percentages to two places; changes count whichever way they
    go, as the law's tests do, but the totals keep their sign)."""
    totals: list[RunningTotal] = []
    value_change, term_change = Decimal(0), 0
    for position, variation in enumerate(variations):
        if any(not 0 <= i < position for i in variation.linked_with):
            raise ValueError("a variation can only be linked with earlier ones")
        linked = [variations[i].modification for i in sorted(variation.linked_with)]
        value_change += Decimal(variation.value_change)
        term_change += variation.term_change_days
        so_far = Modification(
            value_change,
            term_change,
            any(v.corporate_restructuring for v in variations[: position + 1]),
        )
        totals.append(
            RunningTotal(
                variation=variation,
                value=Decimal(award.value) + value_change,
                value_change=value_change,
                value_change_percent=_percent(value_change, award.value),
                term_days=award.max_term_days + term_change,
                term_change_days=term_change,
                term_change_percent=_percent(term_change, award.max_term_days),
                change_notice_required=not grant
                and needs_change_notice(award, variation.modification, linked),
                substantial_term_change=changes_term_substantially(
                    award, variation.modification, linked
                ),
                together_beyond_limits=not grant and needs_change_notice(award, so_far),
            )
        )
    return totals
