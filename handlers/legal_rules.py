"""The page "The legal rules Convene uses": every rule in force on a day, with its figure
and the law that sets it.

Councils and providers should be able to check what Convene applies, and why, rather than
trust it. The page reads the same dated data the features use (`bot.core.law`), for a
procurement started on the day asked (today in London when none is given). It is a page
only: the Teams command lists are full, and nobody needs it in chat.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.clock import LONDON
from bot.core.feature import Feature
from bot.core.law import Rule, all_rules, rules_in_force
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.services import Services


def _day(value: date) -> str:
    """'Friday 6 March 2026'."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def figure(entry: Rule) -> str:
    """A rule's value as people read it: '£663,540 (including VAT)', '8 working days'."""
    value = entry.value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    if entry.unit == "pounds":
        return f"£{value:,}" + (f" ({entry.vat})" if entry.vat else "")
    if entry.unit == "per cent":
        return f"{value}%"
    if entry.unit == "count":
        return f"{value:,}"
    return f"{value:,} {entry.unit}"


def _row(entry: Rule) -> dict[str, Any]:
    return {
        "name": entry.name,
        "figure": figure(entry),
        "description": entry.description,
        "citation": entry.citation,
        "starts": _day(entry.starts),
        "ends": _day(entry.ends) if entry.ends else None,
    }


def change_days() -> list[date]:
    """The days on which some rule changed: worth a link, since figures differ either side."""
    return sorted({entry.starts for entry in all_rules()})


async def legal_rules_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/legal-rules` (today) and `/legal-rules/2025-12-31`: the rules for a procurement
    started that day."""
    asked = request.params.get("on")
    if asked is None:
        on = services.clock.now().astimezone(LONDON).date()
    else:
        try:
            on = date.fromisoformat(asked)
        except ValueError:
            return PageRefusal(
                400,
                "That is not a date we can read",
                [
                    "Put the date at the end of the address as year-month-day.",
                    "For example: /legal-rules/2026-03-06",
                ],
            )
    rows = [_row(entry) for entry in rules_in_force(on)]
    return PageContent(
        title="The legal rules Convene uses",
        template="legal_rules.html",
        data={
            "on": _day(on),
            "rows": rows,
            "first_day": _day(change_days()[0]),
            "changes": [
                {"day": _day(d), "href": f"/legal-rules/{d.isoformat()}"} for d in change_days()
            ],
        },
    )


FEATURE = Feature(
    name="legal_rules",
    pages=(
        WebPage("/legal-rules", "html", legal_rules_page),
        WebPage("/legal-rules/{on}", "html", legal_rules_page),
    ),
)
