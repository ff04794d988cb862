"""Places as ONS GSS codes: councils, counties and nations, and which council a postcode is in.

Matching providers to engagements by typed place names dropped invitations whenever two
people spelt a place differently ("St Helens" and "St. Helens"): an equal-treatment risk.
Every place is now stored as its GSS code, and this module is the one place that turns
what people type (a council name, a postcode, a code) into codes and codes back into names.

The data is ``areas.json`` beside this file, built by ``scripts/build_areas.py`` from
ONS-derived packages (Open Government Licence v3.0; see the README). A postcode is
looked up by its *sector* ("LS6 1AA" -> "LS6 1"): the full postcode file is 8 MB, and a
sector that crosses a council boundary is reported as such rather than guessed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "Area",
    "AreaLookup",
    "all_areas",
    "ancestors",
    "area",
    "area_label",
    "attribution",
    "code_for_words",
    "descendants",
    "find_areas",
    "near_areas",
    "overlapping",
    "postcode_sector",
    "split_chosen",
    "typed_label",
    "typed_text",
]

#: A GSS code on its own, or as we show a place the data has no name for.
_CODE = re.compile(r"^(?:council area\s+)?([EWSN]\d{8})$", re.IGNORECASE)
#: A UK postcode, a sector ("LS6 1") or a district ("LS6"), spaces optional.
_POSTCODE = re.compile(
    r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(?:(\d)(?:\s*([A-Z]{2}))?)?$",
    re.IGNORECASE,
)
_NAME_SUFFIX = re.compile(r"^(.*),\s*(city|county) of$", re.IGNORECASE)


@dataclass(frozen=True)
class Area:
    """One place: a council (district or unitary), a county or a nation."""

    code: str
    name: str | None
    parent: str | None

    @property
    def label(self) -> str:
        """The name people read; a code our data has no name for is still shown usefully."""
        return self.name or f"Council area {self.code}"

    @property
    def kind(self) -> str:
        """'council', 'county' or 'nation', from the code's GSS entity."""
        if self.code[1:3] == "92":
            return "nation"
        if self.code.startswith("E10"):
            return "county"
        return "council"


@dataclass(frozen=True)
class AreaLookup:
    """What one typed piece found: the places it could mean, and how it was read."""

    text: str
    areas: tuple[Area, ...]
    by_postcode: bool = False


