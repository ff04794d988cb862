"""What each feedback step that changes things asks first, in words that say what will
happen and who sees it (`SubCommand.confirm`); every door asks the same."""

from __future__ import annotations

from bot.core.feature import Confirmation
from bot.core.turn import Turn
from bot.services import Services
from storage.feedback_tables import FeedbackPoint


async def _service(services: Services, point_id: int) -> str | None:
    """The service's name: it is on the public poster, so naming it tells nobody anything."""
    async with services.db.session() as session:
        point = await session.get(FeedbackPoint, point_id)
        return None if point is None else point.service_name


async def close(turn: Turn, services: Services, point_id: int) -> Confirmation | None:
    name = await _service(services, point_id)
    if name is None:
        return None
    return Confirmation(
        title="Stop taking feedback?",
        question=f"Stop taking feedback about {name} now?",
        consequence="The poster's link and QR code will say it is closed. Everything people "
        "already said is kept, and you can open it again later.",
        yes_label="Yes, stop taking feedback",
    )


async def reopen(turn: Turn, services: Services, point_id: int) -> Confirmation | None:
    name = await _service(services, point_id)
    if name is None:
        return None
    return Confirmation(
        title="Take feedback again?",
        question=f"Start taking feedback about {name} again?",
        consequence="The poster's link and QR code work again straight away.",
        yes_label="Yes, open it again",
    )


HIDE = Confirmation(
    title="Hide this answer?",
    question="Hide this answer from every view?",
    consequence="Nobody will see it in lists, summaries or exports. Your reason is kept on "
    "the record.",
    yes_label="Yes, hide it",
)
