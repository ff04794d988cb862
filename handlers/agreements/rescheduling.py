"""Check-ins follow the agreement's end date (issue 15: "a variation that changes dates
moves every key date and check-in it affects").

When an approved variation moves the end date, the agreed monitoring plan is worked out
again from the start to the new end (`handlers.agreements.monitoring.schedule_checkins`,
so the days are the plan's own, on working days, at the start of the day):

- a longer term gets the plan's check-ins for the added time;
- a shorter term loses every scheduled check-in that is no longer in the plan (those after
  the new end, and a last "end of term" one that moved), and any chases still waiting for a
  check-in that was due after the new end;
- check-ins already asked and answered stay on the record as they are.

The reporting organisation and the council's team are told what moved. Nothing here
decides anything: it only follows the decision the approvers made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.monitoring import MonitoringPlan, PlanError, checkin_moments
from bot.core.reply import Button, Message
from bot.services import Services
from handlers.agreements import monitoring
from handlers.agreements.common import COMMAND
from handlers.agreements.telling import tell
from storage.agreement_tables import Agreement
from storage.engagements import commissioning_team
from storage.monitoring_tables import CheckinRow, PlanState
from storage.reminders import cancel_reminders, pending_reminders

_PLAN_TARGET = "monitoring_plan"
_CHECKIN_TARGET = "monitoring_checkin"


@dataclass(frozen=True)
class Moved:
    """What following the new end changed: check-in days added and taken away, and how
    many chases of already-sent check-ins were stopped."""

    added: list[date] = field(default_factory=list)
    cancelled: list[date] = field(default_factory=list)
    chases_stopped: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.added or self.cancelled or self.chases_stopped)


def _day_of(target_id: str) -> date:
    """The check-in day in a check-in reminder's target ("plan:YYYY-MM-DD")."""
    return date.fromisoformat(target_id.split(":", 1)[1])


async def follow_new_end(
    session: AsyncSession, agreement: Agreement, services: Services, variation_id: int
) -> Moved:
    """Bring the agreement's scheduled check-ins (and chases) into line with its end date
    now, and tell the reporting organisation and the team what moved."""
    plan = await monitoring.plan_of(session, agreement.id)
    if plan is None or plan.state != PlanState.AGREED:
        return Moved()
    now = services.clock.now()
    prefix = f"{plan.id}:"
    before = {
        r.target_id
        for r in await pending_reminders(
            session, kind=monitoring.CHECKIN_KIND, target_type=_PLAN_TARGET, target_prefix=prefix
        )
    }
    if plan.dates:
        # Dates both sides named: none is added, and those after the new end go.
        kept = tuple(d for d in map(date.fromisoformat, plan.dates) if d <= agreement.ends_on)
        moments = (
            checkin_moments(
                MonitoringPlan(starts=agreement.starts_on, ends=agreement.ends_on, dates=kept),
                LONDON,
            )
            if kept
            else []
        )
    else:
        try:
            await monitoring.schedule_checkins(session, agreement, plan)
            moments = checkin_moments(monitoring.core_plan(agreement, plan), LONDON)
        except PlanError:
            moments = []
    planned = {f"{prefix}{m.on.isoformat()}" for m in moments}
    future = {f"{prefix}{m.on.isoformat()}" for m in moments if m.at > now}
    after = {
        r.target_id
        for r in await pending_reminders(
            session, kind=monitoring.CHECKIN_KIND, target_type=_PLAN_TARGET, target_prefix=prefix
        )
    }
    # Gone: days no longer in the plan; and past days that scheduling the whole plan again
    # put back (they were asked already), but never one still waiting to be sent.
    unwanted = sorted((after - planned) | (after - future - before))
    await cancel_reminders(
        session, kind=monitoring.CHECKIN_KIND, target_type=_PLAN_TARGET, target_ids=unwanted
    )
    added = sorted(_day_of(t) for t in future - before)
    cancelled = sorted(_day_of(t) for t in before - planned)
    chases = 0
    late = (
        await session.scalars(
            select(CheckinRow).where(
                CheckinRow.plan_id == plan.id,
                CheckinRow.due_on > agreement.ends_on,
                CheckinRow.answered_at.is_(None),
            )
        )
    ).all()
    for checkin in late:
        waiting = await pending_reminders(
            session,
            kind=monitoring.CHASE_KIND,
            target_type=_CHECKIN_TARGET,
            target_prefix=f"{checkin.id}:",
        )
        chases += await cancel_reminders(
            session,
            kind=monitoring.CHASE_KIND,
            target_type=_CHECKIN_TARGET,
            target_ids=[r.target_id for r in waiting],
        )
    moved = Moved(added, cancelled, chases)
    if moved.anything:
        await _tell(session, agreement, moved, variation_id, services)
    return moved


def _days(days: list[date]) -> str:
    return ", ".join(format_date(d) for d in days)


def moved_message(agreement: Agreement, moved: Moved, variation_id: int) -> Message:
    """To the reporting organisation and the team: which check-ins came and went."""
    lines = [
        f"Variation {variation_id} was approved, so {agreement.title} now ends on "
        f"{format_date(agreement.ends_on)}. The check-ins follow the new end date."
    ]
    if moved.added:
        lines.append(f"New check-ins: {_days(moved.added)}.")
    if moved.cancelled:
        lines.append(f"No longer needed: {_days(moved.cancelled)}.")
    if moved.chases_stopped:
        lines.append("Reminders about a check-in due after the new end have stopped.")
    lines.append("You don't need to do anything now: each check-in is sent on its day.")
    return Message(
        title=f"Check-ins moved: {agreement.title}",
        text=" ".join(lines),
        buttons=[
            Button(
                label="See the monitoring",
                action=f"cmd.{COMMAND}",
                value=f"monitoring {agreement.id}",
            )
        ],
        who_sees="The council's commissioning team and the organisation that reports on "
        "this agreement get this. No other provider does.",
    )


async def _tell(
    session: AsyncSession,
    agreement: Agreement,
    moved: Moved,
    variation_id: int,
    services: Services,
) -> None:
    people: list[int] = [p.id for p in await commissioning_team(session, agreement.authority_id)]
    organisation_id = await monitoring.reporting_organisation(session, agreement.id)
    if organisation_id is not None:
        people += [
            p for p in await monitoring.reporters(session, organisation_id) if p not in people
        ]
    await tell(
        session,
        people,
        moved_message(agreement, moved, variation_id),
        f"variation:{variation_id}:checkins-moved:{{person_id}}",
        services.clock.now(),
    )
