"""The Teams door's outbox sender: posts to the Bot Connector from stored conversation references.

Proactive messages work after a restart and from any replica because the reference
(service URL, conversation) is in the database. Limits: 7 messages a second per
conversation and 50 a second per tenant. 429 waits for `Retry-After`; 412, 502 and
504 retry with backoff and jitter; a deleted conversation or a removed bot is dead
at once. The connector answers in JSON; an answer that is not (an HTML error page
from a proxy, plain text) is judged by its status like any other, never a crash.
The connector returns the new activity id, which the outbox records in the
same UPDATE that marks the row sent, so the window for a resend after a crash is as
small as the platform allows (Teams offers no way to look a message up afterwards).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from bot.core.reply import ReplyList, plain_text
from bot.outbox.limits import Limit, RateLimiter, limiter_for
from bot.outbox.sender import Deferred, Delivered, RetryLater, Undeliverable
from bot.services import Services
from bot.teams.auth import ProcessCredentialsFactory
from bot.teams.cards import cards
from storage.models import Door, OutboxMessage
from storage.teams import service_url_for

log = logging.getLogger(__name__)

RETRY = {412, 500, 502, 503, 504}
GONE = {403, 404}
MAX_SLEEP = 2.0
#: The longest a `Retry-After` may hold a message back; a bigger one is a broken header.
MAX_RETRY_AFTER = 3600.0


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
        self.limiter = limiter or limiter_for(services.db)
        self.http: aiohttp.ClientSession | None = None
        self._service_urls: dict[str, str] = {}

    def use_session(self, session: aiohttp.ClientSession) -> None:
        self.http = session

    async def _service_url(self, conversation_id: str) -> str:
        url = self._service_urls.get(conversation_id)
        if url is None:
            url = await service_url_for(self.services.db, conversation_id)
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
                        after = retry_after(response.headers.get("Retry-After"))
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
                    return await _answer(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RetryLater(f"could not reach Teams: {type(exc).__name__}") from exc
        raise RetryLater("Teams refused our token twice")


async def _answer(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The connector's answer to a call that worked: a JSON object, or nothing at all.

    Anything else (an HTML page, plain text, a list) did not come from the Bot Connector,
    whatever the status says; a proxy in the way, most likely. Then the call failed and is
    tried again later, with a reason a person can read.
    """
    if response.content_length == 0:
        return {}
    unreadable = RetryLater(f"Teams answered {response.status}, but not with JSON we can read")
    try:
        data = await response.json(content_type=None)
    except (ValueError, UnicodeDecodeError) as exc:  # json's JSONDecodeError is a ValueError
        raise unreadable from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise unreadable
    return data


def retry_after(header: str | None) -> float:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date.
    One second when it is missing or makes no sense, never more than an hour."""
    if not header:
        return 1.0
    try:
        seconds = float(header)
        if seconds < 0:
            return 1.0
    except ValueError:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return 1.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return 1.0
    return min(MAX_RETRY_AFTER, max(0.0, seconds))
