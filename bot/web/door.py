"""The web door: plain pages for people on neither Slack nor Teams.

Its routes are `bot/web/routes.py`; what it delivers later (a message that would have
been a chat message) goes to the person's inbox page, by `WebInboxSender`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.core.reply import Reply
from bot.core.turn import Door
from bot.outbox.web_inbox import WebInboxSender
from bot.services import Services
from bot.turns import DoorPipeline
from bot.web.render import environment, title_of, use_router
from bot.web.routes import setup_web


class Html:
    """The web door's renderer: neutral replies as an accessible HTML page (no one signed
    in, no form token: the routes add those to the same template)."""

    def render(self, replies: Sequence[Reply]) -> str:
        return environment.get_template("replies.html").render(
            replies=list(replies), person=None, csrf="", unread=0, title=title_of(list(replies))
        )


class WebDoor:
    platform = Door.WEB
    renderer = Html()

    def __init__(self, services: Services, pipeline: DoorPipeline) -> None:
        self.services = services
        self.pipeline = pipeline
        # Commands a reply points at that change things become posted buttons, not links.
        use_router(services.router.changes_things)
        self.sender = WebInboxSender(services)

    def mount(self, app: web.Application) -> None:
        setup_web(app, self.services, self.pipeline)

    async def start(self) -> None:
        """Nothing to open: the web door answers on the server's own connections."""

    async def stop(self) -> None:
        """Nothing to close."""
