"""The Slack door's outbox sender: `chat.postMessage` (and `views.publish` for App Home).

- The workspace's own bot token (single-workspace token, or the stored installation).
- About one message a second per channel and a per-workspace budget; Slack's 429
  waits for `Retry-After` without using up an attempt.
- Each message carries the outbox idempotency key in Slack message metadata, so
  after a crash `find_delivered` can read `conversations.history` and not post twice.
- An export (a message with a download ticket, see handlers/exports) is sent as the file
  itself, with files.uploadV2, made from the database at that moment. If Slack will not
  take files (an install made before Convene asked for `files:write`), the message is
  posted as it is, with its download link. A file message carries no metadata, so a
  crash between the upload and recording it can, rarely, send the file twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import Message, Notice, ReplyList
from bot.outbox.limits import Limit, RateLimiter
from bot.outbox.sender import Deferred, Delivered, RetryLater, Undeliverable
from bot.services import Services
from bot.slack.blocks import fallback_text, home_view, messages
from handlers.exports import (
    TicketExpired,
    TicketInvalid,
    export_in,
    file_for_ticket,
    read_ticket,
    record_handover,
)
from storage.models import Door, OutboxMessage
from storage.visibility import Refusal

log = logging.getLogger(__name__)

METADATA_TYPE = "convene_outbox"
GONE = {
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "not_authed",
    "channel_not_found",
    "is_archived",
    "user_not_found",
    "cannot_dm_bot",
    "user_disabled",
    "team_access_not_granted",
}
MAX_SLEEP = 2.0
#: Slack refusing files for good in this workspace: send the download link instead.
NO_FILES = {"missing_scope", "not_allowed_token_type", "restricted_action", "not_allowed"}


class SlackTokens:
    """The bot token for a workspace: one fixed token, or the OAuth installation's."""

    def __init__(self, services: Services, store: AsyncInstallationStore | None) -> None:
        token = services.settings.slack_bot_token
        self._single = token.get_secret_value() if token else None
        self._store = store

    async def bot_token(self, team_id: str | None) -> str | None:
        if self._store is not None and team_id:
            bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is not None:
                return bot.bot_token
        return self._single


