"""The route an opportunity takes, chosen from six plain questions, and why.

A commissioner answers the form `opportunity_route` (grant or purchase? health care? what
kind of work? how much? how chosen? kept for certain organisations?). `choose_route` turns
those answers into a `RouteDecision`: the route, the rules that apply by the procurement's
start date, and the reasons in plain words, each citing the law.

"Not sure" is always an answer. It never blocks a decision: Convene takes the careful
reading (the Act applies; the lower money limit; above the threshold when the value is not
known) and says what to check, so a council is never told it needs fewer notices than it
does.

The checklist of notices is in `bot.core.law.checklist`; the rules an opportunity must keep
to stay on its route are in `bot.core.law.route_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.core.law.rules import rule
from bot.core.law.thresholds import (
    ContractKind,
    hand_off_to_provider_selection_regime,
    is_above_threshold,
    is_outside_the_act_as_a_grant,
    is_regulated_below_threshold,
    threshold_for,
)

#: The form whose answers `choose_route` reads.
ROUTE_FORM_KEY = "opportunity_route"
NOT_SURE = "not_sure"


class Route(StrEnum):
    """Every route Convene knows. The values are stored: never rename one."""

    GRANT = "grant"
    PARTICIPATORY_GRANTS = "participatory_grants"
    GRANT_THEN_CONTRACT = "grant_then_contract"
    STANDARD_CONTRACT = "standard_contract"
    LIGHT_TOUCH = "light_touch"
    BELOW_THRESHOLD = "below_threshold"
    DIRECT_AWARD = "direct_award"
    RESERVED_SUPPORTED_EMPLOYMENT = "reserved_supported_employment"
    RESERVED_MUTUAL = "reserved_mutual"
    INNOVATION_PARTNERSHIP = "innovation_partnership"
    FRAMEWORK_CALL_OFF = "framework_call_off"
    PROVIDER_SELECTION_REGIME = "provider_selection_regime"


#: What people call each route.
ROUTE_NAMES: dict[Route, str] = {
    Route.GRANT: "Grant",
    Route.PARTICIPATORY_GRANTS: "Small grants chosen with local people (community chest)",
    Route.GRANT_THEN_CONTRACT: "Grant now, contract later",
    Route.STANDARD_CONTRACT: "Contract (competition)",
    Route.LIGHT_TOUCH: "Contract for care and community services (light-touch rules)",
    Route.BELOW_THRESHOLD: "Contract below the Act's money limit",
    Route.DIRECT_AWARD: "Contract given directly to one provider (direct award)",
    Route.RESERVED_SUPPORTED_EMPLOYMENT: "Contract kept for supported employment providers",
    Route.RESERVED_MUTUAL: "Contract kept for public service mutuals",
    Route.INNOVATION_PARTNERSHIP: "Innovation partnership",
    Route.FRAMEWORK_CALL_OFF: "Call-off from a framework or dynamic market",
    Route.PROVIDER_SELECTION_REGIME: "Health care under the Provider Selection Regime",
}

#: Routes outside the Procurement Act: grants (subsidy control) and the health care regime.
OUTSIDE_THE_ACT = frozenset(
    {
        Route.GRANT,
        Route.PARTICIPATORY_GRANTS,
        Route.GRANT_THEN_CONTRACT,
        Route.PROVIDER_SELECTION_REGIME,
    }
)

#: The answers each question of the form accepts (its choices' stored values).
FUNDING = ("purchase", "grant", "grant_then_contract", "community_chest", NOT_SURE)
HEALTH_CARE = ("yes", "no", NOT_SURE)
SERVICE_KIND = ("people_services", "other_services", "works", NOT_SURE)
HOW_CHOSEN = (
    "open",
    "flexible",
    "innovation",
    "framework",
    "direct_urgent",
    "direct_only_one",
    "direct_user_choice",
    NOT_SURE,
)
RESERVE = ("no", "supported_employment", "mutual", NOT_SURE)

_DIRECT_GROUNDS = {
    "direct_urgent": "it is extremely and unavoidably urgent",
    "direct_only_one": "only one provider can do it",
    "direct_user_choice": "the person who will use the service chose the provider",
}


class RouteAnswerError(ValueError):
    """An answer the route questions do not accept. The message is plain English."""


@dataclass(frozen=True)
class Reason:
    """One reason for the decision, in plain words, with the law behind it."""

    words: str
    citation: str


@dataclass(frozen=True)
class RouteDecision:
    """The route and the rules that apply, decided on the procurement's start date.

    `value` is the estimated value in pounds including VAT, or None when not known (then
    Convene treats the work as above the threshold). `above_threshold` is None for routes
    outside the Act. `direct_ground` is the answer naming the direct award ground, if any.
    """

    route: Route
    started_on: date
    value: Decimal | None
    light_touch: bool
    works: bool
    above_threshold: bool | None
    regulated_below_threshold: bool
    direct_ground: str | None
    procedure: str | None
    reasons: tuple[Reason, ...]
    checks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The route as people call it."""
        return ROUTE_NAMES[self.route]

    @property
    def under_the_act(self) -> bool:
        """Whether the Procurement Act's rules apply to this route at all."""
        return self.route not in OUTSIDE_THE_ACT

    @property
    def contract_kind(self) -> ContractKind:
        """Which threshold applies."""
        if self.light_touch:
            return "light_touch"
        return "works" if self.works else "goods_services"

    @property
    def direct_award(self) -> bool:
        """Whether the contract is given directly to one provider, without a competition."""
        return self.direct_ground is not None


