"""The commissioners' readiness summary (being built: counts and distributions per question)."""

from __future__ import annotations

from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.services import Services


async def show_summary(turn: Turn, services: Services) -> list[Reply]:
    return [Notice(text="The readiness summary is not ready yet.", level="info")]
