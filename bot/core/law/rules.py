"""Legal rules as dated data: load `rules.toml`, look a rule up by name and date.

Legal figures change (thresholds every two years), and a procurement keeps the figures in
force on the day it started. So no code in Convene writes a figure down: it asks
`rule(name, on=the procurement's start date)`. The file ships in the package and is read
with importlib.resources, so an installed wheel finds it too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Any

#: A rule's value: money in whole pounds, days, per cent, years, a count; a yes or no; a
#: notice code.
RuleValue = int | bool | str

UNITS = frozenset(
    {
        "pounds",
        "days",
        "working days",
        "per cent",
        "years",
        "months",
        "count",
        "yes or no",
        "notice",
    }
)
_FIELDS = frozenset({"name", "value", "unit", "vat", "starts", "ends", "citation", "description"})


class LawError(LookupError):
    """A rule Convene cannot answer: an unknown name, or a date no entry covers."""


class UnknownRule(LawError):
    """No rule has this name: a typo in code, never something a person typed."""


class NoRuleOnDate(LawError):
    """The rule exists, but no entry covers the date asked about."""


@dataclass(frozen=True)
class Rule:
    """One dated entry of a legal rule: its figure, and the law that sets it."""

    name: str
    value: RuleValue
    unit: str
    starts: date
    citation: str
    description: str
    ends: date | None = None
    #: Money only: the VAT basis ("including VAT").
    vat: str | None = None

    def covers(self, on: date) -> bool:
        """Whether a procurement started `on` uses this entry."""
        return self.starts <= on and (self.ends is None or on <= self.ends)


def _entry(raw: dict[str, Any], where: str) -> Rule:
    """One `[[rule]]` table as a Rule, refusing anything incomplete or of the wrong type."""
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    for needed in ("name", "value", "unit", "starts", "citation", "description"):
        if needed not in raw:
            raise ValueError(f"{where}: {needed!r} is missing")
    name, value, unit = raw["name"], raw["value"], raw["unit"]
    starts, ends = raw["starts"], raw.get("ends")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: the name must be text")
    if not isinstance(value, int | str) or isinstance(value, float):
        raise ValueError(f"{where} ({name}): the value must be a whole number, yes/no or text")
    if unit not in UNITS:
        raise ValueError(f"{where} ({name}): unknown unit {unit!r}")
    if (unit == "yes or no") != isinstance(value, bool):
        raise ValueError(f"{where} ({name}): a 'yes or no' rule needs true or false")
    if (unit == "notice") != isinstance(value, str):
        raise ValueError(f"{where} ({name}): only a 'notice' rule has a text value")
    if unit == "pounds" and not raw.get("vat"):
        raise ValueError(f"{where} ({name}): money needs its VAT basis (vat = ...)")
    for label, day in (("starts", starts), ("ends", ends)):
        if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
            raise ValueError(f"{where} ({name}): {label} must be a date like 2025-02-24")
    if ends is not None and ends < starts:
        raise ValueError(f"{where} ({name}): it ends before it starts")
    for label in ("citation", "description"):
        if not isinstance(raw[label], str) or not raw[label].strip():
            raise ValueError(f"{where} ({name}): {label} must not be empty")
    return Rule(
        name=name,
        value=value,
        unit=unit,
        starts=starts,
        ends=ends,
        citation=raw["citation"],
        description=raw["description"],
        vat=raw.get("vat"),
    )


def _check_no_overlaps(rules: Iterable[Rule]) -> None:
    """Two entries of one rule covering the same day would make the answer depend on
    their order in the file."""
    by_name: dict[str, list[Rule]] = {}
    for entry in rules:
        by_name.setdefault(entry.name, []).append(entry)
    for name, entries in by_name.items():
        entries.sort(key=lambda r: r.starts)
        for earlier, later in pairwise(entries):
            if earlier.ends is None or earlier.ends >= later.starts:
                raise ValueError(
                    f"{name}: the entry from {earlier.starts} overlaps the one from {later.starts}"
                )


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules from the text of a rules file, checked: every field there, no overlaps."""
    data = tomllib.loads(text)
    raws = data.get("rule")
    if not isinstance(raws, list) or not raws:
        raise ValueError("the rules file has no [[rule]] entries")
    rules = tuple(_entry(raw, f"rule {n}") for n, raw in enumerate(raws, start=1))
    _check_no_overlaps(rules)
    return rules


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every entry in the shipped rules file, in the file's order."""
    return parse_rules(files(__package__).joinpath("rules.toml").read_text(encoding="utf-8"))


def rule_names() -> list[str]:
    """Each rule's name once, in the file's order."""
    return list(dict.fromkeys(r.name for r in all_rules()))


def _a_day(on: date) -> date:
    """Rules are dated by day. A datetime would silently take its UTC day, which can be
    the wrong day in London, so callers pass the procurement's start date itself."""
    if isinstance(on, datetime) or not isinstance(on, date):
        raise TypeError("pass the procurement's start date as a date, not a time")
    return on


def rule(name: str, on: date) -> Rule:
    """The entry of rule `name` in force for a procurement started `on`."""
    on = _a_day(on)
    entries = [r for r in all_rules() if r.name == name]
    if not entries:
        raise UnknownRule(f"Convene has no legal rule called {name!r}.")
    for entry in entries:
        if entry.covers(on):
            return entry
    first = min(r.starts for r in entries)
    raise NoRuleOnDate(
        f"Convene has no figure for {name!r} for a procurement started on "
        f"{on:%A} {on.day} {on:%B %Y}. Its first entry starts on "
        f"{first:%A} {first.day} {first:%B %Y}."
    )


def rules_in_force(on: date) -> list[Rule]:
    """Every rule in force for a procurement started `on`, in the file's order."""
    on = _a_day(on)
    return [r for r in all_rules() if r.covers(on)]


def whole_number(name: str, on: date) -> int:
    """A rule whose value is a number (pounds, days, per cent, a count)."""
    value = rule(name, on).value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"the rule {name!r} is not a number")
    return value


def yes_or_no(name: str, on: date) -> bool:
    """A rule whose value is true or false."""
    value = rule(name, on).value
    if not isinstance(value, bool):
        raise TypeError(f"the rule {name!r} is not a yes or no")
    return value


def notice_code(name: str, on: date) -> str:
    """A rule naming a Find a Tender notice (UK4)."""
    value = rule(name, on).value
    if not isinstance(value, str):
        raise TypeError(f"the rule {name!r} is not a notice")
    return value
