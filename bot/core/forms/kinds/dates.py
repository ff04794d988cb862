"""Dates, and dates with a time.

Dates are read day first, as in the UK, and stored as "YYYY-MM-DD". Dates with
times are read as UK time (Europe/London) and stored as ISO 8601 text in UTC with
its offset, like every other time Convene stores.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any

from bot.core.clock import LONDON, as_utc, format_when
from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import (
    MAX_SHORT_INPUT,
    AnswerError,
    label_at_start,
    label_in_sentence,
    normalise,
)
from bot.core.forms.kinds.numbers import NUMBER_WORDS
from bot.core.forms.model import Field, FieldType
from bot.core.working_days import is_working_day

__all__ = ["answer_day", "non_working_day_warning", "past_day_problem", "read_date_time"]

# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

# fmt: off
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# fmt: on
_MONTH_NUMBERS: dict[str, int] = {}
for _n, _name in enumerate(_MONTHS, start=1):
    _MONTH_NUMBERS[_name] = _n
    _MONTH_NUMBERS[_name[:3]] = _n
_MONTH_NUMBERS["sept"] = 9
_WEEKDAY_NUMBERS = {name: n for n, name in enumerate(_WEEKDAYS)}
_WEEKDAY_NUMBERS.update({name[:3]: n for n, name in enumerate(_WEEKDAYS)})

_ISO_DATE = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")
_UK_NUMERIC_DATE = re.compile(r"^(\d{1,2})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d{4}|\d{2})$")
_ONLY_NUMERIC = re.compile(r"^[\d\s/.\-]+$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")

# Two-digit years below this are 20xx, the rest 19xx (the POSIX convention).
_TWO_DIGIT_YEAR_PIVOT = 70

_DATEPARSER_SETTINGS: dict[str, Any] = {
    "DATE_ORDER": "DMY",
    "PREFER_DAY_OF_MONTH": "first",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}


#: For dates with times: "tomorrow" and "in 2 weeks" count from today in the UK, whatever
#: the server's own zone, because the time that goes with them is UK time.
_LONDON_DATEPARSER_SETTINGS: dict[str, Any] = {
    **_DATEPARSER_SETTINGS,
    "TIMEZONE": "Europe/London",
}


def _date_error(field: Field) -> AnswerError:
    what = "a date and time" if field.type == FieldType.DATE_TIME else "a date"
    return AnswerError(
        f"Enter {label_in_sentence(field)} as {what}, like {field.effective_example}", field.id
    )


def _real_date(field: Field, year: int, month: int, day: int) -> date:
    if year < 100:
        # "31/03/27" means 2027, not the year 27; "1/1/95" (a founding date) means 1995.
        year += 2000 if year < _TWO_DIGIT_YEAR_PIVOT else 1900
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise AnswerError(
            f"{label_at_start(field)} must be a real date, like {field.effective_example}",
            field.id,
        ) from exc


def _worded_date(field: Field, cleaned: str) -> date | None:
    """Read "31 March 2027", "Mar 31st, 2027" and "Wednesday 31 March 2027"."""
    tokens = [t for t in re.split(r"[\s,./-]+", cleaned) if t and t not in ("the", "of", "on")]
    weekday: int | None = None
    if tokens and tokens[0] in _WEEKDAY_NUMBERS:
        weekday = _WEEKDAY_NUMBERS[tokens.pop(0)]
    if len(tokens) != 3 or not re.fullmatch(r"\d{4}", tokens[2]):
        return None
    first, second, year_text = tokens
    if first in _MONTH_NUMBERS:
        month_text, day_text = first, second
    elif second in _MONTH_NUMBERS:
        day_text, month_text = first, second
    else:
        return None
    ordinal = _ORDINAL.match(day_text)
    if ordinal:
        day_text = ordinal[1]
    if not re.fullmatch(r"\d{1,2}", day_text):
        return None
    result = _real_date(field, int(year_text), _MONTH_NUMBERS[month_text], int(day_text))
    if weekday is not None and result.weekday() != weekday:
        # Someone has mixed up either the weekday or the date; asking is kinder than guessing.
        raise AnswerError(
            f"{_display_date(result)} is not a {_WEEKDAYS[weekday].title()}. "
            f"Check {label_in_sentence(field)} and try again.",
            field.id,
        )
    return result


_COUNT = r"(?:\d{1,3}|an?|" + "|".join(NUMBER_WORDS) + ")"
_UNIT = r"(?:days?|weeks?|fortnights?)"
_RELATIVE_DATE = re.compile(
    r"(?:the )?(?:day (?:after|before) )?(?:today|tomorrow|yesterday)"
    rf"|in {_COUNT} {_UNIT}(?: time)?"
    rf"|{_COUNT} {_UNIT} ago"
)


def _safe_for_dateparser(cleaned: str) -> bool:
    """Whether dateparser can be trusted with this text.

    dateparser is very forgiving: left alone it reads "1 3 31" as 1 March
    2031, "2027 week ago" as a day in 1988 and "in 2 months" as the 1st of a
    month. Our own parsers already cover every day/month/year wording, so we
    only hand it plain relative dates ("tomorrow", "in 2 weeks", "3 days
    ago") where nothing can be misread.
    """
    return _RELATIVE_DATE.fullmatch(cleaned) is not None


@cache
def _dateparser_parse() -> Any:
    """Import dateparser only when a date needs it: it is slow to load."""
    import dateparser

    return dateparser.parse


def _read_date(field: Field, text: str, settings: dict[str, Any] = _DATEPARSER_SETTINGS) -> date:
    """A date typed any common way. Numbers are ALWAYS read day first, as in the UK.

    Raises AnswerError, naming the field, when the text is not a date.
    """
    cleaned = normalise(text)
    if len(cleaned) > MAX_SHORT_INPUT:
        raise _date_error(field)
    iso = _ISO_DATE.match(cleaned)
    if iso:
        return _real_date(field, int(iso[1]), int(iso[2]), int(iso[3]))
    uk = _UK_NUMERIC_DATE.match(cleaned)
    if uk:
        return _real_date(field, int(uk[3]), int(uk[2]), int(uk[1]))
    if _ONLY_NUMERIC.match(cleaned):
        # Never hand bare numbers to dateparser: it may swap day and month.
        raise _date_error(field)
    worded = _worded_date(field, cleaned)
    if worded is not None:
        return worded
    if _safe_for_dateparser(cleaned):
        parsed = _dateparser_parse()(cleaned, languages=["en"], settings=settings)
        if parsed is not None:
            day: date = parsed.date()
            return day
    words = set(re.split(r"[\s,./-]+", cleaned))
    if words & _MONTH_NUMBERS.keys() and not re.search(r"\d{4}", cleaned):
        raise AnswerError(
            f"Enter {label_in_sentence(field)} with the day, month and year, "
            f"like {field.effective_example}",
            field.id,
        )
    raise _date_error(field)


def _parse_date(field: Field, text: str) -> str:
    """Dates -> "YYYY-MM-DD"."""
    return _read_date(field, text).isoformat()


def _display_date(value: date) -> str:
    """Show a date like "Wednesday 31 March 2027", whatever the server's locale."""
    return (
        f"{_WEEKDAYS[value.weekday()].title()} {value.day} "
        f"{_MONTHS[value.month - 1].title()} {value.year}"
    )


# --------------------------------------------------------------------------
# Dates with times
# --------------------------------------------------------------------------

# A time of day: "2pm", "2:30 p.m.", "14:00", "14.00hrs", "midday", "midnight", with an
# optional zone after it: "GMT" or "BST" (to say which 1:30am on the night the clocks go
# back), or an offset as an HTML or API client sends it ("Z", "+01:00").
_TIME = (
    r"(?:(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ap>[ap])\.?\s?m\.?"
    r"|(?P<h24>\d{1,2})[:.](?P<m24>\d{2})(?::(?P<s24>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?:hrs|hours|h))?"
    r"|(?:12(?:[:.]00)?\s*)?(?P<noon>noon|midday)"
    r"|(?:12(?:[:.]00)?\s*)?(?P<midnight>midnight))"
    r"(?:\s*\(?(?P<zone>z|utc|gmt|bst|bdst|[+-]\d{2}(?::?\d{2})?)\)?)?"
)
# "2 March 2027, 2pm", "2 March 2027 at 14:00", "2027-03-02T14:00" (the T only between digits).
_DATE_THEN_TIME = re.compile(
    rf"^(?P<date>.+?)(?:\s*,\s*|\s+-\s+|\s+|(?<=\d)t(?=\d))(?:(?:at|from)\s+|@\s*)?{_TIME}$"
)
# "2pm on Tuesday 2 March 2027", "14:00, 2 March 2027", "2pm tomorrow".
_TIME_THEN_DATE = re.compile(rf"^{_TIME}(?:\s*,\s*|\s+)(?:on\s+)?(?P<date>.+)$")
_TIME_ONLY = re.compile(rf"^(?:at\s+)?{_TIME}$")
# Names the UK's clocks go by (BDST: double summer time, 1941-47).
_UK_ZONE_NAMES = frozenset({"gmt", "bst", "bdst"})


def _time_error(field: Field) -> AnswerError:
    return AnswerError(
        f"{label_at_start(field)} must be a real time, like {field.effective_example}",
        field.id,
    )


def _clock_time(field: Field, match: re.Match[str]) -> tuple[int, int]:
    """(hour, minute) on a 24-hour clock. Seconds are dropped: forms work in minutes."""
    if match["noon"]:
        return 12, 0
    if match["midnight"]:
        return 0, 0
    if match["ap"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not 1 <= hour <= 12 or minute >= 60:
            raise _time_error(field)
        return hour % 12 + (12 if match["ap"] == "p" else 0), minute
    hour, minute = int(match["h24"]), int(match["m24"])
    second = int(match["s24"] or 0)
    if hour >= 24 or minute >= 60 or second >= 60:
        raise _time_error(field)
    return hour, minute


def _fixed_offset(field: Field, zone: str) -> timezone:
    """An offset typed after a time ("z", "utc", "+01:00", "-0500") as a fixed zone."""
    if zone in ("z", "utc"):
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours >= 24 or minutes >= 60:
        raise _time_error(field)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _uk_moment(field: Field, day: date, hour: int, minute: int, zone: str | None) -> datetime:
    """The moment a UK clock shows ``hour:minute`` on ``day``, in UTC.

    Twice a year the UK clock is not a simple count. When the clocks go forward
    (1am becomes 2am) a time like 1:30am does not exist; we follow zoneinfo's
    rule for ``fold=0`` and read it with the offset from before the change, so it
    means 2:30am BST (the same moment as 1:30am GMT). When the
    clocks go back, 1:30am happens twice; ``fold=0`` picks the first (BST),
    and "1:30am GMT" picks the second. Every value here is aware.
    """
    try:
        if zone is not None and zone not in _UK_ZONE_NAMES:
            fixed = datetime(
                day.year, day.month, day.day, hour, minute, tzinfo=_fixed_offset(field, zone)
            )
            return fixed.astimezone(UTC)
        first = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
        if zone is None:
            return as_utc(first)
        for candidate in (first, first.replace(fold=1)):
            if (candidate.tzname() or "").casefold() == zone:
                return as_utc(candidate)
    except OverflowError as exc:  # within a day of year 1 or 9999
        raise AnswerError(
            f"{label_at_start(field)} must be a real date, like {field.effective_example}",
            field.id,
        ) from exc
    raise AnswerError(
        f"On {_display_date(day)} UK clocks are on {first.tzname()}, not {zone.upper()}. "
        f"Enter {label_in_sentence(field)} without {zone.upper()}, "
        f"like {field.effective_example}",
        field.id,
    )


def _parse_date_time(field: Field, text: str) -> str:
    """A date and a time -> ISO 8601 in UTC with its offset, "2027-03-02T14:00:00+00:00".

    Times are read as UK time (``bot.clock.LONDON``, Europe/London): forms do not
    yet know each person's own zone. The date part is read exactly as a date
    question reads it (day first, "tomorrow", "Tuesday 2 March 2027"); the time
    may come before or after it.
    """
    cleaned = normalise(text)
    if len(cleaned) > MAX_SHORT_INPUT:
        raise _date_error(field)
    match = _DATE_THEN_TIME.match(cleaned) or _TIME_THEN_DATE.match(cleaned)
    if match is None:
        if _TIME_ONLY.match(cleaned):
            raise AnswerError(
                f"Enter {label_in_sentence(field)} with the date as well as the time, "
                f"like {field.effective_example}",
                field.id,
            )
        # Not a date either: this raises the plain "as a date and time" message.
        _read_date(field, cleaned, _LONDON_DATEPARSER_SETTINGS)
        raise AnswerError(
            f"Enter {label_in_sentence(field)} with a time as well as the date, "
            f"like {field.effective_example}",
            field.id,
        )
    day = _read_date(field, match["date"], _LONDON_DATEPARSER_SETTINGS)
    hour, minute = _clock_time(field, match)
    return _uk_moment(field, day, hour, minute, match["zone"]).isoformat()


def read_date_time(value: Any) -> datetime:
    """A stored date-and-time answer as an aware UTC datetime.

    Raises ValueError for text that is not ISO 8601 or has no offset: a time
    without a zone cannot be placed, so it is never guessed at here.
    """
    return as_utc(datetime.fromisoformat(str(value)))


def _display_date_time(value: Any) -> str:
    """A stored date and time as people read it: "Tuesday 2 March 2027, 2pm" (UK time).

    On the night the clocks go back, 1:30am happens twice, so those times say
    which one they are ("(BST)" or "(GMT)"); this text reads back as the same moment.
    """
    local = read_date_time(value).astimezone(LONDON)
    shown = format_when(local, LONDON)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        shown += f" ({local.tzname()})"
    return shown


# --------------------------------------------------------------------------
# The kinds
# --------------------------------------------------------------------------


@register
class Date(FieldKind):
    type = FieldType.DATE
    summary = SummaryKind.TEXT
    cell = CellKind.DATE
    takes_future = True

    def example(self, field: Field) -> str:
        return "31/03/2027"

    def parse(self, field: Field, text: str) -> str:
        return _parse_date(field, text)

    def format(self, field: Field, value: Any) -> str:
        return _display_date(date.fromisoformat(str(value)))

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with a date, like {field.effective_example}."

    def export_value(self, field: Field, value: Any) -> date:
        return date.fromisoformat(str(value))


@register
class DateTime(FieldKind):
    type = FieldType.DATE_TIME
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    takes_future = True

    def example(self, field: Field) -> str:
        return "Tuesday 2 March 2027, 2pm"

    def parse(self, field: Field, text: str) -> str:
        return _parse_date_time(field, text)

    def format(self, field: Field, value: Any) -> str:
        return _display_date_time(value)

    def raw(self, field: Field, value: Any) -> str:
        try:
            return _display_date_time(value)
        except (TypeError, ValueError, ArithmeticError):
            return str(value)  # Shown as saved, so the person sees what to correct.

    def how_to_answer(self, field: Field) -> str:
        return f"Reply with a date and a UK time, like {field.effective_example}."

    def export_value(self, field: Field, value: Any) -> str:
        # Text in UK time with its offset, like "Submitted at": spreadsheets have
        # no zone-aware cell, and a bare local time would be wrong half the year.
        return read_date_time(value).astimezone(LONDON).isoformat(timespec="seconds")


# --------------------------------------------------------------------------
# Checks that need today's date: "future only", and a weekend or bank holiday
# --------------------------------------------------------------------------


def answer_day(field: Field, value: Any) -> date | None:
    """The UK day a stored date (or date and time) answer falls on; None for anything else."""
    try:
        if field.type == FieldType.DATE:
            return date.fromisoformat(str(value))
        if field.type == FieldType.DATE_TIME:
            return read_date_time(value).astimezone(LONDON).date()
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def past_day_problem(field: Field, value: Any, today: date) -> str | None:
    """Why a ``future_only`` answer cannot be used: it is before today. None when it is fine."""
    if not field.future_only:
        return None
    day = answer_day(field, value)
    if day is None or day >= today:
        return None
    return (
        f"{label_at_start(field)} must be today or later. "
        f"{_display_date(day)} has passed. Today is {_display_date(today)}."
    )


def non_working_day_warning(field: Field, value: Any, region: str) -> str | None:
    """A gentle word when a ``future_only`` day is a weekend or a bank holiday.

    A warning, not a refusal: a Saturday event is often just what a community group
    wants, but a closing date on Christmas Day is usually a slip.
    """
    if not field.future_only:
        return None
    day = answer_day(field, value)
    if day is None or is_working_day(day, region):
        return None
    what = "a weekend" if day.weekday() >= 5 else "a bank holiday"
    return (
        f"{_display_date(day)} is {what}. Check this is the day you mean for "
        f"{label_in_sentence(field)}. If it is, you do not need to change it."
    )
