"""Feedback beside the check-ins: an agreement's feedback points in brief, for its page and
its check-ins. The query is in `storage.feedback_summary`, the words in `views`; nothing
of the feedback feature is imported (its steps are reached by button: `feedback show N`,
`feedback new agreement N`). Never part of the performance assessment."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Message
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements.common import is_party
from handlers.agreements.views import feedback_message
from storage.agreement_tables import Agreement
from storage.feedback_summary import points_of_agreement


async def feedback_reply(
    session: AsyncSession, turn: Turn, services: Services, agreement: Agreement
) -> Message:
    """For someone already allowed to see the agreement: its parties see every count (the
    provider sees feedback first); the council's team sees small counts suppressed."""
    return feedback_message(
        agreement.id,
        await points_of_agreement(session, agreement.id),
        provider=await is_party(session, turn, agreement),
        minimum=services.settings.suppression_minimum,
    )
