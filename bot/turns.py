"""One chat turn as one unit of work: the event mark, the handler's changes and the replies.

Slack and Teams retry a delivery they think we missed. Before, the door marked an event
handled in one transaction, ran the handler in others, then queued its replies in yet
another: a failure after the mark lost the message for good (the retry was ignored), and
a crash between the handler's commit and the queueing lost the reply. Here all three
commit together, so either the person's message was handled and answered, or nothing
happened and the platform's retry is handled as if it were the first delivery.

Doors call `run_turn`; they never open sessions or write SQL themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Notice, Reply, ReplyList
from bot.core.turn import Door, Turn
from bot.services import Services
from storage.events import claim_event
from storage.outbox import enqueue

log = logging.getLogger(__name__)

#: What a person is told when the database can't be reached. Nothing was saved.
DATABASE_DOWN = (
    "Convene can't reach its database right now, so nothing was saved. "
    "Please try again in a few minutes."
)


@dataclass(frozen=True)
class Event:
    """A platform delivery to handle once: Slack's `event_id`, Teams' conversation|activity."""

    source: str
    id: str


@dataclass(frozen=True)
class ReplyRoute:
    """Where a turn's replies are queued: the outbox message the door would have sent.

    `op`/`ref` say how to deliver (a new message, or replacing a card in place).
    """

    door: Door
    address: str
    key: str
    workspace_id: str | None = None
    person_id: int | None = None
    op: Literal["post", "home", "update"] = "post"
    ref: str | None = None
    not_before: datetime | None = None


#: Further messages a door sends because of what a handler answered, queued with the turn.
FollowUps = Callable[[list[Reply]], Sequence[tuple[ReplyRoute, Sequence[Reply]]]]


@dataclass
class TurnOutcome:
    replies: list[Reply] = field(default_factory=list)
    #: A retry of a delivery that was handled already: nothing was run.
    duplicate: bool = False
    #: The database failed: nothing was saved, `replies` holds the apology.
    failed: bool = False
    #: Replies were queued in the outbox: the door should start a send pass.
    queued: bool = False


class _AlreadyHandled(Exception):
    """A retry of a delivery already handled: roll back whatever it did."""


def database_down() -> list[Reply]:
    return [Notice(text=DATABASE_DOWN, level="error")]


async def run_turn(
    services: Services,
    turn: Turn,
    *,
    event: Event | None = None,
    route: ReplyRoute | None = None,
    also: FollowUps | None = None,
) -> TurnOutcome:
    """Handle `turn` once, and queue its replies to `route` in the same transaction.

    `also` names further messages the door sends because of what the handler answered (a
    copy in the chat of a finished form whose card was replaced, say); they are queued in
    the same transaction too.
    """
    try:
        async with services.db.unit_of_work() as session:
            replies = list(await services.router.dispatch(turn, services))
            # The mark goes in last, after the handler's reads: on SQLite a write takes the
            # one write lock until the commit, and marking first held it for the whole turn,
            # so turns queued behind each other. A retry running beside the first delivery
            # meets the first one's mark here (PostgreSQL waits on the row), and everything
            # it did is rolled back.
            if event is not None and not await claim_event(session, event.source, event.id):
                raise _AlreadyHandled
            queued = False
            if route is not None and replies:
                await _queue(session, route, replies)
                queued = True
            for other, other_replies in also(replies) if also else ():
                if other_replies:
                    await _queue(session, other, list(other_replies))
                    queued = True
    except _AlreadyHandled:
        log.info("%s delivery already handled; ignoring the retry", turn.door)
        return TurnOutcome(duplicate=True)
    except (SQLAlchemyError, OSError):
        log.exception("database error on a %s turn; nothing was saved", turn.door)
        return TurnOutcome(replies=database_down(), failed=True)
    return TurnOutcome(replies=replies, queued=queued)


async def queue_replies(services: Services, route: ReplyRoute, replies: Sequence[Reply]) -> bool:
    """Queue replies that did not come from a handler (a door's own notice) on their own.
    False, and nothing queued, when the database can't be reached."""
    if not replies:
        return False
    try:
        async with services.db.unit_of_work() as session:
            await _queue(session, route, list(replies))
    except (SQLAlchemyError, OSError):
        log.exception("could not queue a %s reply", route.door)
        return False
    return True


async def _queue(session: AsyncSession, route: ReplyRoute, replies: list[Reply]) -> None:
    payload = ReplyList(replies=replies, op=route.op, ref=route.ref)
    await enqueue(
        session,
        door=route.door,
        address=route.address,
        workspace_id=route.workspace_id,
        person_id=route.person_id,
        payload=payload.model_dump(mode="json"),
        idempotency_key=route.key[:200],
        not_before=route.not_before,
    )