def _normalise(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("st.", "st ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


@cache
def _data() -> dict[str, Any]:
    raw = resources.files(__package__).joinpath("areas.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


@cache
def _areas() -> dict[str, Area]:
    return {
        code: Area(code=code, name=name, parent=parent)
        for code, (name, parent) in _data()["areas"].items()
    }


@cache
def _children() -> dict[str, tuple[str, ...]]:
    children: dict[str, list[str]] = {}
    for item in _areas().values():
        if item.parent:
            children.setdefault(item.parent, []).append(item.code)
    return {parent: tuple(codes) for parent, codes in children.items()}


@cache
def _by_name() -> dict[str, tuple[str, ...]]:
    """Normalised name -> codes. 'Bristol, City of' is also 'City of Bristol' and 'Bristol'."""
    names: dict[str, list[str]] = {}
    for item in _areas().values():
        if not item.name:
            continue
        keys = {_normalise(item.name)}
        suffixed = _NAME_SUFFIX.match(item.name)
        if suffixed:
            keys |= {
                _normalise(suffixed[1]),
                _normalise(f"{suffixed[2]} of {suffixed[1]}"),
            }
        for key in keys:
            names.setdefault(key, []).append(item.code)
    return {key: tuple(codes) for key, codes in names.items()}


@cache
def _districts_by_outward() -> dict[str, tuple[str, ...]]:
    outward: dict[str, list[str]] = {}
    for sector, codes in _data()["sectors"].items():
        found = outward.setdefault(sector.split(" ")[0], [])
        found.extend(code for code in codes.split(" ") if code not in found)
    return {key: tuple(codes) for key, codes in outward.items()}


def attribution() -> str:
    """The Open Government Licence attribution, and the data's source and build date."""
    data = _data()
    return f"{data['licence']} {data['source']} (built {data['built']})."


def all_areas() -> list[Area]:
    """Every place, councils and counties by name, then the nations."""
    return sorted(_areas().values(), key=lambda a: (a.kind == "nation", a.label.lower()))


def area(code: str) -> Area | None:
    return _areas().get(code.strip().upper())


def area_label(code: str) -> str:
    """A stored code as people read it; a code no longer in the data is shown as it is."""
    found = area(code)
    return found.label if found else code


def typed_label(code: str) -> str:
    """A code as someone would type it in a comma-separated list: 'City of Bristol', not
    'Bristol, City of', so pre-filled text boxes read back as the same places."""
    label = area_label(code)
    suffixed = _NAME_SUFFIX.match(label)
    if suffixed:
        label = f"{suffixed[2].title()} of {suffixed[1]}"
    return label.replace(",", "")


def split_chosen(value: object) -> tuple[list[str], str]:
    """A widget's value (stored codes, or what was posted back with an error) as the
    codes already chosen and the text still being typed."""
    items = value if isinstance(value, list | tuple) else [value] if value else []
    codes: list[str] = []
    typed: list[str] = []
    for item in items:
        text = str(item).strip()
        if area(text) is not None:
            codes.append(text.upper())
        elif text:
            typed.append(text)
    return list(dict.fromkeys(codes)), ", ".join(typed)


def typed_text(value: object) -> str:
    """A widget's value as one line of text to pre-fill a chat door's text box."""
    codes, typed = split_chosen(value)
    return ", ".join([*(typed_label(code) for code in codes), *([typed] if typed else [])])


def ancestors(code: str) -> list[str]:
    """The county and nation a place is in, nearest first."""
    found: list[str] = []
    current = area(code)
    while current is not None and current.parent and current.parent not in found:
        found.append(current.parent)
        current = area(current.parent)
    return found


def descendants(code: str) -> list[str]:
    """Every place inside this one (a county's councils; a nation's counties and councils)."""
    found: list[str] = []
    waiting = list(_children().get(code, ()))
    while waiting:
        child = waiting.pop()
        if child not in found:
            found.append(child)
            waiting.extend(_children().get(child, ()))
    return found


def overlapping(codes: list[str] | tuple[str, ...] | set[str]) -> set[str]:
    """Every code whose place shares ground with one of these: itself, what it is inside
    and what is inside it. Two councils side by side do not overlap."""
    wanted: set[str] = set()
    for code in codes:
        wanted.add(code)
        wanted.update(ancestors(code))
        wanted.update(descendants(code))
    return wanted


def postcode_sector(text: str) -> tuple[str, str | None] | None:
    """'ls61aa' -> ('LS6', '1'); 'LS6' -> ('LS6', None); None if it is not postcode-shaped."""
    match = _POSTCODE.match(text.strip())
    if not match:
        return None
    return match[1].upper(), match[2]


def _by_postcode(text: str) -> tuple[Area, ...] | None:
    shape = postcode_sector(text)
    if shape is None:
        return None
    outward, digit = shape
    if digit is None:
        codes: tuple[str, ...] = _districts_by_outward().get(outward, ())
    else:
        codes = tuple((_data()["sectors"].get(f"{outward} {digit}") or "").split())
    return tuple(a for a in (area(code) for code in codes) if a is not None)


def find_areas(text: str) -> AreaLookup:
    """The places a typed piece names exactly: a GSS code, a postcode, or a place name.

    More than one place means the person must choose (a postcode sector across a council
    boundary, or a name shared by two places); none means we did not recognise it.
    """
    cleaned = " ".join(text.split())
    code = _CODE.match(cleaned)
    if code and area(code[1]) is not None:
        return AreaLookup(cleaned, (_areas()[code[1].upper()],))
    by_postcode = _by_postcode(cleaned)
    if by_postcode is not None and by_postcode:
        return AreaLookup(cleaned, by_postcode, by_postcode=True)
    codes = _by_name().get(_normalise(cleaned), ())
    return AreaLookup(cleaned, tuple(_areas()[c] for c in codes))


def near_areas(text: str, limit: int = 8) -> list[Area]:
    """Places whose names start with, contain or look like what was typed, best first:
    the search behind every door's list, and the suggestions in an error message."""
    wanted = _normalise(text)
    if not wanted:
        return []
    exact = find_areas(text)
    found: list[str] = [a.code for a in exact.areas]
    names = _by_name()
    for key in sorted(names):
        if key.startswith(wanted):
            found.extend(names[key])
    for key in sorted(names):
        if wanted in key:
            found.extend(names[key])
    for key in difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.75):
        found.extend(names[key])
    ordered = list(dict.fromkeys(found))[:limit]
    return [_areas()[code] for code in ordered]


def code_for_words(text: str) -> tuple[str | None, str]:
    """Free text saved before areas were codes -> (code, "") or (None, why not).

    Used by the migration: it never guesses, so a name that fits two places, or none,
    is reported for a person to fix rather than matched to the wrong place.
    """
    found = find_areas(text)
    if len(found.areas) == 1:
        return found.areas[0].code, ""
    if found.areas:
        return None, "could be " + " or ".join(a.label for a in found.areas)
    near = near_areas(text, limit=3)
    if near:
        return None, "no place by that name; near: " + ", ".join(a.label for a in near)
    return None, "no council, county or postcode by that name"
