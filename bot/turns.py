"""The door pipeline: what every door does with a turn, written once.

A door reads its platform's payload into a `Delivery` (a `Turn`, how to find who is
acting, the platform's event id, where replies go) and hands it to `DoorPipeline.run`.
The pipeline is a short chain of steps, each with an explicit `next`, in the manner of
slack-bolt's middleware:

1. `answer_database_down`: a database that fails anywhere below is a plain apology
   (`DATABASE_DOWN`) with nothing saved, never a crash and never "we don't know you";
2. `find_actor`: who is acting, through the door's own lookup (`Identify`);
3. `start_sending`: once replies were queued, the outbox starts a pass now;
4. `handle_once`: the turn as one unit of work (`run_turn`): the event mark (dedupe),
   the handler's changes and the queued replies commit together.

The door then turns the neutral replies of the `TurnOutcome` into its own output.

Why one unit of work: Slack and Teams retry a delivery they think we missed. Before, the door marked an event
handled in one transaction, ran the handler in others, then queued its replies in yet
another: a failure after the mark lost the message for good (the retry was ignored), and
a crash between the handler's commit and the queueing lost the reply. Here all three
commit together, so either the person's message was handled and answered, or nothing
happened and the platform's retry is handled as if it were the first delivery.

Doors call the pipeline; they never open sessions or write SQL themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Notice, Reply, ReplyList
from bot.core.turn import Actor, Door, Turn
from bot.services import Services
from storage import audit
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
    op: Literal["post", "update"] = "post"
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
            replies = await _gated(session, services, turn) or list(
                await services.router.dispatch(turn, services)
            )
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


async def _gated(session: AsyncSession, services: Services, turn: Turn) -> list[Reply]:
    """The refusal for a turn its command's gate stops (see `bot.core.feature.Gate`),
    audited here once for every door and feature; empty when the turn may go on."""
    gate = services.router.gate_for(turn)
    if gate is None:
        return []
    await audit.record_turn(session, turn, gate.audit_action, object_type=gate.object_type)
    return [Notice(text=gate.refusal, level="warning")]


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


# --- the door pipeline -------------------------------------------------------------------

#: How a door finds who is acting (a chat identity, a signed web session). It may read the
#: database; the pipeline turns a database failure into `DatabaseDown`.
Identify = Callable[[], Awaitable[Actor | None]]


class DatabaseDown(Exception):
    """The database failed while finding out who is acting: say so, and do nothing else.
    Telling somebody we don't know them because a lookup failed would be wrong, and final."""


@dataclass
class Delivery:
    """One thing a person did on a door, as the door read it from its payload."""

    turn: Turn
    #: Who is acting, when the turn does not say yet (see `find_actor`).
    identify: Identify | None = None
    #: The platform's id of the delivery, so that a retry is handled once.
    event: Event | None = None
    route: ReplyRoute | None = None
    also: FollowUps | None = None


Next = Callable[[], Awaitable[TurnOutcome]]
#: One step of the pipeline: do its part, and call `next` for the rest (or answer itself).
Step = Callable[["DoorPipeline", Delivery, Next], Awaitable[TurnOutcome]]


async def answer_database_down(
    pipeline: DoorPipeline, delivery: Delivery, next: Next
) -> TurnOutcome:
    """A database that failed before the turn ran is the same plain apology `run_turn` gives
    for one that failed during it: nothing saved, and the door says so in its own way."""
    try:
        return await next()
    except DatabaseDown:
        return TurnOutcome(replies=database_down(), failed=True)


async def find_actor(pipeline: DoorPipeline, delivery: Delivery, next: Next) -> TurnOutcome:
    """Put who is acting on the turn, unless the door already knew (it had to ask earlier)."""
    if delivery.identify is not None and delivery.turn.actor is None:
        actor = await pipeline.actor(delivery.turn.door, delivery.identify)
        delivery.turn = replace(delivery.turn, actor=actor)
    return await next()


async def handle_once(pipeline: DoorPipeline, delivery: Delivery, next: Next) -> TurnOutcome:
    """The turn, its event mark and its replies as one unit of work (see `run_turn`)."""
    return await run_turn(
        pipeline.services,
        delivery.turn,
        event=delivery.event,
        route=delivery.route,
        also=delivery.also,
    )


async def start_sending(pipeline: DoorPipeline, delivery: Delivery, next: Next) -> TurnOutcome:
    """Replies were queued: the outbox sends them now rather than at its next tick."""
    outcome = await next()
    if outcome.queued:
        pipeline.kick()
    return outcome


STEPS: tuple[Step, ...] = (answer_database_down, find_actor, start_sending, handle_once)


class DoorPipeline:
    """The steps every door runs a turn through. One pipeline serves every door."""

    def __init__(
        self,
        services: Services,
        *,
        kick: Callable[[], None] = lambda: None,
        steps: Sequence[Step] = STEPS,
    ) -> None:
        self.services = services
        self.kick = kick
        self.steps = tuple(steps)

    async def run(self, delivery: Delivery) -> TurnOutcome:
        """Run `delivery` through every step, each calling the next."""

        async def step(index: int) -> TurnOutcome:
            if index == len(self.steps):
                return TurnOutcome()
            return await self.steps[index](self, delivery, lambda: step(index + 1))

        return await step(0)

    async def actor(self, door: Door, identify: Identify) -> Actor | None:
        """Who is acting, by the door's lookup. A door that must know before it builds the
        turn (Slack opens a modal first; the web asks people to sign in) calls this itself.

        Raises `DatabaseDown` when the database fails."""
        try:
            return await identify()
        except (SQLAlchemyError, OSError) as exc:
            log.error(
                "could not look up a %s user: the database failed (%s)", door, type(exc).__name__
            )
            raise DatabaseDown from exc
