"""Where a person's notices go: the web messages page only, email, Slack or Teams (the
doors they have). A separate small section of the notifications feature.

Service: `choose` checks the door is one the person has and stores it (on the record).
View: `door_section` and `chosen_replies` say where messages go and what happens next.
The messages page always keeps a copy of what goes by email.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Button, Notice, Reply, Section
from bot.core.turn import Actor, Turn
from bot.services import Services
from storage import audit
from storage.email_door import choose_door, doors_for

ACTION = "notifications.door"

NAMES = {
    "web": "your Convene messages page only",
    "email": "email",
    "slack": "Slack",
    "teams": "Teams",
}


@dataclass(frozen=True)
class DoorChoice:
    chosen: str | None
    choices: list[str]
    email_off: bool


@dataclass(frozen=True)
class NotAChoice:
    door: str


def _where(choice: DoorChoice) -> str:
    """Where notices go now, in words."""
    door = choice.chosen
    if door not in choice.choices or (door == "email" and choice.email_off):
        door = None
    if door is None:
        chat = [d for d in choice.choices if d in ("slack", "teams")]
        if chat:
            door = chat[0]
        elif "email" in choice.choices and not choice.email_off:
            door = "email"
        else:
            door = "web"
    if door == "email":
        return "We send your messages by email. A copy stays on your Convene messages page."
    if door == "web":
        return "Your messages go to your Convene messages page only. Look there for news."
    return f"We send your messages in {NAMES[door]}."


def door_section(choice: DoorChoice) -> Section:
    others = [d for d in choice.choices if d != choice.chosen or choice.email_off]
    return Section(
        heading="Where we send your messages",
        text=_where(choice)
        + ("\nYou turned email off." if choice.email_off and "email" in choice.choices else "")
        + "\nOnly you see this choice.",
        buttons=[
            Button(label=f"Use {NAMES[d]}", action=ACTION, value=d)
            for d in others
            if d != "web" or choice.chosen != "web"
        ],
    )


async def door_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    chosen, choices, off = await doors_for(session, actor.person_id)
    if len(choices) < 2:
        return []
    return [door_section(DoorChoice(chosen, choices, off))]


async def choose(session: AsyncSession, turn: Turn, door: str) -> DoorChoice | NotAChoice:
    assert turn.actor is not None
    _, choices, _ = await doors_for(session, turn.actor.person_id)
    if door not in choices:
        return NotAChoice(door)
    await choose_door(session, turn.actor.person_id, door)
    await audit.record_turn(
        session,
        turn,
        "notifications.door_chosen",
        object_type="person",
        object_id=turn.actor.person_id,
        door_chosen=door,
    )
    chosen, choices, off = await doors_for(session, turn.actor.person_id)
    return DoorChoice(chosen, choices, off)


def chosen_replies(result: DoorChoice | NotAChoice) -> list[Reply]:
    if isinstance(result, NotAChoice):
        return [
            Notice(
                text="You can't get messages there: you don't use it with Convene. "
                "Nothing has changed.",
                level="error",
            )
        ]
    return [Notice(text=f"Saved. {_where(result)}", level="success")]


async def choose_door_pressed(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None and turn.action is not None
    async with services.db.session() as session:
        result = await choose(session, turn, turn.action.value.strip())
    return chosen_replies(result)
