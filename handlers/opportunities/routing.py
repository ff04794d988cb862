"""The rules an opportunity's route brings, as steps use them: at publishing (the route's
problems refuse it, its warnings are shown), on the checklist (its notices and steps with
due dates, worked out from what the team recorded), and when a provider says it is
interested in a reserved contract (s.32, s.33).

The legal logic is the core's (`bot.core.law`); this module only feeds it the
opportunity's own facts. Nothing here says anything to anybody: it returns facts and
plain sentences for the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_day
from bot.core.law import (
    ChecklistStep,
    Route,
    RouteAnswerError,
    RouteDecision,
    StepKey,
    choose_route,
    mutual_reservation_problems,
    route_checklist,
    route_problems,
    rule,
)
from bot.core.reply import command_ref
from handlers.opportunities.common import COMMAND
from storage.models import Organisation
from storage.opportunity_route_tables import OpportunityChecklistStep, OpportunityRoute
from storage.opportunity_routes import reserved_mutual_awards, route_of, steps_done
from storage.opportunity_tables import Opportunity

#: The step Convene adds to the law's list: the day the contract is signed, which the
#: contract details notice's due date hangs on.
CONTRACT_SIGNED = "contract_signed"

#: Steps whose recorded day is a date the law's due dates hang on.
_TENDER_STEPS = (StepKey.TENDER_NOTICE, StepKey.BELOW_THRESHOLD_TENDER_NOTICE)
_DETAILS_STEPS = (StepKey.CONTRACT_DETAILS_NOTICE, StepKey.BELOW_THRESHOLD_CONTRACT_DETAILS_NOTICE)


def full_day(day: date) -> str:
    """'Friday 6 March 2026', from the one date formatter."""
    return format_day(datetime(day.year, day.month, day.day, 12, tzinfo=LONDON))


def today(now: datetime) -> date:
    return now.astimezone(LONDON).date()


def value_in_pounds(opportunity: Opportunity) -> Decimal | None:
    """The most the opportunity might be worth, in pounds (the careful reading), if given."""
    pence = opportunity.value_max_pence or opportunity.value_min_pence
    return None if pence is None else Decimal(pence) / 100


def start_date(opportunity: Opportunity, choice: OpportunityRoute) -> date:
    """The procurement's start date the rules come from: the one the team gave, else the
    day the route was chosen."""
    return opportunity.procurement_starts_on or choice.started_on


def decision_for(opportunity: Opportunity, choice: OpportunityRoute) -> RouteDecision | None:
    """The route worked out again from the stored answers on the start date (None if the
    answers no longer fit the questions)."""
    try:
        return choose_route(choice.answers, start_date(opportunity, choice))
    except RouteAnswerError:
        return None


def how_to_choose(opportunity_id: int) -> str:
    return (
        "Answer six short questions: "
        f"{command_ref(f'{COMMAND} route {opportunity_id}', 'the route questions')}."
    )


# --- at publishing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteCheck:
    """What the route says about publishing: problems refuse it; warnings are shown."""

    chosen: bool
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


async def check_route(session: AsyncSession, opportunity: Opportunity) -> RouteCheck:
    """The route's rules for this opportunity as it is now."""
    choice = await route_of(session, opportunity.id)
    if choice is None:
        return RouteCheck(
            chosen=False,
            problems=(
                "You have not chosen how it will be funded or bought (its route) yet. "
                + how_to_choose(opportunity.id),
            ),
        )
    decision = decision_for(opportunity, choice)
    if decision is None:
        return RouteCheck(
            chosen=False,
            problems=(
                "The route questions have changed since you answered them. "
                + how_to_choose(opportunity.id),
            ),
        )
    if decision.route is Route.PROVIDER_SELECTION_REGIME:
        return RouteCheck(
            chosen=True,
            problems=(
                "It is a health care service, so it is handed off to the Provider Selection "
                "Regime. Convene does not run that regime, so it can't be published here. "
                "Please give it to your health commissioning or procurement team. "
                f"({rule('route.health_care_provider_selection_regime', decision.started_on).citation})",
            ),
        )
    problems: list[str] = []
    if decision.route.value != choice.route:
        problems.append(
            "Under the rules for a procurement starting on "
            f"{full_day(decision.started_on)}, your answers now give a different route "
            f"({decision.name}). " + how_to_choose(opportunity.id)
        )
    problems += route_problems(
        decision,
        value=value_in_pounds(opportunity),
        length_months=opportunity.length_months,
    )
    return RouteCheck(chosen=True, problems=tuple(problems), warnings=decision.checks)


