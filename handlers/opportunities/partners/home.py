"""Partner requests waiting for a person's answer, on their Home."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Section
from bot.core.turn import Actor
from bot.services import Services
from handlers.opportunities.partners.common import partnering
from storage.partners import waiting_for


async def home_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """Requests to talk waiting for this provider's answer (never saying who asked)."""
    sections = []
    for _, opportunity in await waiting_for(session, actor.member_of()):
        sections.append(
            Section(
                heading=f"Finding partners: {opportunity.title}",
                text="A provider would like to talk with you about working together. Say yes "
                "or no: we share names only when you both say yes.",
                buttons=[partnering(opportunity.id)],
            )
        )
    return sections
