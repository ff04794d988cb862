"""The Teams door's outbox sender: posts to the Bot Connector from stored conversation references.

Proactive messages work after a restart and from any replica because the reference
(service URL, conversation) is in the database. Limits: 7 messages a second per
conversation and 50 a second per tenant. 429 waits for `Retry-After`; 412, 502 and
504 retry with backoff and jitter; a deleted conversation or a removed bot is dead
at once. The connector returns the new activity id, which the outbox records in the
same UPDATE that marks the row sent, so the window for a resend after a crash is as
small as the platform allows (Teams offers no way to look a message up afterwards).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.core.reply import ReplyList, plain_text
from bot.outbox.limits import Limit, RateLimiter
from bot.outbox.sender import Deferred, Delivered, RetryLater, Undeliverable
from bot.services import Services
from bot.teams.auth import ProcessCredentialsFactory
from bot.teams.cards import cards
from storage.models import Door, OutboxMessage, TeamsConversation

log = logging.getLogger(__name__)

RETRY = {412, 500, 502, 503, 504}
GONE = {403, 404}
MAX_SLEEP = 2.0


def activity_for(payload: ReplyList, key: str) -> dict[str, Any]:
    """A Bot Framework message activity for neutral replies: a card, with a text summary for
    notifications. Our outbox key rides in channelData so a duplicate can be spotted."""
    activity: dict[str, Any] = {"type": "message", "channelData": {"convene": {"key": key}}}
    text = plain_text(payload.replies)
    attached = cards(payload.replies)
    if attached:
        activity["attachments"] = [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": c}
            for c in attached
        ]
        activity["summary"] = text[:200]
    else:
        activity["text"] = text
    return activity


class TeamsSender:
    door = Door.TEAMS

    def __init__(
        self,
        services: Services,
        credentials: ProcessCredentialsFactory,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.services = services
        self.credentials = credentials
        self.limiter = limiter or RateLimiter()
        self.http: aiohttp.ClientSession | None = None
        self._service_urls: dict[str, str] = {}

    def use_session(self, session: aiohttp.ClientSession) -> None:
        self.http = session

    async def _service_url(self, conversation_id: str) -> str:
        url = self._service_urls.get(conversation_id)
        if url is None:
            async with self.services.db.session() as session:
                url = await session.scalar(
                    select(TeamsConversation.service_url).where(
                        TeamsConversation.conversation_id == conversation_id
                    )
                )
            if url is None:
                raise Undeliverable("no stored Teams conversation for this address")
            self._service_urls[conversation_id] = url
        return url

    def forget_service_url(self, conversation_id: str) -> None:
        """The reference changed (a new activity arrived with another service URL)."""
        self._service_urls.pop(conversation_id, None)

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        return None  # the Bot Connector has no way to look up what a bot already sent

    async def deliver(self, message: OutboxMessage) -> Delivered:
        payload = ReplyList.model_validate(message.payload)
        conversation = message.address
        settings = self.services.settings
        wait = await self.limiter.acquire(
            [
                Limit(
                    f"teams:conversation:{conversation}",
                    settings.teams_conversation_per_second,
                    burst=7,
                ),
                Limit(
                    f"teams:tenant:{message.workspace_id or '-'}",
                    settings.teams_tenant_per_second,
                    burst=50,
                ),
            ],
            max_wait=MAX_SLEEP,
        )
        if wait is not None:
            raise Deferred(wait, "our own Teams rate limit")
        base = (await self._service_url(conversation)).rstrip("/")
        activity = activity_for(payload, message.idempotency_key)
        if payload.op == "update" and payload.ref:
            activity["id"] = payload.ref
            url, method = f"{base}/v3/conversations/{conversation}/activities/{payload.ref}", "PUT"
        else:
            url, method = f"{base}/v3/conversations/{conversation}/activities", "POST"
        answer = await self._call(method, url, activity, conversation)
        return Delivered(external_id=str(answer.get("id") or payload.ref or ""))

    async def _headers(self, *, refresh: bool = False) -> dict[str, str]:
        if not self.credentials.app_id:
            return {}  # unauthenticated local trials
        token = await self.credentials.credentials().token(force_refresh=refresh)
        return {"Authorization": f"Bearer {token}"}

    async def _call(
        self, method: str, url: str, body: dict[str, Any], conversation: str
    ) -> dict[str, Any]:
        assert self.http is not None, "TeamsSender.use_session() was not called"
        for attempt in (1, 2):
            try:
                async with self.http.request(
                    method, url, json=body, headers=await self._headers(refresh=attempt == 2)
                ) as response:
                    if response.status == 401 and attempt == 1:
                        continue  # our token may have been revoked: get a new one, once
                    if response.status == 429:
                        after = float(response.headers.get("Retry-After", "1") or 1)
                        self.limiter.penalise(f"teams:conversation:{conversation}", after)
                        raise Deferred(after, "Teams asked us to slow down (429)")
                    if response.status in RETRY:
                        raise RetryLater(f"Teams answered {response.status}")
                    if response.status in GONE:
                        raise Undeliverable(
                            f"Teams answered {response.status}: the conversation is gone or "
                            "Convene was removed from it"
                        )
                    if response.status >= 400:
                        raise RetryLater(f"Teams answered {response.status}")
                    if response.content_length == 0:
                        return {}
                    data: dict[str, Any] = await response.json(content_type=None) or {}
                    return data
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RetryLater(f"could not reach Teams: {type(exc).__name__}") from exc
        raise RetryLater("Teams refused our token twice")