class SlackSender:
    door = Door.SLACK

    def __init__(
        self,
        services: Services,
        tokens: SlackTokens,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.services = services
        self.tokens = tokens
        self.limiter = limiter or RateLimiter()
        self._client = AsyncWebClient(base_url=services.settings.slack_api_url)
        self._dm_channels: dict[tuple[str, str], str] = {}

    def use_session(self, session: aiohttp.ClientSession) -> None:
        """Share the door's pooled HTTP session instead of a new one per call."""
        self._client.session = session

    async def _token(self, message: OutboxMessage) -> str:
        token = await self.tokens.bot_token(message.workspace_id)
        if token is None:
            raise Undeliverable(
                f"Convene is not installed in Slack workspace {message.workspace_id}"
            )
        return token

    async def _channel(self, token: str, message: OutboxMessage) -> str:
        """Messages to a person are addressed by user id; history needs the DM channel id."""
        address = message.address
        if not address.startswith(("U", "W")):
            return address
        key = (message.workspace_id or "", address)
        if key not in self._dm_channels:
            response = await self._call(self._client.conversations_open, token=token, users=address)
            self._dm_channels[key] = response["channel"]["id"]
        return self._dm_channels[key]

    def _limits(self, message: OutboxMessage, channel: str) -> list[Limit]:
        settings = self.services.settings
        workspace = message.workspace_id or "-"
        return [
            Limit(f"slack:channel:{workspace}:{channel}", settings.slack_channel_per_second),
            Limit(f"slack:workspace:{workspace}", settings.slack_workspace_per_second, burst=10),
        ]

    async def _call(self, method: Any, **kwargs: Any) -> Any:
        """One Web API call, with Slack's failures turned into outbox outcomes."""
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise _outcome(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"could not reach Slack: {type(exc).__name__}") from exc

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        payload = ReplyList.model_validate(message.payload)
        if payload.op == "home":
            return None  # publishing a home view twice is harmless
        token = await self._token(message)
        channel = await self._channel(token, message)
        found = await self._parts_posted(token, channel, message)
        parts = len(messages(payload.replies))
        if found and len(found) >= parts:
            return Delivered(external_id=found[max(found)])
        return None

    async def _parts_posted(
        self, token: str, channel: str, message: OutboxMessage
    ) -> dict[int, str]:
        """Which parts of this message Slack already has (part number -> ts)."""
        oldest = (message.created_at - timedelta(minutes=5)).timestamp()
        found: dict[int, str] = {}
        cursor = None
        for _ in range(20):  # at most 20 pages of history
            response = await self._call(
                self._client.conversations_history,
                token=token,
                channel=channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for item in response.get("messages") or []:
                metadata = item.get("metadata") or {}
                data = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and data.get("key") == message.idempotency_key
                ):
                    found[int(data.get("part", 0))] = item.get("ts", "")
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    async def deliver(self, message: OutboxMessage) -> Delivered:
        payload = ReplyList.model_validate(message.payload)
        token = await self._token(message)
        if payload.op == "home":
            await self._call(
                self._client.views_publish,
                token=token,
                user_id=message.address,
                view=home_view(payload.replies),
            )
            return Delivered(external_id=f"home:{message.address}")
        channel = await self._channel(token, message)
        wait = await self.limiter.acquire(self._limits(message, channel), max_wait=MAX_SLEEP)
        if wait is not None:
            raise Deferred(wait, "our own Slack rate limit")
        found = export_in(payload.replies) if payload.op == "post" else None
        if found is not None:
            outcome = await self._send_file(token, channel, message, *found)
            if isinstance(outcome, Delivered):
                return outcome
            payload = outcome  # the link instead, or why there is no file
        parts = messages(payload.replies)
        already = await self._parts_posted(token, channel, message) if len(parts) > 1 else {}
        text = fallback_text(payload.replies)
        last_ts = ""
        for number, blocks in enumerate(parts):
            if number in already:
                last_ts = already[number]
                continue
            try:
                response = await self._call(
                    self._client.chat_postMessage,
                    token=token,
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    metadata={
                        "event_type": METADATA_TYPE,
                        "event_payload": {"key": message.idempotency_key, "part": number},
                    },
                )
            except Deferred as exc:
                self.limiter.penalise(
                    f"slack:channel:{message.workspace_id or '-'}:{channel}", exc.after_seconds
                )
                raise
            last_ts = str(response.get("ts", ""))
        return Delivered(external_id=last_ts)

    async def _send_file(
        self, token: str, channel: str, message: OutboxMessage, export: Message, ticket_token: str
    ) -> Delivered | ReplyList:
        """Upload an export to the person's DM; or say what to post instead (the link, or why
        there is no file). The ticket must be for the person this message goes to."""
        as_posted = ReplyList.model_validate(message.payload)
        try:
            ticket = read_ticket(self.services.settings, ticket_token)
        except TicketExpired:
            return ReplyList(
                replies=[
                    Notice(
                        text="That file took too long to send, so we did not send it. "
                        "Type export to ask for it again.",
                        level="warning",
                    )
                ]
            )
        except TicketInvalid:
            return as_posted
        if message.person_id is None:
            return as_posted
        made = await file_for_ticket(
            self.services,
            ticket,
            person_id=message.person_id,
            door=Door.SLACK,
            via="slack file",
            record=False,
        )
        if isinstance(made, Refusal):
            return ReplyList(replies=[Notice(text=made.message, level="warning")])
        comment = "\n".join(t for t in (export.title, export.who_sees) if t)
        try:
            response = await self._client.files_upload_v2(
                token=token,
                channel=channel,
                filename=made.filename,
                title=made.filename,
                content=made.data,
                initial_comment=comment,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in NO_FILES:
                log.warning("Slack would not take a file (%s); sending the link instead", error)
                return as_posted
            raise _outcome(exc) from exc
        except SlackRequestError as exc:  # the upload URL did not answer 200
            raise RetryLater(f"Slack did not take the file: {exc}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"could not reach Slack: {type(exc).__name__}") from exc
        await record_handover(
            self.services,
            ticket,
            person_id=message.person_id,
            door=Door.SLACK,
            via="slack file",
            rows=made.rows,
        )
        file = response.get("file") or {}
        return Delivered(external_id=f"file:{file.get('id', '')}")


def _outcome(exc: SlackApiError) -> Exception:
    """What a Slack API failure means for the outbox: wait, retry, or give up."""
    status = exc.response.status_code
    error = str(exc.response.get("error") or status)
    if status == 429:
        retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
        return Deferred(retry_after, "Slack asked us to slow down (429)")
    if status >= 500:
        return RetryLater(f"Slack answered {status}")
    if error in GONE:
        return Undeliverable(f"Slack refused the message: {error}")
    return RetryLater(f"Slack error: {error}")
