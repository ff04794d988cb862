"""CPV codes: the Common Procurement Vocabulary (CPV 2008) that notices use to say what is bought.

A commissioner codes an opportunity ("85311000-2 Social work services with accommodation")
and a provider says which codes its services fall under; matching compares codes, never
words, so "meals on wheels" and "Meals-on-wheels services" cannot miss each other. This
module is the one place that turns what people type (words, or a code with or without its
check digit) into codes and codes back into labels.

Codes are kept as their eight digits ("85311000"); the check digit is the data's, shown
with the label. The hierarchy is in the digits: the first two are the *division*, three the
*group*, four the *class*, five or more a *category*; trailing zeros mean "all of it". So
85300000 (social work and related services) covers 85311000 (with accommodation), and the
two overlap whichever side picked which.

The data is ``cpv.json`` beside this file, built by ``scripts/build_cpv.py`` (see the
README, "CPV data"). Pure functions; nothing here reads the database.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "COMMUNITY_DIVISIONS",
    "Cpv",
    "CpvLookup",
    "WidgetState",
    "attribution",
    "broader",
    "children",
    "community_suggestions",
    "cpv",
    "cpv_label",
    "find_cpv",
    "narrower",
    "overlapping",
    "overlaps",
    "parent",
    "search_cpv",
    "split_chosen",
    "stem",
    "typed_text",
    "widget_state",
]

#: Divisions most community services are commissioned under: health and social work,
#: education and training, other community services, hotels, restaurants and catering,
#: business services (advice, training, research), and recreation, culture and sport.
#: The suggestions people see are these divisions and their groups, read from the data.
COMMUNITY_DIVISIONS = ("85", "80", "98", "55", "79", "92")

#: A code as people type it: 2 to 8 digits (spaces allowed), then maybe "-" and the check
#: digit, then maybe the label they copied with it ("85311000-2 Social work ...").
_CODE = re.compile(r"^\s*(?:cpv\s*:?\s*)?((?:\d\s?){1,7}\d)(?:\s*-\s*(\d))?(?:\s+(.*))?$", re.I)
_STOP_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})
_LEVELS = {2: "division", 3: "group", 4: "class"}
#: A word in more than about one label in twelve says too little to suggest a code alone.
_COMMON_WORD_SCORE = 2.5


@dataclass(frozen=True)
class Cpv:
    """One code of the vocabulary."""

    code: str  # the eight digits, "85311000"
    check: str  # the check digit, "2"
    label: str  # "Social work services with accommodation"

    @property
    def full(self) -> str:
        """'85311000-2', as notices print it."""
        return f"{self.code}-{self.check}"

    @property
    def shown(self) -> str:
        """'85311000-2 Social work services with accommodation'."""
        return f"{self.full} {self.label}"

    @property
    def level(self) -> str:
        """'division', 'group', 'class' or 'category', from its significant digits."""
        return _LEVELS.get(len(stem(self.code)), "category")


@dataclass(frozen=True)
class CpvLookup:
    """What one typed piece found: the codes it could mean, and how it was read."""

    text: str
    codes: tuple[Cpv, ...]
    #: Typed as a code (digits), not words.
    by_code: bool = False
    #: Typed as a code whose check digit is not the code's: most often a slip in the digits.
    wrong_check: bool = False


def _normalise(text: str) -> str:
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def _stem_word(word: str) -> str:
    """'services' -> 'service', 'activities' -> 'activity': enough for labels and queries
    to meet on plurals without a language library."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_stem_word(w) for w in _normalise(text).split() if w not in _STOP_WORDS and len(w) > 1]


