"""Closing an opportunity at its deadline for bids: the due sweep does it, so the state is
right on every door (and in any later export) without anyone pressing a button. Amending
the deadline moves the same reminder."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from handlers.engagements.common import load_locked
from storage import audit
from storage.models import Reminder
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.reminders import schedule_reminder

CLOSE_KIND = "opportunity.close"


async def schedule_closing(session: AsyncSession, opportunity: Opportunity) -> None:
    """Close it at its deadline (a moved deadline moves the pending reminder)."""
    assert opportunity.submission_deadline is not None
    await schedule_reminder(
        session,
        kind=CLOSE_KIND,
        due_at=opportunity.submission_deadline,
        target_type="opportunity",
        target_id=opportunity.id,
    )


async def close_on_schedule(reminder: Reminder, services: Services) -> None:
    """The due sweep's job at the deadline: close it, on the record."""
    now = services.clock.now()
    async with services.db.session() as session:
        opportunity = await load_locked(session, Opportunity, int(reminder.target_id))
        if opportunity is None or opportunity.state != OpportunityState.OPEN:
            return
        deadline = opportunity.submission_deadline
        if deadline is not None and now < deadline:  # moved later; the reminder did too
            return
        opportunity.state = OpportunityState.CLOSED
        opportunity.closed_at = now
        await audit.record(
            session,
            "opportunity.closed",
            actor_id=None,
            object_type="opportunity",
            object_id=opportunity.id,
            authority_id=opportunity.authority_id,
            at=now,
        )
