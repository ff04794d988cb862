"""Telling people about an agreement: each on the door they use, in their waking hours.

Variations, framework proposals and moved check-ins all tell the other side (or the team)
at once, but a message queued at 11pm waits until the person's quiet hours end, as the
check-ins themselves do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.quiet_hours import next_waking_moment, zone_named
from bot.core.reply import Message, ReplyList
from storage.notification_preferences import reach_of
from storage.outbox import send_each


async def tell(
    session: AsyncSession, person_ids: list[int], message: Message, key: str, now: datetime
) -> None:
    """Queue `message` for each person (`key` has `{person_id}` in it, so a retry sends
    nothing twice), not before their quiet hours end."""
    if not person_ids:
        return
    reach = await reach_of(session, person_ids)
    not_before = {
        person_id: next_waking_moment(now, zone_named(r.timezone, LONDON), r.preferences)
        for person_id, r in reach.items()
    }
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_each(session, person_ids, lambda _: payload, key, not_before=not_before)
