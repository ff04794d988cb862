"""The Slack door's outbox sender: `chat.postMessage` (and `views.publish` for App Home).

- The workspace's own bot token (single-workspace token, or the stored installation).
- About one message a second per channel and a per-workspace budget; Slack's 429
  waits for `Retry-After` without using up an attempt.
- Each message carries the outbox idempotency key in Slack message metadata, so
  after a crash `find_delivered` can read `conversations.history` and not post twice.
  Slack lets apps outside its Marketplace read 15 messages a page, once a minute per
  workspace; the sender keeps to that (see `_parts_posted` for what it does when it
  can't look in time).
- What will never work (the bot is not in the channel, a missing scope, a revoked
  token, an archived channel...) is undeliverable at once, with a reason in plain
  English that an admin reads on the Deliveries page. A workspace Slack told us Convene
  was removed from gets nothing more, and Slack is not even asked.
- A file offered (a `FileOffer`, e.g. an export) is sent as the file itself, with
  files.uploadV2, made at that moment by whichever feature offered it (its ticket is
  redeemed at the app's `FileDesk`, see bot/core/files.py). If Slack will not
  take files (an install made before Convene asked for `files:write`), the message is
  posted as it is, with its download link. A file message carries no metadata, so a
  crash between the upload and recording it can, rarely, send the file twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.files import FileRefused, TicketExpired, TicketInvalid
from bot.core.reply import FileOffer, Notice, ReplyList, file_offer_in
from bot.outbox.limits import Limit, RateLimiter, limiter_for
from bot.outbox.sender import Deferred, Delivered, RetryLater, Undeliverable
from bot.services import Services
from bot.slack.blocks import fallback_text, messages
from bot.slack.errors import FAILED_CALL, SlackFailure, failure_of
from storage.models import Door, OutboxMessage
from storage.workspaces import workspace_removed_at

log = logging.getLogger(__name__)

METADATA_TYPE = "convene_outbox"
MAX_SLEEP = 2.0
#: Slack refusing files for good in this workspace: send the download link instead.
NO_FILES = {"missing_scope", "not_allowed_token_type", "restricted_action", "not_allowed"}
#: Why a message can't be sent to a workspace Slack told us Convene was taken out of.
REMOVED = "Convene was removed from this Slack workspace"

_NO_ACCESS = (
    "Convene can no longer get into this Slack workspace: it was removed, or its access "
    "was turned off. Add Convene to the workspace again, then try again."
)
_NOT_ALLOWED = "The settings of this Slack workspace or channel do not let Convene post there."
_OUR_FAULT = (
    "Slack would not take this message as Convene made it. This is a fault in Convene: "
    "tell whoever looks after Convene."
)
#: Slack's errors that trying again will not fix, and what an admin should read about each
#: (shown on the Deliveries page). From chat.postMessage's, conversations.open's and
#: files.uploadV2's documented errors, and the errors every method can give.
UNDELIVERABLE: dict[str, str] = {
    "not_in_channel": (
        "Convene is not in that channel. Add Convene to the channel in Slack "
        "(type /invite @Convene there), then try again."
    ),
    "channel_not_found": (
        "Slack can't find that channel, or Convene can't see it. If it is a private "
        "channel, add Convene to it, then try again."
    ),
    "is_archived": "That Slack channel is archived, so nothing more can be posted in it.",
    "missing_scope": (
        "Convene does not have Slack's permission for this in that workspace. Add Convene "
        "to the workspace again (its install asks for every permission it needs), then "
        "try again."
    ),
    "account_inactive": _NO_ACCESS,
    "token_revoked": _NO_ACCESS,
    "token_expired": _NO_ACCESS,
    "invalid_auth": _NO_ACCESS,
    "not_authed": _NO_ACCESS,
    "team_access_not_granted": _NO_ACCESS,
    "user_not_found": "That person's Slack account can't get messages any more.",
    "user_disabled": "That person's Slack account can't get messages any more.",
    "cannot_dm_bot": "That Slack account belongs to a bot, which can't get messages.",
    "messages_tab_disabled": (
        "That person can't get messages from Convene: Convene's Messages tab is turned off "
        "in their Slack workspace."
    ),
    "access_denied": _NOT_ALLOWED,
    "no_permission": _NOT_ALLOWED,
    "ekm_access_denied": _NOT_ALLOWED,
    "enterprise_is_restricted": _NOT_ALLOWED,
    "org_login_required": _NOT_ALLOWED,
    "not_allowed_token_type": _NOT_ALLOWED,
    "restricted_action": _NOT_ALLOWED,
    "restricted_action_read_only_channel": _NOT_ALLOWED,
    "restricted_action_thread_only_channel": _NOT_ALLOWED,
    "restricted_action_non_threadable_channel": _NOT_ALLOWED,
    "invalid_blocks": _OUR_FAULT,
    "invalid_blocks_format": _OUR_FAULT,
    "invalid_metadata_format": _OUR_FAULT,
    "invalid_metadata_schema": _OUR_FAULT,
    "metadata_too_large": _OUR_FAULT,
    "msg_too_long": _OUR_FAULT,
    "no_text": _OUR_FAULT,
    "too_many_attachments": _OUR_FAULT,
    "invalid_arguments": _OUR_FAULT,
}
#: Errors from reading history that mean we can't look (not that the message can't go).
CANNOT_LOOK = {"not_in_channel", "missing_scope", "channel_not_found", "not_allowed_token_type"}

#: Slack's page size for reading history for apps outside its Marketplace (their allowance,
#: one call a minute per workspace, is `settings.slack_history_per_minute`).
HISTORY_PAGE = 15
#: Pages of history read for one message before deciding it is not there.
HISTORY_PAGES = 8
#: A message's earlier try could not even connect to Slack: nothing of it can be there.
COULD_NOT_CONNECT = "could not connect to Slack"
#: How long the sender trusts what it last read about a workspace being removed.
REMOVED_FOR = 30.0


@dataclass
class _Look:
    """Reading one message's conversation history, a page a minute."""

    cursor: str | None = None
    pages: int = 0
    found: dict[int, str] = field(default_factory=dict)


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
        self.limiter = limiter or limiter_for(services.db)
        self._client = AsyncWebClient(base_url=services.settings.slack_api_url)
        self._history_per_second = max(services.settings.slack_history_per_minute, 0.01) / 60
        self._dm_channels: dict[tuple[str, str], str] = {}
        #: Parts of a message already posted (or found) while it was being sent, by id, so a
        #: message deferred half-way posts only the rest without reading history.
        self._posted: dict[int, dict[int, str]] = {}
        self._looking: dict[int, _Look] = {}
        self._removed: dict[str, tuple[bool, float]] = {}

    def use_session(self, session: aiohttp.ClientSession) -> None:
        """Share the door's pooled HTTP session instead of a new one per call."""
        self._client.session = session

    def forget_workspace(self, team_id: str) -> None:
        """The door heard that this workspace was removed or installed: read it afresh."""
        self._removed.pop(team_id, None)

    async def _workspace_removed(self, team_id: str | None) -> bool:
        if not team_id:
            return False
        known = self._removed.get(team_id)
        now = time.monotonic()
        if known is not None and now - known[1] < REMOVED_FOR:
            return known[0]
        removed = await workspace_removed_at(self.services.db, Door.SLACK, team_id) is not None
        self._removed[team_id] = (removed, now)
        return removed

    async def _token(self, message: OutboxMessage) -> str:
        if await self._workspace_removed(message.workspace_id):
            raise Undeliverable(REMOVED)
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

    async def _call(self, method: Any, *, posting: bool = False, **kwargs: Any) -> Any:
        """One Web API call, with Slack's failures (of any shape) turned into outbox outcomes."""
        try:
            return await method(**kwargs)
        except FAILED_CALL as exc:
            raise _outcome(exc, posting=posting) from exc

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        payload = ReplyList.model_validate(message.payload)
        token = await self._token(message)
        parts = len(messages(payload.replies))
        if parts == 1 and message.last_error == COULD_NOT_CONNECT:
            # The last try could not connect to post it, and the try before that looked
            # first (or could not have posted): there is nothing to look for.
            return None
        channel = await self._channel(token, message)
        found = await self._parts_posted(token, channel, message, parts)
        if found and len(found) >= parts:
            return Delivered(external_id=found[max(found)])
        if found:
            self._remember_posted(message.id, found)
        return None

    def _remember_posted(self, message_id: int, parts: dict[int, str]) -> None:
        self._posted[message_id] = dict(parts)
        while len(self._posted) > 10_000:  # messages that were never tried again
            self._posted.pop(next(iter(self._posted)))

    def _keep_looking(self, message_id: int, look: _Look) -> None:
        self._looking[message_id] = look
        while len(self._looking) > 10_000:
            self._looking.pop(next(iter(self._looking)))

    async def _parts_posted(
        self, token: str, channel: str, message: OutboxMessage, parts: int
    ) -> dict[int, str]:
        """Which parts of this message Slack already has (part number -> ts).

        Slack lets an app outside its Marketplace read a conversation's history once a
        minute per workspace, 15 messages at a time, so this reads one page per call and
        carries on from the same place a minute later (the message waits, `Deferred`,
        which uses up none of its tries).

        When it can't look yet, the safe choice is to wait for the look, not to post: the
        outbox promises that a crash neither loses nor repeats a message, and a message
        that is late is still not lost. The wait is a minute for each message ahead of it
        in that workspace (after a crash, the whole batch the sender had claimed waits its
        turn, even the messages it never got to). Only when a look is impossible, because
        Convene may not read that conversation (a channel it posts in without being a
        member, an install made without the history scopes), or after `HISTORY_PAGES`
        pages without finding it, is the message posted again without one: a rare second
        copy is better than a message that never arrives.
        """
        look = self._looking.pop(message.id, None) or _Look()
        workspace = message.workspace_id or "-"
        per_second = self._history_per_second
        budget = Limit(f"slack:history:{workspace}", per_second)
        # A short wait is slept here, as for posting (`MAX_SLEEP`): deferring every message
        # that would wait a fraction of a second ended each send pass early, which slowed
        # a whole fan-out's recovery after a crash threefold. A long wait (a workspace
        # allowed one look a minute) defers the message, using up none of its tries.
        wait = await self.limiter.acquire([budget], max_wait=MAX_SLEEP)
        if wait is not None:
            self._keep_looking(message.id, look)
            raise Deferred(wait, "waiting for Slack's allowance to look at history")
        oldest = (message.created_at - timedelta(minutes=5)).timestamp()
        try:
            response = await self._client.conversations_history(
                token=token,
                channel=channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=look.cursor,
            )
        except FAILED_CALL as exc:
            failure = failure_of(exc)
            if failure.code in CANNOT_LOOK:
                return look.found
            outcome = _outcome(exc)
            if isinstance(outcome, Deferred):
                self.limiter.penalise(budget.key, outcome.after_seconds)
                self._keep_looking(message.id, look)
            raise outcome from exc
        for item in response.get("messages") or []:
            metadata = item.get("metadata") or {}
            data = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_TYPE
                and data.get("key") == message.idempotency_key
            ):
                look.found[int(data.get("part", 0))] = str(item.get("ts", ""))
        look.pages += 1
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if cursor and len(look.found) < parts and look.pages < HISTORY_PAGES:
            look.cursor = cursor
            self._keep_looking(message.id, look)
            raise Deferred(1 / per_second, "reading Slack's history, a page at a time")
        return look.found

    async def deliver(self, message: OutboxMessage) -> Delivered:
        payload = ReplyList.model_validate(message.payload)
        token = await self._token(message)
        channel = await self._channel(token, message)
        wait = await self.limiter.acquire(self._limits(message, channel), max_wait=MAX_SLEEP)
        if wait is not None:
            raise Deferred(wait, "our own Slack rate limit")
        found = file_offer_in(payload.replies) if payload.op == "post" else None
        if found is not None:
            outcome = await self._send_file(token, channel, message, found)
            if isinstance(outcome, Delivered):
                return outcome
            payload = outcome  # the link instead, or why there is no file
        parts = messages(payload.replies)
        already = self._posted.pop(message.id, {})
        if len(parts) > 1 and not already and _deferred_before(message):
            already = await self._parts_posted(token, channel, message, len(parts))
        text = fallback_text(payload.replies)
        last_ts = ""
        for number, blocks in enumerate(parts):
            if number in already:
                last_ts = already[number]
                continue
            try:
                response = await self._call(
                    self._client.chat_postMessage,
                    posting=True,
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
                if already:
                    self._remember_posted(message.id, already)
                raise
            except (RetryLater, Undeliverable):
                if already:
                    self._remember_posted(message.id, already)
                raise
            last_ts = str(response.get("ts", ""))
            already[number] = last_ts
        return Delivered(external_id=last_ts)

    async def _send_file(
        self, token: str, channel: str, message: OutboxMessage, offer: FileOffer
    ) -> Delivered | ReplyList:
        """Upload an offered file to the person's DM; or say what to post instead (the link,
        or why there is no file). The ticket must be for the person this message goes to."""
        as_posted = ReplyList.model_validate(message.payload)
        try:
            claim = self.services.files.claim(offer.ticket)
        except TicketExpired as expired:
            return ReplyList(replies=[Notice(text=expired.late_text, level="warning")])
        except TicketInvalid:
            return as_posted
        if message.person_id is None:
            return as_posted
        made = await claim.take(
            self.services,
            person_id=message.person_id,
            door=Door.SLACK,
            via="slack file",
            record=False,
        )
        if isinstance(made, FileRefused):
            return ReplyList(replies=[Notice(text=made.message, level="warning")])
        comment = "\n".join(t for t in (offer.title, offer.who_sees) if t)
        try:
            response = await self._client.files_upload_v2(
                token=token,
                channel=channel,
                filename=made.filename,
                title=made.filename,
                content=made.data,
                initial_comment=comment,
            )
        except FAILED_CALL as exc:  # includes the upload URL not answering 200
            failure = failure_of(exc)
            if failure.code in NO_FILES:
                log.warning(
                    "Slack would not take a file (%s); sending the link instead", failure.code
                )
                return as_posted
            raise _outcome(exc) from exc
        await claim.handed_over(
            self.services,
            person_id=message.person_id,
            door=Door.SLACK,
            via="slack file",
            rows=made.rows,
        )
        file = response.get("file") or {}
        return Delivered(external_id=f"file:{file.get('id', '')}")


def _deferred_before(message: OutboxMessage) -> bool:
    """A message on its first counted try that was deferred before (which gives its try
    back) may have had some parts posted; a later try was looked for by `find_delivered`."""
    return message.attempts <= 1 and message.last_error is not None


def _outcome(exc: BaseException, *, posting: bool = False) -> Exception:
    """What a failed call means for the outbox: wait, retry, or give up now.

    Any failure counts, whatever Slack (or a proxy in front of it) answered: an HTML page,
    plain text, or nothing at all."""
    failure = failure_of(exc)
    if failure.status == 429 or failure.code == "ratelimited":
        return Deferred(failure.retry_after or 1.0, "Slack asked us to slow down (429)")
    if failure.status is not None and failure.status >= 500:
        return RetryLater(f"Slack answered {failure.status}")
    if failure.code in UNDELIVERABLE:
        return Undeliverable(_why(failure))
    if posting and isinstance(exc, aiohttp.ClientConnectorError):
        return RetryLater(COULD_NOT_CONNECT)
    if isinstance(exc, FAILED_CALL) and failure.status is None:
        return RetryLater(f"could not reach Slack: {failure.code}")
    return RetryLater(f"Slack error: {failure.code}")


def _why(failure: SlackFailure) -> str:
    """The reason shown on the Deliveries page: what happened and what to do, then Slack's
    own word for it (which is what to search for in Slack's documentation)."""
    said = failure.code if not failure.needed else f"{failure.code}, needed {failure.needed}"
    return f"{UNDELIVERABLE[failure.code]} (Slack said: {said})"
