"""The person's Slack App Home: their open tasks, published fresh when they look.

Slack shows the Home tab from the last view we published, so it is published again
when the tab is opened and after anything a person does that may change it (a form
sent, a button pressed).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.turn import Door, Turn
from bot.slack import blocks as kit
from bot.slack.errors import FAILED_CALL, error_code
from bot.slack.identity import acting
from bot.turns import DatabaseDown, Delivery, DoorPipeline

log = logging.getLogger(__name__)

DM = "dm"  # chat-mode conversations with the bot live in the person's DM


class SlackHome:
    def __init__(self, pipeline: DoorPipeline) -> None:
        self.pipeline = pipeline

    async def opened(self, event: dict[str, Any], context: dict[str, Any]) -> BoltResponse | None:
        """`app_home_opened`: publish the Home tab (not the Messages tab). If the database
        failed, Slack is asked to send the event again later."""
        if event.get("tab", "home") != "home":
            return None
        return None if await self.refresh(context) else try_again_later()

    async def refresh(self, context: dict[str, Any]) -> bool:
        """Publish the person's App Home. False if the database failed (Slack's own failures
        are only logged: the next visit to the tab publishes it again)."""
        try:
            actor = await acting(self.pipeline, context)
        except DatabaseDown:
            return False
        outcome = await self.pipeline.run(
            Delivery(Turn(door=Door.SLACK, actor=actor, conversation=DM, text="home"))
        )
        if outcome.failed:
            return False
        client: AsyncWebClient = context["client"]
        try:
            await client.views_publish(
                user_id=context["user_id"], view=kit.home_view(outcome.replies)
            )
        except FAILED_CALL as exc:
            log.warning("views.publish failed: %s", error_code(exc))
        return True


def try_again_later() -> BoltResponse:
    """Slack sends an event again (after a minute, then five) when it gets anything but 200."""
    return BoltResponse(status=503, body="Convene can't handle this right now.")
