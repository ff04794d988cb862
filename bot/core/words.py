"""Small helpers for counts in plain English: "1 question", "4 questions", "4 weeks".

"(s)" and "4.0 weeks" read as a machine talking; these say it as a person would.
"""

from __future__ import annotations

__all__ = ["counted", "weeks_and_days"]


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` with the right form of the noun: "1 person", "3 people", "0 questions"."""
    word = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {word}"


def weeks_and_days(days: int) -> str:
    """A length of time in whole weeks where it is whole weeks: "4 weeks", "1 week and
    2 days", "5 days". Never "4.0 weeks"."""
    weeks, rest = divmod(max(0, int(days)), 7)
    if not weeks:
        return counted(rest, "day")
    if not rest:
        return counted(weeks, "week")
    return f"{counted(weeks, 'week')} and {counted(rest, 'day')}"
