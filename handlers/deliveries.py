"""Deliveries: what the outbox could not send, and why, for a person to see and retry.

Messages that ran out of attempts are not thrown away: they wait here, with the
platform's reason, until an admin tries them again (for example once a workspace
has reinstalled Convene).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import format_when
from bot.core.feature import Command, Feature, Gate, GatedAction, NavLink
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from storage import audit
from storage.models import OutboxMessage, Person, WorkState

SHOWN = 25
DOOR_NAMES = {
    "web": "Convene messages page",
    "slack": "Slack",
    "teams": "Teams",
    "email": "email",
}


async def show_deliveries(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None
    now = services.clock.now()
    async with services.db.session() as session:
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                )
            ).all()
        )
        sent_today = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.state == WorkState.DONE,
                OutboxMessage.sent_at >= now - timedelta(days=1),
            )
        )
        dead = (
            await session.execute(
                select(OutboxMessage, Person.name)
                .join(Person, Person.id == OutboxMessage.person_id, isouter=True)
                .where(OutboxMessage.state == WorkState.DEAD)
                .order_by(OutboxMessage.created_at.desc())
                .limit(SHOWN)
            )
        ).all()
    summary = Section(
        heading="In the last day",
        facts=[
            Fact(label="Sent", value=str(sent_today or 0)),
            Fact(label="Waiting to send", value=str(counts.get(WorkState.PENDING, 0))),
            Fact(label="Being sent now", value=str(counts.get(WorkState.CLAIMED, 0))),
            Fact(label="Could not be sent", value=str(counts.get(WorkState.DEAD, 0))),
        ],
    )
    sections = [summary]
    for message, name in dead:
        sections.append(
            Section(
                heading=f"To {name or message.address} on {DOOR_NAMES.get(message.door, message.door)}",
                facts=[
                    Fact(
                        label="Queued", value=format_when(message.created_at, turn.actor.timezone)
                    ),
                    Fact(label="Tries", value=str(message.attempts)),
                    Fact(label="Why it failed", value=message.last_error or "Not recorded"),
                ],
                buttons=[
                    Button(
                        label="Try again",
                        action="deliveries.retry",
                        value=str(message.id),
                        style="primary",
                    )
                ],
            )
        )
    text = (
        "Every message was delivered."
        if not dead
        else "These messages could not be delivered. Fix the cause (for example, reinstall "
        "Convene in that workspace), then try again."
    )
    return [Message(title="Deliveries", text=text, sections=sections)]


async def retry_delivery(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None and turn.action is not None
    message_id = turn.action.number
    async with services.db.session() as session:
        message = (
            None
            if message_id is None
            else await session.get(OutboxMessage, message_id, with_for_update=True)
        )
        if message is None:
            return [Notice(text="That message could not be found.", level="error")]
        if message.state != WorkState.DEAD:
            return [Notice(text="That message is not waiting for a retry any more.")]
        message.state = WorkState.PENDING
        message.attempts = 0
        message.next_attempt_at = services.clock.now()
        message.claimed_by = None
        message.lease_until = None
        await audit.record_turn(
            session,
            turn,
            "outbox.retried",
            object_type="outbox_message",
            object_id=message.id,
            previous_error=message.last_error,
        )
    return [
        Notice(
            text="We'll try to send that message again now.",
            level="success",
            buttons=[Button(label="Back to deliveries", action="cmd.deliveries")],
        )
    ]


FEATURE = Feature(
    name="deliveries",
    nav=(NavLink("Deliveries", "deliveries", "admins", order=75),),
    commands=(
        Command(
            "deliveries",
            "messages Convene could not deliver, and why",
            show_deliveries,
            "admins",
            teams_scopes=frozenset({"team", "groupChat"}),
            gate=Gate(
                refusal="Only Convene admins can see deliveries.",
                audit_action="deliveries.refused",
                object_type="deliveries",
            ),
        ),
    ),
    actions={
        "deliveries.": GatedAction(
            retry_delivery,
            "admins",
            Gate(
                refusal="Only Convene admins can retry deliveries.",
                audit_action="deliveries.retry_refused",
                object_type="deliveries",
            ),
        )
    },
)
