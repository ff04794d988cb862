"""Outbound rate limits shared by every replica, kept in PostgreSQL.

Each key (a Slack channel, a Teams tenant, ...) is one row holding its GCRA
"theoretical arrival time" (`tat`): the moment the key's allowance is next whole.
A booking locks the rows of every key it touches (`SELECT ... FOR UPDATE`, in key
order so two replicas never deadlock), works out the wait the way the in-process
limiter does (bot/outbox/limits.py), and moves each `tat` on only if the wait is
short enough to sleep. All in one short transaction of its own, never a part of a
caller's unit of work.

Time comes from the database (`clock_timestamp()`, seconds since the epoch), not from
the replica: every replica then measures against one clock, so a replica whose own
clock is a few hundred milliseconds out can neither send early nor hold the others back.
The wait that comes back is a duration, which the replica sleeps on its own clock.

Why a transaction with `FOR UPDATE` rather than one `INSERT ... ON CONFLICT DO UPDATE`:
a message goes under two or three keys at once (channel and workspace), and must book
all of them or none. One upsert sees only its own row, so it cannot refuse the channel
because the workspace is full. See bench/replicas.py for what a booking costs.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, String, Table, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Database
from storage.models import Base


class RateLimitRow(Base):
    """One outbound rate-limit key and when its allowance is next whole."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    #: The GCRA theoretical arrival time, in seconds since the epoch on the database's clock.
    tat: Mapped[float]


@dataclass(frozen=True)
class Budget:
    """One key to book under: at most one message per `interval` seconds, `burst` at once."""

    key: str
    interval: float
    burst: int = 1


_table = typing.cast(Table, RateLimitRow.__table__)
_now = cast(func.extract("epoch", func.clock_timestamp()), Float)
_move_on = update(_table).where(_table.c.key == bindparam("k")).values(tat=bindparam("t"))


def wait_for(budget: Budget, tat: float | None, now: float) -> float:
    """How long a message must wait under `budget`, given its key's `tat` (None: never used)."""
    tat = now if tat is None else max(tat, now)
    return max(0.0, tat + budget.interval - budget.interval * budget.burst - now)


@dataclass(frozen=True)
class Booking:
    """The wait before sending, and when that is on the database's clock (None: not booked,
    the wait was longer than the caller would sleep)."""

    wait: float
    at: float | None


async def book(db: Database, budgets: Sequence[Budget], *, max_wait: float) -> Booking:
    """Book a slot under every budget: the wait before sending is <= max_wait. When the
    wait would be longer, book nothing and say how long, so the caller can defer."""
    if not budgets:
        return Booking(0.0, None)
    # One key twice in a booking (a DM's channel is also its conversation) counts once.
    by_key = {budget.key: budget for budget in budgets}
    keys = sorted(by_key)
    locked = (
        select(_table.c.key, _table.c.tat, _now.label("now"))
        .where(_table.c.key.in_(keys))
        .order_by(_table.c.key)
        .with_for_update()
    )
    async with db.engine.begin() as connection:
        rows = (await connection.execute(locked)).all()
        if len(rows) < len(keys):
            # A key's first message: add its row (another replica may be adding it too),
            # then lock them all again, in order.
            await connection.execute(
                postgresql_insert(_table).on_conflict_do_nothing(index_elements=["key"]),
                [{"key": key, "tat": 0.0} for key in keys],
            )
            rows = (await connection.execute(locked)).all()
        now = float(rows[0].now)
        tats = {row.key: float(row.tat) for row in rows}
        wait = max(wait_for(by_key[key], tats.get(key), now) for key in keys)
        if wait > max_wait:
            return Booking(wait, None)
        at = now + wait
        await connection.execute(
            _move_on,
            [{"k": key, "t": max(tats.get(key, at), at) + by_key[key].interval} for key in keys],
        )
        return Booking(wait, at)


async def hold(db: Database, key: str, seconds: float) -> None:
    """The platform said 429 for `key`: no replica sends under it for `seconds`."""
    statement = postgresql_insert(_table).values(key=key, tat=_now + seconds)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"tat": func.greatest(_table.c.tat, statement.excluded.tat)},
    )
    async with db.engine.begin() as connection:
        await connection.execute(statement)
