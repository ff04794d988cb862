"""Platform events already handled: Slack and Teams both retry deliveries they think we missed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent
from storage.upsert import insert_ignoring_duplicates


async def claim_event(session: AsyncSession, source: str, event_id: str) -> bool:
    """Mark the event handled inside the caller's unit of work; False if it was already.

    The mark commits with the handling, so a handling that fails leaves no mark and the
    platform's retry is handled. On PostgreSQL a retry arriving while the first delivery
    is still being handled waits on the row here, then finds it and stops.
    """
    connection = await session.connection()
    result = await insert_ignoring_duplicates(
        connection,
        ProcessedEvent,
        {"source": source, "event_id": event_id[:200], "received_at": datetime.now(UTC)},
        ["source", "event_id"],
    )
    return isinstance(result, CursorResult) and result.rowcount == 1
