"""What the agreements register's steps and views share: its command, the regime flags a
route gives, who may see or change an agreement (refusals on the record), and the s.52
KPI check from the legal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.law import LawError, Route, kpis_required, rule
from bot.core.reply import command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.steps import Refused, load_locked
from storage import audit
from storage.agreement_tables import Agreement, AgreementParty
from storage.agreements import parties_of

COMMAND = "agreements"
FORM_KEY = "agreement"

NOT_FOUND = (
    "We couldn't find that agreement. See the ones you can see: "
    f"{command_ref(COMMAND, 'your agreements')}."
)
ONLY_THE_TEAM = (
    "Only the commissioning team of the council that made this agreement can change it. "
    "Nothing was changed."
)

GRANT_ROUTES = frozenset({Route.GRANT, Route.PARTICIPATORY_GRANTS, Route.GRANT_THEN_CONTRACT})
RESERVED_ROUTES = frozenset({Route.RESERVED_SUPPORTED_EMPLOYMENT, Route.RESERVED_MUTUAL})


@dataclass(frozen=True)
class Regime:
    """The flags a route gives an agreement."""

    light_touch: bool
    below_threshold: bool
    reserved: bool
    framework_call_off: bool
    grant: bool


def regime_of(route: str) -> Regime:
    """The regime flags of a route key (an unknown key has none)."""
    known = Route(route) if route in set(Route) else None
    return Regime(
        light_touch=known == Route.LIGHT_TOUCH,
        below_threshold=known == Route.BELOW_THRESHOLD,
        reserved=known in RESERVED_ROUTES,
        framework_call_off=known == Route.FRAMEWORK_CALL_OFF,
        grant=known in GRANT_ROUTES,
    )


def today(services: Services) -> date:
    return services.clock.now().astimezone(LONDON).date()


class NotYours(Refused):
    """The agreement is missing, or this person is neither its team nor one of its parties."""


class NotTheTeam(Refused):
    """Only the agreement's own council's commissioning team may do this."""


async def refuse(
    session: AsyncSession,
    turn: Turn,
    agreement: Agreement | None,
    attempted: str,
    reason: str,
    *,
    authority_id: int | None = None,
    **fields: object,
) -> None:
    """Keep a record of an attempt that was refused (nothing else changes)."""
    await audit.record_refusal(
        session,
        turn,
        "agreement.refused",
        "agreement",
        agreement,
        attempted,
        reason,
        authority_id=authority_id,
        **fields,
    )


def runs_it(turn: Turn, agreement: Agreement) -> bool:
    assert turn.actor is not None
    return agreement.authority_id in turn.actor.commissioner_for()


async def is_party(session: AsyncSession, turn: Turn, agreement: Agreement) -> bool:
    """Whether this person is a member of one of the agreement's provider parties."""
    assert turn.actor is not None
    mine = turn.actor.member_of()
    return any(
        party.organisation_id in mine for party, _ in await parties_of(session, agreement.id)
    )


async def load_for_team(
    session: AsyncSession,
    turn: Turn,
    agreement_id: int | None,
    attempted: str,
    *,
    lock: bool = False,
) -> Agreement:
    """The agreement a team step acts on, only for its own council's team (else audited)."""
    if lock:
        agreement = await load_locked(session, Agreement, agreement_id)
    else:
        agreement = await session.get(Agreement, agreement_id) if agreement_id else None
    if agreement is None or not runs_it(turn, agreement):
        await refuse(session, turn, agreement, attempted, "not the team")
        if agreement is not None and await is_party(session, turn, agreement):
            raise NotTheTeam(ONLY_THE_TEAM)
        raise NotYours(NOT_FOUND)
    return agreement


async def load_for_viewer(
    session: AsyncSession, turn: Turn, agreement_id: int | None, attempted: str
) -> Agreement:
    """The agreement for its team or one of its parties' members. Anyone else is told it
    was not found (so they learn nothing of it), and the attempt is on the record."""
    agreement = await session.get(Agreement, agreement_id) if agreement_id else None
    if agreement is None or not (
        runs_it(turn, agreement) or await is_party(session, turn, agreement)
    ):
        await refuse(session, turn, agreement, attempted, "not the team or a party")
        raise NotYours(NOT_FOUND)
    return agreement


# --- the s.52 check ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiShortfall:
    """A contract that needs more KPIs than it has (s.52)."""

    required: int
    has: int
    over_pounds: int
    citation: str


def kpi_shortfall(agreement: Agreement, kpi_count: int) -> KpiShortfall | None:
    """Whether the agreement has fewer KPIs than the Act needs, by the legal data in force
    on its start day: a contract (not a grant) worth more than the figure, not light-touch,
    not a framework call-off. None when it has enough, or the Act's rule does not apply."""
    if agreement.grant_funded or agreement.value_pence is None:
        return None
    pounds = Decimal(agreement.value_pence) / 100
    try:
        required = kpis_required(
            pounds, agreement.light_touch, agreement.framework_call_off, agreement.starts_on
        )
        over = rule("kpis.contract_value_over", agreement.starts_on)
        minimum = rule("kpis.minimum", agreement.starts_on)
    except LawError:
        return None  # before the Act applied
    if kpi_count >= required:
        return None
    assert isinstance(over.value, int)
    return KpiShortfall(required, kpi_count, over.value, minimum.citation)


def share_total(parties: list[AgreementParty]) -> int | None:
    shares = [p.share_percent for p in parties if p.share_percent is not None]
    return sum(shares) if shares else None
