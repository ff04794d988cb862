"""Checks the exporters share: money, times, places, words. Each refuses in plain English.

A public record is hard to take back, so the exporters check what they are given before
writing anything, and say what is wrong the way a commissioner would put it right.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from bot.core.clock import format_when
from bot.core.opendata.model import OpenDataRefused

#: An ONS GSS code: a nation letter and 8 digits (E08000035).
GSS_CODE = re.compile(r"^[EWSN]\d{8}$")
#: An ISO 4217 currency code.
CURRENCY = re.compile(r"^[A-Z]{3}$")
#: An OCDS publisher prefix, as the Open Contracting Partnership gives them out.
OCID_PREFIX = re.compile(r"^ocds-[a-z0-9]{6}$")
#: A CPV 2008 code, with or without its check digit.
CPV_CODE = re.compile(r"^\d{8}(?:-\d)?$")


def pounds(amount: Decimal) -> str:
    """£1,500.00 (or -£5.00), as a message shows money."""
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def money(amount: Decimal | int | None, what: str) -> Decimal | None:
    """A sum of money as published: a finite amount of £0 or more, to the penny."""
    if amount is None:
        return None
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = Decimal(amount)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise OpenDataRefused(f"The {what} is not an amount of money. Give it in pounds.")
    if amount < 0:
        raise OpenDataRefused(
            f"The {what} is {pounds(amount)}. Amounts can't be less than £0: check it and try again."
        )
    return amount.quantize(Decimal("0.01"))


def number(amount: Decimal) -> int | float:
    """A checked amount as a JSON number: whole pounds as an integer, pence as a decimal."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def currency(code: str) -> str:
    if not CURRENCY.match(code or ""):
        raise OpenDataRefused(
            f"The currency '{code}' is not a 3-letter currency code like GBP for pounds."
        )
    return code


def when(value: datetime | None, what: str) -> str | None:
    """A time as OCDS writes it (ISO 8601 with its offset); a time with no zone is refused."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise OpenDataRefused(
            f"The {what} has no time zone, so nobody can tell when it is. Give it in UK time."
        )
    return value.isoformat()


def day(value: date | None, what: str) -> str | None:
    """A day as 360Giving writes it: YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, datetime):
        raise OpenDataRefused(f"The {what} should be a day, without a time.")
    return value.isoformat()


def in_order(first: datetime | None, then: datetime | None, first_is: str, then_is: str) -> None:
    """Refuse ``then`` before ``first`` (a deadline before the opening, say)."""
    when(first, first_is)
    when(then, then_is)
    if first is not None and then is not None and then < first:
        raise OpenDataRefused(
            f"The {then_is} ({format_when(then)}) is before the {first_is} "
            f"({format_when(first)}). Check the dates and try again."
        )


def words(text: str | None, what: str) -> str:
    """Required text: present and not only spaces."""
    if text is None or not text.strip():
        raise OpenDataRefused(f"The {what} is missing. Every published record needs one.")
    return text.strip()


def optional_words(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def area_code(code: str) -> str:
    tidy = code.strip().upper()
    if not GSS_CODE.match(tidy):
        raise OpenDataRefused(
            f"'{code}' is not an ONS area code. Codes are a letter and 8 numbers, like E08000035."
        )
    return tidy


def cpv(code: str) -> str:
    """A CPV code as published: the 8 digits (check digits vary between copies of the list)."""
    tidy = code.strip()
    if not CPV_CODE.match(tidy):
        raise OpenDataRefused(
            f"'{code}' is not a CPV code. CPV codes are 8 numbers, like 85311000."
        )
    return tidy[:8]


def ocid_prefix(prefix: str) -> str:
    if not OCID_PREFIX.match(prefix or ""):
        raise OpenDataRefused(
            f"'{prefix}' is not an OCID prefix. They are ocds- and 6 letters or numbers, "
            "like ocds-h6vhtk. Set CONVENE_OCID_PREFIX to the one registered for this council."
        )
    return prefix
