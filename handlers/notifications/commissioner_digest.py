"""For commissioners: the day of their weekly digest, beside their other notification
choices, with a button for each day and one to turn it off (the `digest` command saves
it; see handlers/dashboard/digest_day.py). Kept apart from the opportunity choices."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Section
from bot.core.turn import Actor
from bot.services import Services
from handlers.dashboard.digest_day import section
from storage.commissioner_digests import digest_day_of


async def digest_day_sections(
    session: AsyncSession, actor: Actor, services: Services
) -> list[Section]:
    if not actor.commissioner_for():
        return []
    return [section(await digest_day_of(session, actor.person_id))]
