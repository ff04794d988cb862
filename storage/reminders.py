"""Reminders: things that must happen at a time (check-ins, deadlines, key dates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import as_utc
from storage.models import Reminder, WorkState


async def schedule_reminder(
    session: AsyncSession,
    *,
    kind: str,
    due_at: datetime,
    target_type: str,
    target_id: object,
    payload: dict[str, Any] | None = None,
) -> Reminder:
    """Add a reminder, or move the pending one for the same kind and target to the new time."""
    existing = await session.scalar(
        select(Reminder).where(
            Reminder.kind == kind,
            Reminder.target_type == target_type,
            Reminder.target_id == str(target_id),
            Reminder.state == WorkState.PENDING,
        )
    )
    if existing is not None:
        existing.due_at = as_utc(due_at)
        existing.payload = payload or {}
        return existing
    reminder = Reminder(
        kind=kind,
        due_at=as_utc(due_at),
        target_type=target_type,
        target_id=str(target_id),
        payload=payload or {},
    )
    session.add(reminder)
    await session.flush()
    return reminder


async def cancel_reminders(
    session: AsyncSession, *, kind: str, target_type: str, target_ids: list[str]
) -> int:
    """Drop the pending reminders of this kind for these targets (no longer wanted); how
    many. Claimed or finished ones are left as they are."""
    if not target_ids:
        return 0
    result = await session.execute(
        delete(Reminder).where(
            Reminder.kind == kind,
            Reminder.target_type == target_type,
            Reminder.target_id.in_(target_ids),
            Reminder.state == WorkState.PENDING,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def pending_reminders(
    session: AsyncSession, *, kind: str, target_type: str, target_prefix: str
) -> list[Reminder]:
    """The pending reminders of this kind whose target starts with `target_prefix` (all of
    one record's, say "4:"), soonest first. Claimed or finished ones are not included."""
    return list(
        (
            await session.scalars(
                select(Reminder)
                .where(
                    Reminder.kind == kind,
                    Reminder.target_type == target_type,
                    Reminder.target_id.startswith(target_prefix, autoescape=True),
                    Reminder.state == WorkState.PENDING,
                )
                .order_by(Reminder.due_at, Reminder.id)
            )
        ).all()
    )
