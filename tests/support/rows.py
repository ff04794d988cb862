"""Reading rows in tests: counts, outbox rows and drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.services import Services
from storage.models import FormResponse, OutboxMessage


async def count(services: Services, model: type[Any], *where: Any) -> int:
    async with services.db.session() as session:
        query = select(func.count()).select_from(model)
        if where:
            query = query.where(*where)
        return int(await session.scalar(query) or 0)


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.session() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def outbox_row(services: Services, row_id: int) -> OutboxMessage:
    async with services.db.session() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def make_due_now(services: Services, *row_ids: int) -> None:
    """Time passes: the rows' wait is over (instead of sleeping through the backoff)."""
    async with services.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids))
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def draft_of(services: Services, response_id: int) -> FormResponse:
    async with services.db.session() as session:
        response = await session.get(FormResponse, response_id)
        assert response is not None, f"form response {response_id} is gone"
        return response