@cache
def _data() -> dict[str, Any]:
    raw = resources.files(__package__).joinpath("cpv.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


@cache
def _codes() -> dict[str, Cpv]:
    found: dict[str, Cpv] = {}
    for full, label in _data()["codes"].items():
        code, check = full.split("-")
        found[code] = Cpv(code=code, check=check, label=label)
    return found


@cache
def _labels() -> dict[str, tuple[str, ...]]:
    """Normalised label -> codes (a few labels are shared by two codes)."""
    labels: dict[str, list[str]] = {}
    for item in _codes().values():
        labels.setdefault(_normalise(item.label), []).append(item.code)
    return {label: tuple(codes) for label, codes in labels.items()}


@cache
def _index() -> dict[str, frozenset[str]]:
    """Word (stemmed) -> the codes whose label has it."""
    index: dict[str, set[str]] = {}
    for item in _codes().values():
        for word in _words(item.label):
            index.setdefault(word, set()).add(item.code)
    return {word: frozenset(codes) for word, codes in index.items()}


@cache
def _children() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for code in _codes():
        above = parent(code)
        if above is not None:
            found.setdefault(above, []).append(code)
    return {code: tuple(sorted(kids)) for code, kids in found.items()}


def attribution() -> str:
    """Where the list comes from, its licence and when the file was built."""
    data = _data()
    return f"{data['licence']} Source: {data['source']} (built {data['built']})."


def stem(code: str) -> str:
    """The significant digits: '85311000' -> '85311', '85000000' -> '85' (never under two,
    the division). A code covers every code that starts with its stem."""
    digits = code.strip()[:8]
    significant = digits.rstrip("0")
    return significant if len(significant) >= 2 else digits[:2]


def cpv(code: str) -> Cpv | None:
    """The code, given as eight digits with or without its check digit ('85311000-2').
    A check digit that is not the code's finds nothing: use ``find_cpv`` to say why."""
    match = _CODE.match(code)
    if match is None or match[3]:
        return None
    digits = match[1].replace(" ", "")
    if len(digits) != 8:
        return None
    found = _codes().get(digits)
    if found is None or (match[2] is not None and match[2] != found.check):
        return None
    return found


def cpv_label(code: str) -> str:
    """A stored code as people read it, '85311000-2 Social work services with
    accommodation'; a code not in the list is shown as it is."""
    found = _codes().get(code.strip().split("-")[0])
    return found.shown if found else code


def parent(code: str) -> str | None:
    """The nearest broader code in the list: 85311000 -> 85310000; a division has none."""
    digits = stem(code)
    while len(digits) > 2:
        digits = digits[:-1]
        candidate = digits.ljust(8, "0")
        if candidate in _codes():
            return candidate
    return None


def broader(code: str) -> list[str]:
    """Every broader code, nearest first: 85311000 -> 85310000, 85300000, 85000000."""
    found: list[str] = []
    current = parent(code)
    while current is not None:
        found.append(current)
        current = parent(current)
    return found


def children(code: str) -> list[str]:
    """The codes one step narrower (a division's groups, a group's classes ...)."""
    return list(_children().get(code, ()))


def narrower(code: str) -> list[str]:
    """Every narrower code, in code order: all that 85300000 covers."""
    prefix = stem(code)
    return [other for other in _codes() if other != code and other.startswith(prefix)]


def overlaps(a: str, b: str) -> bool:
    """Whether two codes share ground: the same, or one covers the other. 85300000 and
    85311000 overlap (either way round); 85311000 and 85312000, side by side, do not."""
    first, second = stem(a), stem(b)
    return first.startswith(second) or second.startswith(first)


def overlapping(codes: Iterable[str]) -> set[str]:
    """Every code in the list that overlaps one of these: itself, broader and narrower.
    What a matcher needs to find everybody whose codes share ground with an opportunity."""
    wanted: set[str] = set()
    for code in codes:
        wanted.add(code)
        wanted.update(broader(code))
        wanted.update(narrower(code))
    return wanted


def community_suggestions() -> list[Cpv]:
    """The divisions community services are most often bought under, each followed by its
    groups: a short list to pick from before searching, read from the data."""
    found: list[Cpv] = []
    for division in COMMUNITY_DIVISIONS:
        top = _codes().get(division.ljust(8, "0"))
        if top is None:
            continue
        found.append(top)
        found.extend(_codes()[code] for code in children(top.code) if len(stem(code)) == 3)
    return found


def _by_code(text: str) -> CpvLookup | None:
    match = _CODE.match(text)
    if match is None:
        return None
    digits = match[1].replace(" ", "")
    if len(digits) < 8:
        digits = digits.ljust(8, "0")  # "85" or "853": the division or group
    found = _codes().get(digits)
    cleaned = " ".join(text.split())
    if found is None:
        return CpvLookup(cleaned, (), by_code=True)
    wrong = match[2] is not None and match[2] != found.check
    return CpvLookup(cleaned, (found,), by_code=True, wrong_check=wrong)


def _joined(
    wanted: str, words: list[str], index: dict[str, frozenset[str]]
) -> tuple[str, list[str]]:
    """'day care' -> 'daycare' when only the joined word is in the labels."""
    for first, second in zip(list(words), list(words)[1:], strict=False):
        both = first + second
        if both in index and first + " " + second in wanted:
            wanted = wanted.replace(first + " " + second, both)
            words = [w for w in words if w not in (first, second)] + [both]
    return wanted, words


#: The most words of one piece that a search weighs (the longest CPV label has fewer).
MAX_SEARCH_WORDS = 12


def _ranked(text: str) -> list[tuple[int, float, str]]:
    """(tier, score, code) for every code the words touch; lower tier is better.

    Tiers: 0 the label is what was typed; 1 the label starts with it; 2 the label holds it
    as a phrase; 3 the label has every word; 4 some of the words. Within a tier, rarer words
    count for more (so 'youth' outweighs 'work'), then broader codes come first.
    """
    wanted = _normalise(text)
    # A CPV label is a few words; past a dozen, a piece is a paste, and ranking every word
    # of it against the whole index would hold up every other turn.
    words = list(dict.fromkeys(_words(text)))[:MAX_SEARCH_WORDS]
    if not wanted or not words:
        return []
    index = _index()
    wanted, words = _joined(wanted, words, index)
    total = len(_codes())
    scores: dict[str, float] = {}
    matched: dict[str, int] = {}
    for word in words:
        hits: set[str] = set(index.get(word, ()))
        if len(word) >= 4:
            for known, codes in index.items():
                if known != word and known.startswith(word):
                    hits |= codes
        if not hits:
            # A slip of the keyboard ("counseling"): the nearest words in the labels.
            for near in difflib.get_close_matches(word, list(index), n=2, cutoff=0.85):
                hits |= index[near]
        if not hits:
            continue
        weight = math.log(total / len(hits)) + 0.1
        for code in hits:
            scores[code] = scores.get(code, 0.0) + weight
            matched[code] = matched.get(code, 0) + 1
    ranked: list[tuple[int, float, str]] = []
    for code, score in scores.items():
        label = _normalise(_codes()[code].label)
        if label == wanted or label == f"{wanted} services" or label == f"{wanted} service":
            tier = 0
        elif label.startswith(wanted + " ") or label == wanted:
            tier = 1
        elif f" {wanted} " in f" {label} ":
            tier = 2
        elif matched[code] == len(words):
            tier = 3
        else:
            tier = 4
        ranked.append((tier, -score, code))
    # Codes that hold only some of the words: only those close to the best, and never on a
    # word most labels have ('services') alone, so 'work' does not bring in every
    # 'construction work'.
    best = min((score for tier, score, _ in ranked if tier == 4), default=0.0)
    ranked = [
        item
        for item in ranked
        if item[0] < 4 or (item[1] <= best * 0.6 and item[1] <= -_COMMON_WORD_SCORE)
    ]
    ranked.sort(key=_rank_key)
    return ranked


def _rank_key(item: tuple[int, float, str]) -> tuple[int, float, int, bool, str]:
    """Tier, then rarer words, then broader codes, then services (divisions 50 to 98, not
    45, construction) before goods and works: community services are what people here
    look for."""
    tier, score, code = item
    goods = not ("50" <= code[:2] <= "98")
    return tier, score, len(stem(code)), goods, code


def search_cpv(text: str, limit: int = 8) -> list[Cpv]:
    """Codes for what was typed, best first: a code (with or without its check digit), or
    words. Exact labels first, then labels that start with the words, then ones that hold
    them as a phrase, then ones with every word, then the rest by how rare the words are.
    The search behind every door's list, and the suggestions in an error message."""
    by_code = _by_code(text)
    if by_code is not None:
        if not by_code.codes:
            return []
        top = by_code.codes[0]
        return [top, *(_codes()[code] for code in children(top.code))][:limit]
    return [_codes()[code] for _, _, code in _ranked(text)[:limit]]


def find_cpv(text: str) -> CpvLookup:
    """The codes a typed piece names: one is an answer, several need the person to choose,
    none means we did not recognise it.

    A code (with or without its check digit; "85" or "853" for a division or group) names
    itself. Words name a code when its label is exactly those words (with or without
    "services"), or when only one label starts with or holds them as a phrase.
    """
    by_code = _by_code(text)
    if by_code is not None:
        return by_code
    cleaned = " ".join(text.split())
    ranked = _ranked(text)
    exact = [code for tier, _, code in ranked if tier == 0]
    # No label is exactly the words: a phrase that one label starts with or holds is an
    # answer; one that several hold is a choice for the person to make.
    named = exact or [code for tier, _, code in ranked if tier in (1, 2)]
    return CpvLookup(cleaned, tuple(_codes()[code] for code in named))


def split_chosen(value: object) -> tuple[list[str], str]:
    """A widget's value (stored codes, or what was posted back with an error) as the
    codes already chosen and the text still being typed."""
    items = value if isinstance(value, list | tuple) else [value] if value else []
    codes: list[str] = []
    typed: list[str] = []
    for item in items:
        text = str(item).strip()
        found = cpv(text)
        if found is not None:
            codes.append(found.code)
        elif text:
            typed.append(text)
    return list(dict.fromkeys(codes)), ", ".join(typed)


def _separated(label: str) -> str:
    """A label with the characters that separate answers taken out."""
    return label.replace(",", "").replace(";", "")


def typed_text(value: object, limit: int | None = None) -> str:
    """A widget's value as text to pre-fill a chat door's box: one code and its label a line
    (commas and semicolons taken out of labels, so the text reads back as the same codes). Past ``limit``
    characters (a Slack text box holds 3,000) the codes are shown without their labels."""
    codes, typed = split_chosen(value)
    rest = [typed] if typed else []
    text = "\n".join([*(_separated(cpv_label(code)) for code in codes), *rest])
    if limit is not None and len(text) > limit:
        text = "\n".join([*(_codes()[code].full for code in codes), *rest])
    return text


@dataclass(frozen=True)
class WidgetState:
    """What a web form shows for a CPV question after a search: the codes chosen (ticked),
    the codes offered for words that named several (unticked, to tick), and the words
    that found nothing (left in the search box to change)."""

    chosen: tuple[Cpv, ...]
    offered: tuple[Cpv, ...]
    typed: str


def widget_state(value: object, offered_per_piece: int = 8) -> WidgetState:
    """A widget's value (stored codes, or what was posted back with an error) read the way
    the web form's server-side search shows it: every typed piece that names one code is
    chosen, one that could mean several offers them, one that found nothing stays typed."""
    codes, typed = split_chosen(value)
    chosen = [_codes()[code] for code in codes]
    offered: list[Cpv] = []
    left: list[str] = []
    for piece in (p.strip() for p in re.split(r"[,;\n]+", typed)):
        if not piece:
            continue
        found = find_cpv(piece)
        if len(found.codes) == 1 and not found.wrong_check:
            chosen.append(found.codes[0])
            continue
        candidates = list(found.codes[:offered_per_piece]) or search_cpv(piece, offered_per_piece)
        if candidates:
            offered.extend(candidates)
        else:
            left.append(piece)
    unique = list(dict.fromkeys(chosen))
    return WidgetState(
        chosen=tuple(unique),
        offered=tuple(c for c in dict.fromkeys(offered) if c not in unique),
        typed=", ".join(left),
    )
