"""What a door is: the contract `build_app` holds Slack, Teams and the web to.

A door is a way in (Slack, Teams, plain web pages). It mounts its routes on the one
aiohttp server, opens and closes what it holds open (an HTTP session, a Socket Mode
connection), names the outbox sender that delivers to it, and renders neutral replies
as its platform's output. Everything in between, who is acting, handling a delivery
once, the answer when the database is down, is the shared pipeline
(`bot.turns.DoorPipeline`), so a door only reads its payload into a `Turn` and shows
the replies. See "How to add a door" in ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from bot.core.reply import Reply
from bot.core.turn import Door as Platform
from bot.outbox.sender import DoorSender


class Renderer(Protocol):
    """Neutral replies as one door's output: Block Kit messages, Adaptive Cards, HTML."""

    def render(self, replies: Sequence[Reply]) -> object: ...


class Door(Protocol):
    """One way in. `build_app` mounts, starts and stops every door it was given, and
    registers each door's sender with the outbox."""

    @property
    def platform(self) -> Platform: ...

    @property
    def sender(self) -> DoorSender:
        """Delivers the outbox's messages for this door (a DM, a card, the web inbox)."""
        ...

    @property
    def renderer(self) -> Renderer: ...

    def mount(self, app: web.Application) -> None:
        """Add the door's routes to the server."""

    async def start(self) -> None:
        """Open what the door keeps open while the server runs."""

    async def stop(self) -> None:
        """Close it again, after the outbox has gone idle."""
