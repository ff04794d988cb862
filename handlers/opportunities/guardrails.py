"""The guardrails on an opportunity, checked at preview and at publishing.

Most are warnings: the team sees them and may publish anyway. Only the law makes one a
refusal. The checks decide; the words are in `views.guardrail_text`.

- **Too short for the law** (a refusal): on a route where the Procurement Act 2023 sets a
  minimum tendering period (s.54: a competitive tender for a contract, not a light-touch
  one), fewer days from publishing to the deadline than `tender_period.minimum_days`.
  The Act allows down to `tender_period.reduced_minimum_days` only after a qualifying
  planned procurement notice or in a state of urgency; Convene cannot record either yet,
  so it says so and refuses. Where the route is not decided (or may be light-touch), the
  same shortfall is a warning.
- **Under six weeks** (a warning): good practice for every tender, seed 004
  (`tender_period.good_practice_days`).
- **A lot bigger than most local providers can take on** (a warning): its yearly value
  (the top of its range, spread over the contract's length when known) is more than the
  largest yearly contract that most of this council's providers said they could take on
  in their readiness answers. Counted in aggregate, and only when at least
  `settings.suppression_minimum` providers (5) answered; no provider is ever named.
- **Additionality asked for but not funded** (a warning): a simple word check. The
  opportunity's text mentions "additionality" or "additional" / "added" / "extra" social
  value, and "Where the money comes from" does not mention social value, so nothing says
  the extra is paid for. Weighting social value in the scoring does not pay for it.
- **Price above quality**, and **nobody to tell** (warnings, as before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.law import LawError, has_statutory_minimum_tender_period, rule
from bot.core.law.routes import Route
from bot.core.law.rules import whole_number
from bot.settings import Settings
from storage.opportunity_tables import Opportunity, OpportunityLot
from storage.readiness import largest_contract_counts

#: Routes that are a competitive tender for a public contract, where s.54's minimum
#: tendering period applies.
TENDERED_UNDER_THE_ACT = frozenset(
    {
        Route.STANDARD_CONTRACT,
        Route.INNOVATION_PARTNERSHIP,
        Route.RESERVED_SUPPORTED_EMPLOYMENT,
    }
)
#: Light-touch routes: the Act sets no minimum tendering period (s.54, in the legal data).
LIGHT_TOUCH = frozenset({Route.LIGHT_TOUCH, Route.RESERVED_MUTUAL})
#: A route not chosen yet, or a call-off (its own competition's rules): only a warning.
MAYBE_TENDERED = frozenset({"", Route.FRAMEWORK_CALL_OFF})

#: What counts as asking for additionality, and what counts as funding social value.
ASKS_FOR_ADDITIONALITY = re.compile(
    r"\badditionality\b|\b(additional|added|extra)\s+social\s+value\b", re.IGNORECASE
)
NAMES_SOCIAL_VALUE = re.compile(r"\bsocial\s+value\b", re.IGNORECASE)


@dataclass(frozen=True)
class TooShortForTheLaw:
    """Fewer days than the Act's minimum tendering period for this route."""

    days: int
    minimum: int
    reduced_minimum: int
    citation: str
    #: False where the route may not be a tender under the Act: then only a warning.
    certain: bool = True


@dataclass(frozen=True)
class UnderGoodPractice:
    days: int
    good_practice_days: int
    source: str


@dataclass(frozen=True)
class LotTooLarge:
    """A lot bigger than most of `answered` providers' largest yearly contract."""

    #: None for an opportunity without lots (the whole work is one lot).
    lot_number: int | None
    lot_title: str | None
    yearly_pence: int
    answered: int


@dataclass(frozen=True)
class UnfundedAdditionality:
    social_value_weight: int


@dataclass(frozen=True)
class PriceLed:
    price_weight: int
    quality_weight: int


@dataclass(frozen=True)
class NobodyToTell:
    pass


Guardrail = (
    TooShortForTheLaw
    | UnderGoodPractice
    | LotTooLarge
    | UnfundedAdditionality
    | PriceLed
    | NobodyToTell
)


@dataclass(frozen=True)
class Guardrails:
    """What the law refuses (publishing waits until they are fixed), and the warnings."""

    refusals: tuple[Guardrail, ...]
    warnings: tuple[Guardrail, ...]


def tendering_days(deadline: datetime, now: datetime, tz: ZoneInfo) -> int:
    """Days from publishing (today) to the deadline's day, counted in the council's zone."""
    return (deadline.astimezone(tz).date() - now.astimezone(tz).date()).days


def procurement_start(opportunity: Opportunity, now: datetime, tz: ZoneInfo) -> date:
    """The day the legal rules are looked up by: the procurement's start date if the team
    gave one, else the day it is published."""
    return opportunity.procurement_starts_on or now.astimezone(tz).date()