def _choice(answers: Mapping[str, Any], key: str, allowed: tuple[str, ...], label: str) -> str:
    """The stored answer to one choice question; a missing answer counts as "not sure"."""
    raw = answers.get(key)
    if raw is None or raw == "":
        return NOT_SURE
    if isinstance(raw, bool):  # a yes/no question stores True or False
        raw = "yes" if raw else "no"
    if not isinstance(raw, str) or raw not in allowed:
        raise RouteAnswerError(f"We did not understand the answer to '{label}'. Choose again.")
    return raw


def _pounds(answers: Mapping[str, Any]) -> Decimal | None:
    """The value answer: the form stores money as whole pence."""
    raw = answers.get("value")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise RouteAnswerError("Enter how much it is worth as an amount in pounds, like £250,000.")
    if raw < 0:
        raise RouteAnswerError("How much it is worth cannot be less than £0.")
    return Decimal(raw) / 100


def _money(pounds: Decimal | int) -> str:
    """£250,000 or £12,500.50: how Convene writes money."""
    amount = Decimal(pounds)
    if amount == amount.to_integral_value():
        return f"£{int(amount):,}"
    return f"£{amount:,.2f}"


def _cite(name: str, on: date) -> str:
    return rule(name, on).citation


def _full_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def choose_route(answers: Mapping[str, Any], started_on: date) -> RouteDecision:
    """The route for these answers (as the `opportunity_route` form stores them: choices as
    their values, the value in whole pence) for a procurement started on `started_on`.

    Raises RouteAnswerError (a ValueError with a plain-English message) for an answer the
    form would never store.
    """
    funding = _choice(answers, "funding", FUNDING, "Are you giving a grant or buying a service?")
    health = _choice(answers, "health_care", HEALTH_CARE, "Is it a health care service?")
    kind = _choice(answers, "service_kind", SERVICE_KIND, "What kind of work is it?")
    how = _choice(answers, "how_chosen", HOW_CHOSEN, "How will you choose who does the work?")
    reserve = _choice(
        answers,
        "reserve",
        RESERVE,
        "Do you want to keep it for some kinds of organisation only?",
    )
    value = _pounds(answers)
    on = started_on
    reasons: list[Reason] = []
    checks: list[str] = []

    light_touch = kind == "people_services"
    works = kind == "works"

    def decided(
        route: Route,
        above: bool | None,
        *,
        regulated: bool = False,
        ground: str | None = None,
        procedure: str | None = None,
    ) -> RouteDecision:
        return RouteDecision(
            route=route,
            started_on=on,
            value=value,
            light_touch=light_touch,
            works=works,
            above_threshold=above,
            regulated_below_threshold=regulated,
            direct_ground=ground,
            procedure=procedure,
            reasons=tuple(reasons),
            checks=tuple(checks),
        )

    # 1. Health care services: flagged and handed off, never run.
    if hand_off_to_provider_selection_regime(health == "yes", on):
        reasons.append(
            Reason(
                "It is a health care service, so it may be arranged under the Provider "
                "Selection Regime instead of the Procurement Act. Convene does not run that "
                "regime: follow it with your health commissioning or procurement team.",
                _cite("route.health_care_provider_selection_regime", on),
            )
        )
        return decided(Route.PROVIDER_SELECTION_REGIME, None)
    if health == NOT_SURE:
        checks.append(
            "You were not sure if it is a health care service. Check with your procurement "
            "team: if it is, the Provider Selection Regime may apply instead."
        )

    # 2. Grants are not procurement: subsidy control applies instead.
    grants = {
        "grant": Route.GRANT,
        "community_chest": Route.PARTICIPATORY_GRANTS,
        "grant_then_contract": Route.GRANT_THEN_CONTRACT,
    }
    if funding in grants and is_outside_the_act_as_a_grant(True, on):
        words = {
            Route.GRANT: "It is a grant, not a purchase, so the Procurement Act does not apply. "
            "Subsidy control rules apply instead.",
            Route.PARTICIPATORY_GRANTS: "Small grants that local people help choose are "
            "grants, not purchases, so the Procurement Act does not apply. Subsidy control "
            "rules apply instead.",
            Route.GRANT_THEN_CONTRACT: "The grant comes first and is not a purchase, so the "
            "Procurement Act does not apply to it; subsidy control does. The contract later "
            "is a new procurement: the rules on the day it starts will apply.",
        }[grants[funding]]
        reasons.append(Reason(words, _cite("route.grants_outside_the_act", on)))
        return decided(grants[funding], None)
    if funding == NOT_SURE:
        checks.append(
            "You were not sure if this is a grant or a purchase. We have followed the "
            "Procurement Act to be safe. If it is a grant, answer again."
        )

    # 3. A purchase: which threshold, and is the contract above it?
    contract_kind: ContractKind = (
        "light_touch" if light_touch else ("works" if works else "goods_services")
    )
    threshold = threshold_for(contract_kind, on)
    threshold_cite = _cite(
        {
            "light_touch": "threshold.light_touch",
            "works": "threshold.works",
            "goods_services": "threshold.sub_central_goods_services",
        }[contract_kind],
        on,
    )
    if light_touch:
        reasons.append(
            Reason(
                "Care, health, social, education and community services follow the "
                "light-touch rules: no set minimum time to tender, no required standstill, "
                "and longer to publish the contract details.",
                _cite("threshold.light_touch", on),
            )
        )
    elif kind == NOT_SURE:
        checks.append(
            "You were not sure what kind of work it is. We have used the rules for other "
            "services, which have the lowest money limit. If it is care or community "
            "work, answer again: lighter rules may apply."
        )
    if value is None:
        above = True
        checks.append(
            "You did not give a value, so we have followed the rules for contracts above "
            f"the money limit ({_money(threshold)} including VAT). Add the value when you "
            "know it."
        )
    else:
        above = is_above_threshold(value, contract_kind, on)
        side = "at or above" if above else "below"
        reasons.append(
            Reason(
                f"It is worth {_money(value)} including VAT: {side} the money limit of "
                f"{_money(threshold)} for a procurement started on {_full_date(on)}.",
                threshold_cite,
            )
        )
    regulated = (
        value is not None and not above and is_regulated_below_threshold(value, contract_kind, on)
    )

    # 4. Framework or dynamic market call-offs keep that arrangement's own process.
    if how == "framework":
        reasons.append(
            Reason(
                "You will call it off from a framework or dynamic market you already use: "
                "follow its rules for choosing a provider. No new tender notice is needed "
                "for a framework call-off; a dynamic market uses its own members.",
                "Procurement Act 2023 ss.34-40 (dynamic markets) and ss.45-49 (frameworks)",
            )
        )
        return decided(Route.FRAMEWORK_CALL_OFF, above, regulated=regulated)

    # 5. Direct award: a transparency notice first, above the threshold (s.44).
    if how in _DIRECT_GROUNDS:
        if above:
            reasons.append(
                Reason(
                    f"You will give it straight to one provider because {_DIRECT_GROUNDS[how]}. "
                    "This is allowed only on the grounds in the law, and you must publish a "
                    "transparency notice before you do.",
                    f"Procurement Act 2023 s.41 and Sch. 5; {_cite('notice.transparency', on)}",
                )
            )
            return decided(Route.DIRECT_AWARD, above, ground=how)
        reasons.append(
            Reason(
                "Below the money limit you may give it straight to one provider without the "
                "Act's transparency notice. Keep a note of why you chose them.",
                _cite("below_threshold.council", on),
            )
        )
        return decided(Route.BELOW_THRESHOLD, above, regulated=regulated, ground=how)

    # 6. Below the threshold: the Act's notices for public contracts do not apply.
    if not above:
        if regulated:
            words = (
                "It is a regulated below-threshold contract: if you advertise it, publish a "
                "tender notice, and publish the contract details once it is signed."
            )
        else:
            words = "It is worth too little for the Act's notices: no notices are needed."
        reasons.append(Reason(words, _cite("below_threshold.council", on)))
        if reserve in ("supported_employment", "mutual"):
            checks.append(
                "Keeping a contract for certain organisations is a rule for contracts above "
                "the money limit. Below it, talk to your procurement team."
            )
        return decided(Route.BELOW_THRESHOLD, above, regulated=regulated)

    # 7. Above the threshold: an innovation partnership, a reserved contract, or a
    # competition (open, or competitive flexible).
    if how == "innovation":
        reasons.append(
            Reason(
                "An innovation partnership develops something new with a partner. It is run "
                "as a competitive flexible procedure that you design.",
                "Procurement Act 2023 s.20(2)(b)",
            )
        )
        return decided(Route.INNOVATION_PARTNERSHIP, above, procedure="competitive flexible")

    procedure = "open" if how == "open" else "competitive flexible"
    if how == NOT_SURE:
        checks.append(
            "You were not sure how you will choose. A competition is the usual way: an open "
            "one-stage procedure or a competitive flexible procedure you design."
        )
    if reserve == "supported_employment":
        reasons.append(
            Reason(
                "Only supported employment providers may take part: organisations where "
                "enough of the workers are disabled or disadvantaged.",
                _cite("reserved.supported_employment_min_percent", on),
            )
        )
        return decided(Route.RESERVED_SUPPORTED_EMPLOYMENT, above, procedure=procedure)
    if reserve == "mutual":
        reasons.append(
            Reason(
                "Only public service mutuals may take part. This is allowed for care and "
                "community services, for a limited time, and not for a mutual this council "
                "gave a reserved contract to recently.",
                _cite("reserved.mutual_light_touch_only", on),
            )
        )
        return decided(Route.RESERVED_MUTUAL, above, procedure=procedure)
    if reserve == NOT_SURE:
        checks.append(
            "You were not sure whether to keep it for certain organisations. We have left it "
            "open to everyone."
        )
    reasons.append(
        Reason(
            f"You will run a competition ({procedure} procedure).",
            "Procurement Act 2023 s.20",
        )
    )
    if light_touch:
        return decided(Route.LIGHT_TOUCH, above, procedure=procedure)
    return decided(Route.STANDARD_CONTRACT, above, procedure=procedure)