# --- the checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the checklist: the law's step (or Convene's "contract signed") and what
    the team recorded for it."""

    key: str
    title: str
    words: str
    citation: str | None
    notice: str | None
    due: date | None
    done: OpportunityChecklistStep | None = None


def _signed_step(signed: OpportunityChecklistStep | None) -> Step:
    return Step(
        CONTRACT_SIGNED,
        "Contract signed",
        "Record the day you sign the contract. The contract details notice is due from it.",
        None,
        None,
        None,
        signed,
    )


def checklist_steps(
    decision: RouteDecision,
    opportunity: Opportunity,
    done: dict[str, OpportunityChecklistStep],
) -> list[Step]:
    """The route's steps in order, with due dates from the days recorded so far. Raises
    `ChecklistDateError` (plain words) when those days are in an impossible order."""

    def day(*keys: str) -> date | None:
        return next((done[k].done_on for k in keys if k in done), None)

    published = opportunity.published_at
    tender_published_on = day(*_TENDER_STEPS) or (
        published.astimezone(LONDON).date() if published else None
    )
    steps: list[ChecklistStep] = route_checklist(
        decision,
        started_on=decision.started_on,
        value=value_in_pounds(opportunity),
        tender_published_on=tender_published_on,
        award_decided_on=day(StepKey.CONTRACT_AWARD_NOTICE),
        contract_signed_on=day(CONTRACT_SIGNED),
    )
    lines: list[Step] = []
    for step in steps:
        if step.key in _DETAILS_STEPS:
            lines.append(_signed_step(done.get(CONTRACT_SIGNED)))
        lines.append(
            Step(
                step.key.value,
                step.title,
                step.words,
                step.citation,
                step.notice,
                step.due,
                done.get(step.key.value),
            )
        )
    return lines


async def recorded(
    session: AsyncSession, opportunity_id: int
) -> dict[str, OpportunityChecklistStep]:
    return {row.step: row for row in await steps_done(session, opportunity_id)}


# --- reserved contracts ----------------------------------------------------------------------


async def reserved_refusal(
    session: AsyncSession, opportunity: Opportunity, organisation: Organisation
) -> str | None:
    """Why this organisation may not say it is interested in a reserved contract, in plain
    words; None when it may (or the contract is not reserved)."""
    choice = await route_of(session, opportunity.id)
    if choice is None:
        return None
    on = start_date(opportunity, choice)
    if choice.route == Route.RESERVED_SUPPORTED_EMPLOYMENT:
        if organisation.supported_employment:
            return None
        needed = rule("reserved.supported_employment_min_percent", on)
        return (
            f"{opportunity.title} is kept for supported employment providers: organisations "
            "whose main aim is to help disabled or disadvantaged people into work, where at "
            f"least {needed.value}% of workers are disabled or disadvantaged "
            f"({needed.citation}). {organisation.name}'s profile does not say it is one, so "
            "it can't say it is interested. If it is one, say so in your profile "
            f"({command_ref('profile', 'your profile')}), then try again. Nothing was changed."
        )
    if choice.route == Route.RESERVED_MUTUAL:
        citation = rule("reserved.mutual_light_touch_only", on).citation
        if not organisation.public_service_mutual:
            return (
                f"{opportunity.title} is kept for public service mutuals ({citation}). "
                f"{organisation.name}'s profile does not say it is one, so it can't say it "
                f"is interested. If it is one, say so in your profile ("
                f"{command_ref('profile', 'your profile')}), then "
                "try again. Nothing was changed."
            )
        awards = await reserved_mutual_awards(
            session, opportunity.authority_id, organisation.id, besides=opportunity.id
        )
        # Only the three-year rule is about the organisation: the service and the length
        # are the opportunity's, checked at publishing.
        problems = mutual_reservation_problems(True, 0, max(awards, default=None), on)
        if problems:
            return (
                f"{opportunity.title} is kept for public service mutuals. {problems[0]} "
                f"({citation}) So {organisation.name} can't say it is interested in this "
                "one. Nothing was changed."
            )
    return None
