"""Turning what people type into stored answers, and back again.

Every door (web, Slack, Teams, chat) hands us text, so all of the forgiving
parsing lives here, once: "£12.5k", "31 March 2027", "2" for the second
option. Stored values are plain JSON types (str, int, float, bool, list) so
they can go straight into a JSON column.

Dates with times are read as UK time (Europe/London) and stored as ISO 8601
text in UTC with its offset, like every other time Convene stores.

Error messages are read by busy, sometimes anxious people, many with
dyslexia. They follow GOV.UK style: say what to do, name the question, show an
example, never blame.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from bot.clock import LONDON, as_utc, format_when
from bot.core.forms.model import SCALE_MAX, SCALE_MIN, Choice, Field, FieldType

__all__ = [
    "NOT_ANSWERED",
    "AnswerError",
    "format_answer",
    "is_blank",
    "label_at_start",
    "label_in_sentence",
    "parse_answer",
    "read_date_time",
    "to_raw",
]

NOT_ANSWERED = "Not answered"

# Anything longer than this cannot be a number, a date or an option name, so
# refuse it before doing any work on it.
_MAX_SHORT_INPUT = 200
# Stored numbers (and pence) stay below this so that JavaScript, which reads
# JSON numbers as doubles, gets them exactly. No real answer comes close.
_LARGEST = 10**15


class AnswerError(ValueError):
    """An answer we could not accept. ``message`` is safe to show the person."""

    def __init__(self, message: str, field_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_id = field_id


# --------------------------------------------------------------------------
# Naming a question inside a sentence
# --------------------------------------------------------------------------


def _clean_label(field: Field) -> str:
    return field.label.strip().rstrip(":").strip()


def _is_question(field: Field) -> bool:
    return _clean_label(field).endswith("?")


def label_in_sentence(field: Field) -> str:
    """The question's name for use mid-sentence: "Enter <annual cost>".

    Labels written as questions ("How many staff do you have?") read badly
    after a verb, so they become "the answer to '…'". The first letter is
    lower-cased unless the first word looks like an acronym (TUPE, VCFSE).
    """
    label = _clean_label(field)
    if label.endswith("?"):
        return f"the answer to '{label}'"
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def label_at_start(field: Field) -> str:
    """The question's name for the start of a sentence: "<Annual cost> must be…"."""
    label = _clean_label(field)
    if label.endswith("?"):
        return f"The answer to '{label}'"
    return label


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """True for "no answer": None, empty or whitespace text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(is_blank(item) for item in value)
    return False


_DASHES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-"})


def _normalise(text: str) -> str:
    """Fold case, odd quotes and spacing so "Under £10,000 " matches "under £10,000"."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    text = " ".join(text.split())
    # Keep a leading "." (".5k") but drop a full stop or quotes around the answer.
    return text.strip("'\"").rstrip(" .!").strip()


