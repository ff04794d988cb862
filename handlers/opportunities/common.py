"""What every opportunity step shares: finding the opportunity, who may act on it, refusing
plainly (and on the record), and the words used for money, dates and terms.

Refusals reuse the engagement feature's typed `Refused`, so every feature says no the same
way: the step raises before it writes, the entry point catches it inside the unit of work.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_when
from bot.core.reply import command_ref
from bot.core.turn import Actor, Turn
from handlers.engagements.common import Refused, load_locked, number_at, words_of
from storage import audit
from storage.models import Authority
from storage.opportunity_tables import Opportunity, OpportunityState

__all__ = [
    "COMMAND",
    "NotTheTeam",
    "Refused",
    "deadline_text",
    "load_for_team",
    "moment",
    "money",
    "number_at",
    "words_of",
]

COMMAND = "opportunities"

#: Bids and questions close at 5pm on the day the team picks, as engagements do.
CLOSING_TIME = time(17, 0)

PAYMENT_WORDS = {
    "in_advance": "In advance, before the work is done",
    "in_arrears": "After the work is done (in arrears): you need money to start with",
    "staged": "In stages",
    "by_results": "By results: paid when agreed results are reached",
}
TUPE_WORDS = {
    "yes": "Yes: staff may move to you on their current pay and terms (TUPE)",
    "no": "No staff move to you (no TUPE)",
    "not_sure": "Not known yet whether staff move to you (TUPE)",
}
FORMAT_WORDS = {
    "writing": "in writing",
    "video": "a video",
    "voice": "a voice recording",
    "presentation": "a presentation or conversation",
}
STATE_WORDS = {
    OpportunityState.DRAFT: "Draft, not sent yet",
    OpportunityState.OPEN: "Open",
    OpportunityState.CLOSED: "Closed",
    OpportunityState.WITHDRAWN: "Withdrawn",
}


#: Said when a number names no opportunity this person may see (a draft is not shown).
NOT_FOUND = (
    "We couldn't find that opportunity. See the open ones: "
    f"{command_ref(COMMAND, 'the open opportunities')}."
)


class NotTheTeam(Refused):
    """The opportunity is missing, or belongs to another council's commissioning team."""


def moment(day: str, tz: ZoneInfo = LONDON) -> datetime:
    """A date answer (YYYY-MM-DD) at 5pm in the council's zone, as an aware time."""
    return datetime.combine(date.fromisoformat(day), CLOSING_TIME, tzinfo=tz)


def money(pence: int | None) -> str:
    if pence is None:
        return "not given"
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if not rest else f"£{pounds:,}.{rest:02d}"


def value_range(low: int | None, high: int | None) -> str:
    """'£50,000 to £80,000', or whichever end is known."""
    if low is None and high is None:
        return "Not given yet"
    if low is None or high is None or low == high:
        return money(high if low is None else low)
    return f"{money(low)} to {money(high)}"


def deadline_text(opportunity: Opportunity, tz: ZoneInfo) -> str:
    if opportunity.submission_deadline is None:
        return "Not set yet"
    return format_when(opportunity.submission_deadline, tz)


def runs_it(actor: Actor, opportunity: Opportunity) -> bool:
    """Only the commissioning team of the opportunity's own council acts on it."""
    return opportunity.authority_id in actor.commissioner_for()


async def authority_name(session: AsyncSession, opportunity: Opportunity) -> str:
    authority = await session.get(Authority, opportunity.authority_id)
    return authority.name if authority else "The council"


async def refuse(
    session: AsyncSession,
    turn: Turn,
    opportunity: Opportunity | None,
    attempted: str,
    reason: str,
) -> None:
    """Keep a record of an attempt that was refused (nothing else changes)."""
    await audit.record_refusal(
        session, turn, "opportunity.refused", "opportunity", opportunity, attempted, reason
    )


ONLY_THE_TEAM = (
    "Only the commissioning team of the council that posted this opportunity can do that. "
    "Nothing was changed."
)


async def load_for_team(
    session: AsyncSession,
    turn: Turn,
    opportunity_id: int | None,
    attempted: str,
    *,
    lock: bool = False,
) -> Opportunity:
    """The opportunity a team step acts on, checked in one place: locked when the step
    changes it, and only for its own council's team. Anyone else's attempt is on the
    record and raises `NotTheTeam`."""
    assert turn.actor is not None
    if lock:
        opportunity = await load_locked(session, Opportunity, opportunity_id)
    else:
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
    if opportunity is None:
        await refuse(session, turn, None, attempted, f"no opportunity {opportunity_id}")
        raise NotTheTeam(f"{NOT_FOUND} Nothing was changed.")
    if not runs_it(turn.actor, opportunity):
        await refuse(session, turn, opportunity, attempted, "not the team")
        raise NotTheTeam(ONLY_THE_TEAM)
    return opportunity
