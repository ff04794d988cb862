"""What the team and the reporting organisation said after a check-in, and the calls they
arranged, as one section for `agreements checkin C`. Read only by the monitoring steps,
after they checked the viewer is the team or the reporting organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.reply import Section
from storage.conversation_tables import CallState, CheckinCall, CheckinMessage
from storage.models import Person
from storage.monitoring_tables import Side


async def messages_of(session: AsyncSession, checkin_id: int) -> list[CheckinMessage]:
    return list(
        (
            await session.scalars(
                select(CheckinMessage)
                .where(CheckinMessage.checkin_id == checkin_id)
                .order_by(CheckinMessage.sent_at, CheckinMessage.id)
            )
        ).all()
    )


async def calls_of(session: AsyncSession, checkin_id: int) -> list[CheckinCall]:
    return list(
        (
            await session.scalars(
                select(CheckinCall)
                .where(CheckinCall.checkin_id == checkin_id)
                .order_by(CheckinCall.offered_at, CheckinCall.id)
            )
        ).all()
    )


def call_words(call: CheckinCall) -> str:
    """One call in words, with its times in full."""
    if call.state == CallState.AGREED and call.agreed_for is not None:
        return f"Call agreed for {format_when(call.agreed_for)}."
    offered = "; ".join(format_when(datetime.fromisoformat(o)) for o in call.options)
    if call.state == CallState.NONE_SUIT:
        note = f' Their note: "{call.note}"' if call.note else ""
        return f"Call offered ({offered}): none of the times suit.{note}"
    return f"Call offered, waiting for a pick: {offered}."


async def thread_section(session: AsyncSession, checkin_id: int, team_name: str) -> Section | None:
    """The conversation on a check-in, oldest first; None when nobody has said anything."""
    messages = await messages_of(session, checkin_id)
    calls = await calls_of(session, checkin_id)
    if not messages and not calls:
        return None
    ids = [m.person_id for m in messages if m.person_id is not None]
    names = (
        {p.id: p.name for p in (await session.scalars(select(Person).where(Person.id.in_(ids))))}
        if ids
        else {}
    )
    lines: list[tuple[datetime, str]] = []
    for message in messages:
        who = names.get(message.person_id or 0, "Someone")
        side = team_name if message.side == Side.TEAM else "the provider"
        lines.append(
            (message.sent_at, f"{format_when(message.sent_at)}, {who} ({side}): {message.text}")
        )
    for call in calls:
        lines.append((call.offered_at, call_words(call)))
    lines.sort(key=lambda pair: pair[0])
    return Section(heading="The conversation", text="\n".join(text for _, text in lines))
