"""Whether a message looks like someone telling us about harm.

A curated list of words and phrases (`safeguarding_words.yaml`), matched as whole words in
any case: not a model, so a council's safeguarding team can read every rule and add its own.
A match is a prompt for a person to read the entry, so the list leans towards false alarms.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import yaml


@cache
def phrases() -> tuple[str, ...]:
    """The phrases in the list, lower case, each once."""
    data = yaml.safe_load(
        (files("bot.core.feedback") / "safeguarding_words.yaml").read_text(encoding="utf-8")
    )
    found = [str(p).strip().lower() for p in data["phrases"] if str(p).strip()]
    return tuple(dict.fromkeys(found))


@cache
def _pattern() -> re.Pattern[str]:
    def one(phrase: str) -> str:
        # Any spacing or hyphen between the words of a phrase: "self harm", "self-harm".
        words = re.split(r"[\s\-]+", phrase)
        return r"[\s\-]+".join(re.escape(word) for word in words)

    alternatives = "|".join(one(p) for p in sorted(phrases(), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


def _normal(text: str) -> str:
    """Curly apostrophes and odd spaces as plain ones, so typed phrases still match."""
    return text.replace("\u2019", "'").replace("\u00a0", " ")


def looks_like_harm(text: str | None) -> bool:
    """Whether `text` holds a word or phrase from the safeguarding list."""
    if not text:
        return False
    return _pattern().search(_normal(text)) is not None
