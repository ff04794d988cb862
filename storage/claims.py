"""Claiming work rows (reminders, outbox messages) so that no two workers take the same one.

On PostgreSQL candidates are read with `FOR UPDATE SKIP LOCKED`, so concurrent
workers pass each other instead of queueing. Everywhere, the claim itself is a
compare-and-set UPDATE that only succeeds if the row is still free, so even SQLite
(one writer at a time) can never hand a row to two workers. A claim is a lease: a
worker that dies leaves a row that becomes free again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import OutboxMessage, Reminder, WorkState

Claimable = TypeVar("Claimable", Reminder, OutboxMessage)


def _due(model: type[Any], due: InstrumentedAttribute[datetime], now: datetime) -> Any:
    return and_(model.state == WorkState.PENDING, due <= now)


def _lease_ran_out(model: type[Any], now: datetime) -> Any:
    return and_(model.state == WorkState.CLAIMED, model.lease_until < now)


def _free(model: type[Any], due: InstrumentedAttribute[datetime], now: datetime) -> Any:
    return or_(_due(model, due, now), _lease_ran_out(model, now))


async def claim_due(
    session: AsyncSession,
    model: type[Claimable],
    due: InstrumentedAttribute[datetime],
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> Sequence[Claimable]:
    """Claim up to `limit` due rows for `worker`, oldest first. Commit is the caller's.

    The candidates are read in two queries, due rows and rows whose lease ran out, each
    walking the (state, due) index in order and stopping at `limit`. One query with OR
    could not: PostgreSQL read and sorted every due row for each claim (a seq scan, about
    0.1-0.5 s with 100,000 reminders behind), so a sweep that fell behind fell further
    behind with every batch."""
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    found: list[tuple[int, datetime]] = []
    for free in (_due(model, due, now), _lease_ran_out(model, now)):
        query = select(model.id, due).where(free).order_by(due, model.id).limit(limit)
        if postgres:
            query = query.with_for_update(skip_locked=True)
        found.extend((row_id, when) for row_id, when in (await session.execute(query)).all())
    # The oldest `limit` of both (rows locked but not taken are free again at commit).
    candidates = [row_id for row_id, _ in sorted(found, key=lambda row: (row[1], row[0]))[:limit]]
    if not candidates:
        return []
    # One conditional UPDATE for the batch: a row is claimed only if it is still free, and
    # RETURNING says which ones this worker got (compare-and-set, row by row).
    claimed = list(
        (
            await session.scalars(
                update(model)
                .where(model.id.in_(candidates), _free(model, due, now))
                .values(
                    state=WorkState.CLAIMED,
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=model.attempts + 1,
                )
                .returning(model.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if not claimed:
        return []
    rows = await session.scalars(
        select(model)
        .where(model.id.in_(claimed))
        .order_by(due, model.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def release(
    session: AsyncSession | AsyncConnection,
    model: type[Claimable],
    row_id: int,
    *,
    worker: str,
    values: dict[str, Any],
) -> bool:
    """Finish with a claimed row (done, retry later, dead), only if this worker still holds it."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.claimed_by == worker, model.state == WorkState.CLAIMED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return isinstance(result, CursorResult) and result.rowcount == 1
