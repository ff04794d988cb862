"""The rules an opportunity must keep to stay on its route.

The route was chosen from answers; the opportunity is written later and can drift (a
bigger value, a longer contract, an organisation that is not a mutual). `route_problems`
says, in plain words with the law cited, what no longer fits. An empty list means it fits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from bot.core.law.reserved import mutual_reservation_problems, supported_employment_qualifies
from bot.core.law.routes import Route, RouteDecision
from bot.core.law.rules import rule
from bot.core.law.thresholds import Money, is_above_threshold, threshold_for


def _money(pounds: int) -> str:
    return f"£{pounds:,}"


def route_problems(
    decision: RouteDecision,
    *,
    value: Money | None,
    length_months: int | None = None,
    light_touch_service: bool | None = None,
    awarded_to_mutual: bool | None = None,
    awarded_to_supported_employment_percent: Decimal | int | None = None,
    previous_reserved_awards_to_that_mutual: Iterable[date] = (),
) -> list[str]:
    """What breaks the route's rules, in plain words, each ending with its citation.

    - `value`: the opportunity's estimated value in pounds including VAT, if known.
    - `length_months`: the longest the contract could last, extensions included.
    - `light_touch_service`: whether the service (from its CPV codes) is a light-touch one;
      None when not known.
    - `awarded_to_mutual`: for a contract reserved for mutuals, whether the organisation it
      is going to has the public service mutual flag; None before anyone is chosen.
    - `awarded_to_supported_employment_percent`: for a supported employment reservation,
      the share of that organisation's workers who are disabled or disadvantaged.
    - `previous_reserved_awards_to_that_mutual`: the days this council gave that mutual a
      contract reserved for mutuals before.
    """
    on = decision.started_on
    problems: list[str] = []

    if (
        decision.route is Route.BELOW_THRESHOLD
        and value is not None
        and is_above_threshold(value, decision.contract_kind, on)
    ):
        limit = threshold_for(decision.contract_kind, on)
        problems.append(
            f"It is worth {_money(int(Decimal(value)))}, which is at or above the "
            f"money limit of {_money(limit)}. It cannot follow the below-threshold route: "
            "choose the route again. "
            f"({rule('threshold.' + _threshold_name(decision), on).citation})"
        )

    if decision.route is Route.LIGHT_TOUCH and light_touch_service is False:
        problems.append(
            "This route is for care, health, social, education or community services (the "
            "light-touch rules), but the service is not one of those. Choose the route "
            f"again. ({rule('threshold.light_touch', on).citation})"
        )

    if decision.route is Route.RESERVED_MUTUAL:
        last = max(previous_reserved_awards_to_that_mutual, default=None)
        citation = rule("reserved.mutual_light_touch_only", on).citation
        for message in mutual_reservation_problems(
            decision.light_touch and light_touch_service is not False,
            length_months if length_months is not None else 0,
            last,
            on,
        ):
            problems.append(f"{message} ({citation})")
        if awarded_to_mutual is False:
            problems.append(
                "This contract is kept for public service mutuals, but the organisation is "
                f"not marked as a mutual. ({citation})"
            )

    if decision.route is Route.RESERVED_SUPPORTED_EMPLOYMENT:
        percent = awarded_to_supported_employment_percent
        if percent is not None and not supported_employment_qualifies(percent, on):
            needed = rule("reserved.supported_employment_min_percent", on)
            problems.append(
                "This contract is kept for supported employment providers, but not enough of "
                f"the organisation's workers are disabled or disadvantaged (at least "
                f"{needed.value}% are needed). ({needed.citation})"
            )
    return problems


def _threshold_name(decision: RouteDecision) -> str:
    return {
        "light_touch": "light_touch",
        "works": "works",
        "goods_services": "sub_central_goods_services",
    }[decision.contract_kind]