def tender_period_checks(
    opportunity: Opportunity, now: datetime, tz: ZoneInfo, deadline: datetime | None = None
) -> tuple[list[Guardrail], list[Guardrail]]:
    """The law's minimum (a refusal, or a warning when the route is unsure) and six weeks,
    from `now` (publishing) to the deadline (or to `deadline`, a new one an amendment
    proposes)."""
    refusals: list[Guardrail] = []
    warnings: list[Guardrail] = []
    deadline = deadline or opportunity.submission_deadline
    if deadline is None or deadline <= now:
        return refusals, warnings  # `setup.problems` already says so
    days = tendering_days(deadline, now, tz)
    route = opportunity.route or ""
    on = procurement_start(opportunity, now, tz)
    try:
        light_touch = route in LIGHT_TOUCH
        applies = route in TENDERED_UNDER_THE_ACT | MAYBE_TENDERED or light_touch
        if applies and has_statutory_minimum_tender_period(light_touch, on):
            minimum = rule("tender_period.minimum_days", on)
            if days < int(minimum.value):
                short = TooShortForTheLaw(
                    days,
                    int(minimum.value),
                    whole_number("tender_period.reduced_minimum_days", on),
                    minimum.citation,
                    certain=route in TENDERED_UNDER_THE_ACT,
                )
                (refusals if short.certain else warnings).append(short)
    except LawError:
        pass  # begun before the Act: the 2015 Regulations, which Convene does not hold
    good = rule("tender_period.good_practice_days", now.astimezone(tz).date())
    if days < int(good.value) and not refusals:
        warnings.append(UnderGoodPractice(days, int(good.value), good.citation))
    return refusals, warnings


def yearly_pence(low: int | None, high: int | None, length_months: int | None) -> int | None:
    """The top of a value range, as a yearly figure when the contract's length is known
    (readiness asks for the largest *yearly* contract)."""
    top = high if high is not None else low
    if top is None:
        return None
    if length_months and length_months > 12:
        return top * 12 // length_months
    return top


async def lots_too_large(
    session: AsyncSession,
    opportunity: Opportunity,
    lots: list[OpportunityLot],
    minimum_answered: int,
) -> list[Guardrail]:
    """Each lot (or the whole work, without lots) bigger than most local providers' largest
    yearly contract. Nothing unless at least `minimum_answered` providers answered."""
    parts: list[tuple[int | None, str | None, int | None, int | None]] = [
        (lot.number, lot.title, lot.value_min_pence, lot.value_max_pence) for lot in lots
    ] or [(None, None, opportunity.value_min_pence, opportunity.value_max_pence)]
    found: list[Guardrail] = []
    for number, title, low, high in parts:
        yearly = yearly_pence(low, high, opportunity.length_months)
        if yearly is None:
            continue
        answered, smaller = await largest_contract_counts(
            session, authority_id=opportunity.authority_id, pence=yearly
        )
        if answered >= minimum_answered and smaller * 2 > answered:
            found.append(LotTooLarge(number, title, yearly, answered))
    return found


def _texts(opportunity: Opportunity, lots: list[OpportunityLot]) -> list[str]:
    o = opportunity
    return [
        text
        for text in (
            o.title,
            o.purpose,
            o.context,
            o.needs_and_strengths,
            o.outcomes,
            o.people_served,
            o.standards_and_duties,
            o.assessment_criteria,
            o.pass_fail_criteria,
            o.how_to_submit,
            o.timeline,
            *(lot.description for lot in lots),
        )
        if text
    ]


def unfunded_additionality(
    opportunity: Opportunity, lots: list[OpportunityLot]
) -> UnfundedAdditionality | None:
    """It asks for additional social value, and the money it names does not pay for it."""
    asks = any(ASKS_FOR_ADDITIONALITY.search(text) for text in _texts(opportunity, lots))
    funded = bool(NAMES_SOCIAL_VALUE.search(opportunity.funding_sources or ""))
    if asks and not funded:
        return UnfundedAdditionality(opportunity.social_value_weight)
    return None


async def check_guardrails(
    session: AsyncSession,
    opportunity: Opportunity,
    lots: list[OpportunityLot],
    now: datetime,
    settings: Settings,
) -> Guardrails:
    """Every guardrail for this opportunity, as it is now. Reads; changes nothing."""
    tz = settings.tz
    refusals, warnings = tender_period_checks(opportunity, now, tz)
    warnings += await lots_too_large(session, opportunity, lots, settings.suppression_minimum)
    additionality = unfunded_additionality(opportunity, lots)
    if additionality is not None:
        warnings.append(additionality)
    if opportunity.price_weight > opportunity.quality_weight:
        warnings.append(PriceLed(opportunity.price_weight, opportunity.quality_weight))
    if not opportunity.service_areas and not opportunity.area_served:
        warnings.append(NobodyToTell())
    return Guardrails(tuple(refusals), tuple(warnings))
