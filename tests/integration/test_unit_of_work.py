"""A chat turn is one unit of work: the event mark, the handler's changes and its replies.

These drive `bot.turns.run_turn` with the real router and a real database (SQLite or
PostgreSQL, by the run), and a handler registered for the test that writes a row and
then fails or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.core.reply import Notice, Reply
from bot.core.turn import Door, Turn
from bot.services import Services
from bot.turns import DATABASE_DOWN, Event, ReplyRoute, run_turn
from storage.models import AuditEvent, OutboxMessage, ProcessedEvent
from storage.people import load_actor


class Boom(Exception):
    pass


async def _count(services: Services, model: type) -> int:
    async with services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _someone(services: Services) -> object:
    async with services.db.session() as session:
        actor = await load_actor(session, 1, services.tz)
    assert actor is not None
    return actor


def _audit_row(action: str) -> AuditEvent:
    return AuditEvent(at=datetime.now(UTC), action=action, object_type="test")


def _register(services: Services, *, fail: bool, exception: type[Exception] = Boom) -> None:
    """`write`: audits a row in its own session (as handlers do), then fails if asked."""

    async def write(turn: Turn, svc: Services) -> Sequence[Reply]:
        async with svc.db.session() as session:
            session.add(_audit_row("test.write"))
        async with svc.db.session() as session:  # a second unit, as a handler may open
            await session.scalar(select(func.count()).select_from(AuditEvent))
        if fail:
            raise exception("the handler failed after writing")
        return [Notice(text="written")]

    services.router.commands.pop("write", None)
    services.router.command("write", "test")(write)


def _route(key: str) -> ReplyRoute:
    return ReplyRoute(door=Door.SLACK, address="U1", workspace_id="T1", key=key)


async def test_a_failed_turn_keeps_nothing_and_its_retry_is_handled(services: Services) -> None:
    actor = await _someone(services)
    before = await _count(services, AuditEvent)
    _register(services, fail=True, exception=type("Locked", (Exception,), {}))
    turn = Turn(door=Door.SLACK, actor=actor, text="write")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="failed after writing"):
        await run_turn(services, turn, event=Event("slack", "Ev1"), route=_route("k1"))
    # Nothing of the failed turn stayed: not its write, not the event mark, not a reply.
    assert await _count(services, AuditEvent) == before
    assert await _count(services, ProcessedEvent) == 0
    assert await _count(services, OutboxMessage) == 0

    _register(services, fail=False)
    outcome = await run_turn(services, turn, event=Event("slack", "Ev1"), route=_route("k1"))
    assert not outcome.failed and not outcome.duplicate and outcome.queued
    assert await _count(services, AuditEvent) == before + 1
    assert await _count(services, ProcessedEvent) == 1
    assert await _count(services, OutboxMessage) == 1

    again = await run_turn(services, turn, event=Event("slack", "Ev1"), route=_route("k1"))
    assert again.duplicate and not again.replies
    assert await _count(services, AuditEvent) == before + 1
    assert await _count(services, OutboxMessage) == 1


async def test_a_database_error_is_a_plain_answer_and_nothing_is_saved(services: Services) -> None:
    from sqlalchemy.exc import OperationalError

    actor = await _someone(services)
    before = await _count(services, AuditEvent)

    class DatabaseLocked(OperationalError):
        def __init__(self, message: str) -> None:
            super().__init__(message, None, Exception("database is locked"))

    _register(services, fail=True, exception=DatabaseLocked)
    turn = Turn(door=Door.TEAMS, actor=actor, text="write")  # type: ignore[arg-type]
    outcome = await run_turn(services, turn, event=Event("teams", "c|1"), route=_route("k2"))
    assert outcome.failed and not outcome.queued
    assert [r.text for r in outcome.replies if isinstance(r, Notice)] == [DATABASE_DOWN]
    assert await _count(services, AuditEvent) == before
    assert await _count(services, ProcessedEvent) == 0
    assert await _count(services, OutboxMessage) == 0


async def test_tasks_started_inside_a_unit_use_their_own_sessions(services: Services) -> None:
    """An outbox kick started mid-turn inherits the context, but must not share the
    turn's session (an AsyncSession is not safe to use from two tasks)."""
    seen: dict[str, object] = {}

    async with services.db.unit_of_work() as outer:

        async def other_task() -> None:
            async with services.db.session() as inner:
                seen["inner"] = inner

        await asyncio.ensure_future(other_task())
        async with services.db.session() as same:
            seen["same"] = same
    assert seen["same"] is outer
    assert seen["inner"] is not outer


async def test_sessions_outside_a_unit_commit_on_their_own(services: Services) -> None:
    before = await _count(services, AuditEvent)
    async with services.db.session() as session:
        session.add(_audit_row("test.alone"))
    assert await _count(services, AuditEvent) == before + 1