def _plain_decimal(value: Decimal) -> str:
    """Decimal as plain digits with no exponent and no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _limit_text(value: float) -> str:
    """A min/max limit as people write it: 0, 1,500, 2.5."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def _pounds_text(pence: int) -> str:
    """Pence as "£12,500" or "£12,500.50" (pence only when there are some)."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    text = f"£{pounds:,}"
    if rest:
        text += f".{rest:02d}"
    return sign + text


def _pounds_limit_text(pounds: float) -> str:
    pence = int((Decimal(repr(float(pounds))) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    return _pounds_text(pence)


def _single_raw(field: Field, raw: str | list[str] | None) -> str | None:
    """Reduce the raw input for a one-answer question to one stripped string.

    Web frameworks sometimes hand over a list even for a single input, so a
    list with one real item is accepted.
    """
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        items = [str(item) for item in raw if not is_blank(item)]
        if not items:
            return None
        if len(items) > 1:
            verb = "Choose" if field.type in (FieldType.SINGLE_CHOICE, FieldType.SCALE) else "Enter"
            raise AnswerError(f"{verb} only one answer for {label_in_sentence(field)}", field.id)
        raw = items[0]
    text = str(raw)
    return None if not text.strip() else text


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\x0b\x0c\x85\u2028\u2029", "\n"))


def _parse_text(field: Field, text: str) -> str:
    if field.type == FieldType.SHORT_TEXT:
        # A short answer is one line: fold pasted line breaks and tabs into spaces.
        value = " ".join(text.split())
        allowed: set[str] = set()
    else:
        # Word and some phones paste line breaks as odd characters; make them plain.
        value = text.replace("\r\n", "\n").translate(_LINE_BREAKS).strip()
        allowed = {"\n", "\t"}
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise AnswerError(
            f"Answer to '{_clean_label(field)}' has a hidden character in it that we cannot "
            "save. Try typing the answer instead of pasting it.",
            field.id,
        )
    limit = field.effective_max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(
            f"Answer to '{_clean_label(field)}' must be {limit:,} characters or fewer. "
            f"You wrote {len(value):,}.",
            field.id,
        )
    return value


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

# fmt: off
_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
# fmt: on
_SMALL_NUMBERS = {word: n for n, word in enumerate(_NUMBER_WORDS)}
_SMALL_NUMBERS["none"] = 0

_GROUPED = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_WHOLE = re.compile(rf"^(?P<sign>[-+]?)\s*(?P<num>{_GROUPED})(?:\.0+)?$")


def _check_limits(field: Field, value: Decimal) -> None:
    """Apply the author's hard min/max, naming the limit in the field's own units."""
    if field.min_value is not None and value < Decimal(repr(field.min_value)):
        raise AnswerError(
            f"{label_at_start(field)} must be {_limit_text(field.min_value)} or more",
            field.id,
        )
    if field.max_value is not None and value > Decimal(repr(field.max_value)):
        raise AnswerError(
            f"{label_at_start(field)} must be {_limit_text(field.max_value)} or less",
            field.id,
        )


def _parse_whole_number(field: Field, text: str) -> int:
    cleaned = _normalise(text)
    if cleaned in _SMALL_NUMBERS:
        number = _SMALL_NUMBERS[cleaned]
    else:
        match = _WHOLE.match(cleaned) if len(cleaned) <= _MAX_SHORT_INPUT else None
        if not match:
            raise AnswerError(
                f"Enter {label_in_sentence(field)} as a whole number, "
                f"like {field.effective_example}",
                field.id,
            )
        number = int(match["num"].replace(",", ""))
        if number >= _LARGEST:
            raise AnswerError(
                f"Enter {label_in_sentence(field)} as a whole number, "
                f"like {field.effective_example}",
                field.id,
            )
        if match["sign"] == "-":
            number = -number
    _check_limits(field, Decimal(number))
    return number


_FOREIGN_MONEY = re.compile(r"[$€¥₹]|\b(?:usd|eur|euros?|dollars?|cents?)\b")
_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_MONEY = re.compile(
    rf"^(?P<int>{_GROUPED})?(?:\.(?P<frac>\d+))?"
    r"(?:\s*(?P<mult>k|thousand|m|mn|million|bn|billion))?$"
)
_PENCE_ONLY = re.compile(r"^(?P<pence>\d+)\s*(?:p|pence)$")


def _parse_money(field: Field, text: str) -> int:
    """Pounds typed any common way -> whole pence (int, so sums are exact)."""
    name = label_in_sentence(field)
    example = field.effective_example
    bad = AnswerError(f"Enter {name} as an amount of money, like {example}", field.id)
    cleaned = _normalise(text)
    if len(cleaned) > _MAX_SHORT_INPUT:
        raise bad
    if _FOREIGN_MONEY.search(cleaned):
        raise AnswerError(f"Enter {name} in pounds, like {example}", field.id)

    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):  # accountants' negatives
        negative, cleaned = True, cleaned[1:-1].strip()
    for word in ("minus ", "-"):
        if cleaned.startswith(word):
            negative, cleaned = True, cleaned[len(word) :].strip()
    for prefix in ("gbp", "£"):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix) :].strip()
    if cleaned.startswith("-"):  # "£-500"
        negative, cleaned = True, cleaned[1:].strip()
    for suffix in ("pounds", "pound", "gbp", "quid"):
        if cleaned.endswith(suffix):
            cleaned = cleaned[: -len(suffix)].strip()
            break

    pence_match = _PENCE_ONLY.match(cleaned)
    if pence_match and "£" not in text:
        amount = Decimal(pence_match["pence"])
    else:
        match = _MONEY.match(cleaned)
        if not match or not (match["int"] or match["frac"]):
            raise bad
        frac = match["frac"] or ""
        if not match["mult"] and len(frac) > 2:
            # "12.500" is twelve thousand five hundred in much of Europe; don't guess.
            raise AnswerError(
                f"Enter {name} with no more than 2 numbers after the point, like £12,500.50",
                field.id,
            )
        try:
            pounds = Decimal(f"{(match['int'] or '0').replace(',', '')}.{frac or '0'}")
        except InvalidOperation as exc:  # pragma: no cover - regex makes this unreachable
            raise bad from exc
        pounds *= _MULTIPLIERS.get(match["mult"] or "", 1)
        if pounds * 100 >= _LARGEST:  # also keeps quantize() within Decimal's precision
            raise bad
        amount = (pounds * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)

    if abs(amount) >= _LARGEST:
        raise bad
    if negative and amount:
        amount = -amount
    pence = int(amount)
    start = label_at_start(field)
    min_pounds = field.min_value if field.min_value is not None else 0.0
    if Decimal(pence) < Decimal(repr(min_pounds)) * 100:
        raise AnswerError(f"{start} must be {_pounds_limit_text(min_pounds)} or more", field.id)
    if field.max_value is not None and Decimal(pence) > Decimal(repr(field.max_value)) * 100:
        raise AnswerError(
            f"{start} must be {_pounds_limit_text(field.max_value)} or less", field.id
        )
    return pence


_PERCENT = re.compile(
    r"^(?P<sign>[-+]?)\s*(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?:%|percent|per cent|pc)?$"
)


def _parse_percentage(field: Field, text: str) -> float:
    cleaned = _normalise(text)
    match = _PERCENT.match(cleaned) if len(cleaned) <= _MAX_SHORT_INPUT else None
    if not match:
        raise AnswerError(
            f"Enter {label_in_sentence(field)} as a percentage, like {field.effective_example}",
            field.id,
        )
    number = Decimal(match["num"])
    if match["sign"] == "-":
        number = -number
    low = field.min_value if field.min_value is not None else 0.0
    high = field.max_value if field.max_value is not None else 100.0
    start = label_at_start(field)
    if number < Decimal(repr(low)):
        raise AnswerError(f"{start} must be {_limit_text(low)}% or more", field.id)
    if number > Decimal(repr(high)):
        raise AnswerError(f"{start} must be {_limit_text(high)}% or less", field.id)
    return float(number)


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


_COUNT = r"(?:\d{1,3}|an?|" + "|".join(_NUMBER_WORDS) + ")"
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
    cleaned = _normalise(text)
    if len(cleaned) > _MAX_SHORT_INPUT:
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
    cleaned = _normalise(text)
    if len(cleaned) > _MAX_SHORT_INPUT:
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
# Choices
# --------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(?:option\s*|number\s*)?(\d{1,3})(?:[.)])?$")
_NUMBER_THEN_LABEL = re.compile(r"^(\d{1,3})[.)]\s+(.+)$")


def _match_choice(field: Field, text: str) -> Choice | None:
    """Find the option someone meant by its value, its words, or its number.

    Values are tried first because web forms send them; then labels, which
    chat users type; then the 1-based number we show beside each option.
    Raises AnswerError for a number with no option, so the message can say so.
    """
    for choice in field.choices:
        if text.strip() == choice.value:
            return choice
    wanted = _normalise(text)
    if not wanted:
        return None
    for choice in field.choices:
        if wanted in (_normalise(choice.value), _normalise(choice.label)):
            return choice
    numbered = _NUMBERED.match(wanted)
    if numbered:
        number = int(numbered[1])
        if 1 <= number <= len(field.choices):
            return field.choices[number - 1]
        raise AnswerError(
            f"There is no option {number} for {label_in_sentence(field)}. "
            f"Choose a number from 1 to {len(field.choices)}.",
            field.id,
        )
    copied = _NUMBER_THEN_LABEL.match(wanted)  # "2. Food banks", pasted from the prompt
    if copied:
        number = int(copied[1])
        if 1 <= number <= len(field.choices):
            choice = field.choices[number - 1]
            if _normalise(choice.label) == copied[2]:
                return choice
    return None


def _unknown_choice(field: Field, text: str) -> AnswerError:
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return AnswerError(
        f"'{shown}' is not one of the options for {label_in_sentence(field)}. "
        f"Choose from the list, like {field.choices[0].label}",
        field.id,
    )


def _parse_single_choice(field: Field, text: str) -> str:
    choice = _match_choice(field, text)
    if choice is None:
        raise _unknown_choice(field, text)
    return choice.value


_SEPARATOR = re.compile(r"(\s*(?:,|;|\n|&|\+|\band\b)\s*)", re.IGNORECASE)
_MAX_PIECES = 60


def _split_choices(field: Field, text: str) -> list[Choice]:
    """Split "1, 3 and Food banks" into options.

    Labels can themselves hold commas or "and" ("Under £10,000", "Food and
    drink"), so rather than splitting blindly we look for a way of grouping
    the pieces in which every group names an option, preferring long groups.
    """
    whole = _match_choice(field, text)
    if whole is not None:
        return [whole]
    if re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", text.strip()):  # "1 3 4"
        pieces = text.split()
        found = [_match_choice(field, piece) for piece in pieces]
        return [choice for choice in found if choice is not None]

    parts = _SEPARATOR.split(text)
    tokens, seps = parts[0::2], parts[1::2]
    if len(tokens) > _MAX_PIECES:
        raise AnswerError(
            f"Choose fewer options for {label_in_sentence(field)}, using the list", field.id
        )
    memo: dict[int, list[Choice] | None] = {}

    def solve(start: int) -> list[Choice] | None:
        if start == len(tokens):
            return []
        if start in memo:
            return memo[start]
        result: list[Choice] | None = None
        if not tokens[start].strip():
            result = solve(start + 1)
        else:
            for end in range(len(tokens), start, -1):
                piece = "".join(
                    tokens[i] + (seps[i] if i < end - 1 else "") for i in range(start, end)
                )
                try:
                    choice = _match_choice(field, piece)
                except AnswerError:
                    choice = None
                if choice is None:
                    continue
                rest = solve(end)
                if rest is not None:
                    result = [choice, *rest]
                    break
        memo[start] = result
        return result

    solved = solve(0)
    if solved is not None:
        return solved
    # No grouping works: name the first piece we cannot place.
    for token in tokens:
        # _match_choice may itself raise, to say "there is no option 7".
        if token.strip() and _match_choice(field, token) is None:
            raise _unknown_choice(field, token)
    raise _unknown_choice(field, text)  # pragma: no cover - defensive


def _parse_multiple_choice(field: Field, raw: str | Sequence[str]) -> list[str] | None:
    chosen: list[Choice] = []
    if isinstance(raw, str):
        if len(raw) > 20 * _MAX_SHORT_INPUT:
            raise _unknown_choice(field, raw)
        chosen = _split_choices(field, raw)
    else:
        for item in raw:
            if is_blank(item):
                continue
            choice = _match_choice(field, str(item))
            if choice is None:
                raise _unknown_choice(field, str(item))
            chosen.append(choice)
    values: list[str] = []
    for choice in chosen:
        if choice.value not in values:
            values.append(choice.value)
    return values or None


_YES_WORDS = frozenset({"yes", "y", "true", "1", "yeah", "yep", "yup"})
_NO_WORDS = frozenset({"no", "n", "false", "0", "nope", "nah"})


def _parse_yes_no(field: Field, text: str) -> bool:
    try:
        choice = _match_choice(field, text)
    except AnswerError:
        choice = None  # e.g. "0" is not an option number but does mean no.
    if choice is not None:
        return choice.value == "yes"
    cleaned = _normalise(text)
    if cleaned in _YES_WORDS:
        return True
    if cleaned in _NO_WORDS:
        return False
    if _is_question(field):
        message = f"Answer yes or no to '{_clean_label(field)}'"
    else:
        message = f"Answer yes or no for {label_in_sentence(field)}"
    raise AnswerError(message, field.id)


_SCALE_TEXT = re.compile(rf"^(\d)\s*(?:/\s*{SCALE_MAX}|out of {SCALE_MAX}|of {SCALE_MAX})?$")


def _parse_scale(field: Field, text: str) -> int:
    error = AnswerError(
        f"Choose a number from {SCALE_MIN} to {SCALE_MAX} for {label_in_sentence(field)}, "
        f"like {field.effective_example}",
        field.id,
    )
    allowed = {choice.value for choice in field.choices}
    match = _SCALE_TEXT.match(_normalise(text))
    if match and match[1] in allowed:
        return int(match[1])
    try:
        choice = _match_choice(field, text)
    except AnswerError as exc:
        raise error from exc
    if choice is None:
        raise error
    return int(choice.value)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def parse_answer(field: Field, raw: str | list[str] | None) -> Any:
    """Turn raw input from any door into the stored value, or None if blank.

    Raises AnswerError, with a message ready to show, if the input cannot be
    understood or breaks the field's limits. Required-ness is NOT checked
    here: blank is a valid "no answer", and the caller decides whether that is
    acceptable (it is when saving a draft).
    """
    if field.type == FieldType.MULTIPLE_CHOICE:
        if raw is None or is_blank(raw):
            return None
        return _parse_multiple_choice(field, raw)
    text = _single_raw(field, raw)
    if text is None:
        return None
    match field.type:
        case FieldType.SHORT_TEXT | FieldType.LONG_TEXT:
            return _parse_text(field, text)
        case FieldType.WHOLE_NUMBER:
            return _parse_whole_number(field, text)
        case FieldType.MONEY:
            return _parse_money(field, text)
        case FieldType.PERCENTAGE:
            return _parse_percentage(field, text)
        case FieldType.DATE:
            return _parse_date(field, text)
        case FieldType.DATE_TIME:
            return _parse_date_time(field, text)
        case FieldType.SINGLE_CHOICE:
            return _parse_single_choice(field, text)
        case FieldType.YES_NO:
            return _parse_yes_no(field, text)
        case FieldType.SCALE:
            return _parse_scale(field, text)
    raise AssertionError(f"unhandled field type {field.type}")  # pragma: no cover


def _label_for(field: Field, value: Any) -> str:
    for choice in field.choices:
        if choice.value == str(value):
            return choice.label
    return str(value)  # An option removed since the answer was saved.


def format_answer(field: Field, value: Any) -> str:
    """Show a stored answer to a person, e.g. on a check-your-answers page.

    Never raises: an answer saved under an older form version should still
    display as something rather than break the page.
    """
    if is_blank(value):
        return NOT_ANSWERED
    try:
        match field.type:
            case FieldType.WHOLE_NUMBER:
                return f"{int(value):,}"
            case FieldType.MONEY:
                return _pounds_text(int(value))
            case FieldType.PERCENTAGE:
                shown = Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP)
                return f"{_plain_decimal(shown)}%"
            case FieldType.DATE:
                return _display_date(date.fromisoformat(str(value)))
            case FieldType.DATE_TIME:
                return _display_date_time(value)
            case FieldType.SINGLE_CHOICE:
                return _label_for(field, value)
            case FieldType.MULTIPLE_CHOICE:
                items = value if isinstance(value, list | tuple) else [value]
                return ", ".join(_label_for(field, item) for item in items)
            case FieldType.YES_NO:
                return _label_for(field, "yes" if value else "no")
            case FieldType.SCALE:
                label = _label_for(field, int(value))
                if label == str(int(value)):
                    return f"{label} out of {SCALE_MAX}"
                return label
    except (TypeError, ValueError, ArithmeticError):
        pass
    return str(value)


def to_raw(field: Field, value: Any) -> str | list[str]:
    """The text to pre-fill an input with, so that parse_answer gives ``value`` back."""
    if value is None:
        return ""
    match field.type:
        case FieldType.WHOLE_NUMBER | FieldType.SCALE:
            return str(int(value))
        case FieldType.MONEY:
            return _pounds_text(int(value)).replace("£", "").replace(",", "")
        case FieldType.PERCENTAGE:
            return _plain_decimal(Decimal(repr(float(value))))
        case FieldType.YES_NO:
            return "yes" if value else "no"
        case FieldType.MULTIPLE_CHOICE:
            items = value if isinstance(value, list | tuple) else [value]
            return [str(item) for item in items]
        case FieldType.DATE_TIME:
            try:
                return _display_date_time(value)
            except (TypeError, ValueError, ArithmeticError):
                pass  # Shown as saved, so the person sees what to correct.
    return str(value)
