"""Reserved contracts: supported employment (s.32) and public service mutuals (s.33).

An opportunity may be reserved for these organisations only when the law's conditions
hold; Convene checks the figures and says, in plain words, which condition fails.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.core.law.rules import whole_number, yes_or_no


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def supported_employment_qualifies(
    percent_disabled_or_disadvantaged: Decimal | int, on: date
) -> bool:
    """Whether an organisation's workforce meets s.32: at least 30% of its workers disabled
    or disadvantaged."""
    return Decimal(percent_disabled_or_disadvantaged) >= whole_number(
        "reserved.supported_employment_min_percent", on
    )


def mutual_reservation_problems(
    light_touch: bool, term_months: int, last_reserved_award_to_mutual: date | None, on: date
) -> list[str]:
    """Why a contract cannot be reserved for a public service mutual (s.33), in plain
    words; an empty list means it can. `last_reserved_award_to_mutual` is when this council
    last gave that mutual a reserved contract, if ever; `on` is the procurement's start."""
    problems: list[str] = []
    if yes_or_no("reserved.mutual_light_touch_only", on) and not light_touch:
        problems.append(
            "Only light-touch services (such as care or community services) can be reserved for a mutual."
        )
    max_years = whole_number("reserved.mutual_max_term_years", on)
    if term_months > max_years * 12:
        problems.append(f"A contract reserved for a mutual can last {max_years} years at most.")
    gap = whole_number("reserved.mutual_no_repeat_years", on)
    if last_reserved_award_to_mutual is not None and last_reserved_award_to_mutual > _years_before(
        on, gap
    ):
        problems.append(
            f"This council gave this mutual a reserved contract in the last {gap} years, "
            "so it cannot reserve another one for it yet."
        )
    return problems
