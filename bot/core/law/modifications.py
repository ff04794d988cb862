"""Changing a contract: the value and term tests of s.74 and Schedule 8, and when a
contract change notice is needed (s.75).

Only the figures are tested here. Whether a change would materially alter the contract's
scope, economic balance or overall nature, and whether a Schedule 8 ground applies, are a
person's judgement; so is which earlier changes "could reasonably have been made
together" with this one (s.75(4)(a)): the caller passes those.

Percentages are of the contract's estimated value on award and of the longest term
provided for on award. Changes are signed: a decrease counts as much as an increase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.core.law.rules import whole_number, yes_or_no
from bot.core.law.thresholds import ContractKind, Money, threshold_for


@dataclass(frozen=True)
class AwardedContract:
    """A public contract as awarded. `started_on` is when its procurement started: the
    rules in force then apply for its whole life."""

    value: Money
    max_term_days: int
    started_on: date
    works: bool = False
    light_touch: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or Decimal(self.value) <= 0:
            raise ValueError("a contract's value on award must be more than £0")
        if self.max_term_days <= 0:
            raise ValueError("a contract's term must be at least a day")

    @property
    def kind(self) -> ContractKind:
        if self.light_touch:
            return "light_touch"
        return "works" if self.works else "goods_services"


@dataclass(frozen=True)
class Modification:
    """One change: how much it moves the value (pounds, signed) and the term (days,
    signed), and whether it is a novation or assignment on corporate restructuring
    (Schedule 8 paragraph 9)."""

    value_change: Money = 0
    term_change_days: int = 0
    corporate_restructuring: bool = False


def _together(changes: Iterable[Modification]) -> Modification:
    """Several changes treated as one: their value and term changes added up."""
    listed = list(changes)
    return Modification(
        value_change=sum((Decimal(c.value_change) for c in listed), Decimal(0)),
        term_change_days=sum(c.term_change_days for c in listed),
        corporate_restructuring=any(c.corporate_restructuring for c in listed),
    )


def value_percent_limit(contract: AwardedContract) -> int:
    """10% for goods or services, 15% for works (s.74(1)(c), s.75(2)(a))."""
    name = "modification.works_percent" if contract.works else "modification.goods_services_percent"
    return whole_number(name, contract.started_on)


def _value_within(contract: AwardedContract, change: Modification) -> bool:
    return abs(Decimal(change.value_change)) * 100 <= value_percent_limit(contract) * Decimal(
        contract.value
    )


def _term_within(contract: AwardedContract, change: Modification) -> bool:
    limit = whole_number("modification.term_percent", contract.started_on)
    return abs(change.term_change_days) * 100 <= limit * contract.max_term_days


def changes_term_substantially(
    contract: AwardedContract, change: Modification, linked_earlier: Iterable[Modification] = ()
) -> bool:
    """Whether the change (with earlier changes that should have been made with it) moves
    the term by more than 10% of the longest term on award: a substantial modification
    (s.74(2)), allowed only on a Schedule 8 ground."""
    return not _term_within(contract, _together([change, *linked_earlier]))


def _notice_for_one(contract: AwardedContract, change: Modification) -> bool:
    """s.75(1)-(2) for a single change: a notice unless it is within the value limit and
    the term limit, and never excused for a corporate restructuring (Sch. 8 para 9).

    s.75(2) excuses a change within (a) the value limit or (b) the term limit. A change
    that moves both is read cautiously: it is excused only when both moves are within
    their limits, so Convene never tells a council a notice is not needed when it is.
    """
    if change.corporate_restructuring and yes_or_no(
        "modification.restructuring_always_notified", contract.started_on
    ):
        return True
    return not (_value_within(contract, change) and _term_within(contract, change))


def needs_change_notice(
    contract: AwardedContract, change: Modification, linked_earlier: Iterable[Modification] = ()
) -> bool:
    """Whether a contract change notice (UK10) must be published before making the change.

    Never for a light-touch contract (s.75(6)(b)). Otherwise a notice unless the change
    is within 10% of value (15% works) and 10% of term (s.75(2)); and a small change is
    added to the earlier changes it could reasonably have been made with: if together they
    would have needed a notice, this one does (s.75(4)-(5)). Grants are not public
    contracts, so callers never ask this of one.
    """
    if contract.light_touch and not yes_or_no(
        "modification.light_touch_change_notice", contract.started_on
    ):
        return False
    if _notice_for_one(contract, change):
        return True
    linked = list(linked_earlier)
    if linked and yes_or_no("modification.aggregate_linked_changes", contract.started_on):
        return _notice_for_one(contract, _together([change, *linked]))
    return False


def modification_allowed_by_value(
    contract: AwardedContract,
    change: Modification,
    earlier_below_threshold: Iterable[Modification] = (),
) -> bool:
    """Whether the change is a below-threshold modification (s.74(1)(c), (4)), allowed on
    its value alone: with the earlier below-threshold modifications added to it, it moves
    the value by no more than 10% (15% works) and by less than the threshold amount.

    A light-touch contract may be changed freely (s.74; Cabinet Office guidance). A change
    that fails this may still be allowed on a Schedule 8 ground, or as not substantial:
    a person decides that.
    """
    on = contract.started_on
    if contract.light_touch and yes_or_no("modification.light_touch_free", on):
        return True
    total = _together([change, *earlier_below_threshold])
    moved = abs(Decimal(total.value_change))
    return _value_within(contract, total) and moved < threshold_for(contract.kind, on)


def must_publish_modified_contract(contract: AwardedContract) -> bool:
    """Whether the modified contract, or the modification, must be published: contracts
    worth more than £5m (s.77). Read cautiously: s.75(6)(b) frees light-touch contracts
    from the change notice only, so they are not excused here."""
    return Decimal(contract.value) > whole_number(
        "modification.publish_contract_over", contract.started_on
    )
