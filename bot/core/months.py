"""Calendar months: "the same day, n months on", as contracts and the law count them.

A period "of 12 months" or a reminder "6 months before the end" lands on the same day of
the month; when that month is shorter (31 August less 6 months), on its last day. Kept
in one place so the pipeline notice, check-in plans and key dates all count alike.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime


def add_months(day: date, months: int) -> date:
    """The same day of the month, `months` later (earlier when negative), or that month's
    last day when it is shorter: 31 January + 1 month is 28 (or 29) February."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError("pass a date, not a time")
    counted = day.month - 1 + months
    year, month = day.year + counted // 12, counted % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
