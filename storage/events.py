"""Platform events already handled: Slack and Teams both retry deliveries they think we missed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import CursorResult

from storage.db import Database
from storage.models import ProcessedEvent
from storage.upsert import insert_ignoring_duplicates


async def first_delivery(db: Database, source: str, event_id: str) -> bool:
    """Record the event; False if it was recorded before (a retry to ignore). Runs on every
    Slack event and Teams message, so it is one Core statement, not an ORM session."""
    async with db.transaction() as connection:
        result = await insert_ignoring_duplicates(
            connection,
            ProcessedEvent,
            {"source": source, "event_id": event_id[:200], "received_at": datetime.now(UTC)},
            ["source", "event_id"],
        )
    return isinstance(result, CursorResult) and result.rowcount == 1
