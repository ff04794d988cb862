"""A fake Slack Web API served on loopback, for tests that must not mock our code.

`FakeSlack` is a real aiohttp server on 127.0.0.1. Point slack_sdk at it with
``AsyncWebClient(token=..., base_url=fake.url)`` (the trailing slash matters: the
client posts to ``f"{base_url}{method}"``). It accepts what slack_sdk sends — JSON
bodies, form bodies (with ``blocks``/``view``/``metadata``... as JSON strings) and
query strings — records every call, and answers like Slack does: HTTP 200 with
``{"ok": false, "error": ...}`` for API errors, HTTP 429 with ``Retry-After`` when
rate limited.

Scopes are enforced as Slack enforces them: each workspace's bot has the scopes in
``manifest/slack/manifest.yaml`` (or those an OAuth code granted), and a method called
without its scope (`METHOD_SCOPES`) answers ``missing_scope`` with ``needed`` and
``provided``, so code that calls something the manifest does not ask for fails a test.

Typical use::

    fake = FakeSlack()
    await fake.start()
    client = AsyncWebClient(token="xoxb-test", base_url=fake.url)
    await client.chat_postMessage(channel="C1", text="hi")
    assert fake.delivered("C1")[0]["text"] == "hi"
    await fake.stop()
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import math
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from aiohttp import web

DEFAULT_TEAM_ID = "T0001"
DEFAULT_BOT_TOKEN = "xoxb-test"
DEFAULT_BOT_USER_ID = "UBOT"
DEFAULT_BOT_ID = "BBOT"
DEFAULT_APP_ID = "A0001"

#: Fields slack_sdk may send as JSON strings inside form-encoded bodies.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files"})

#: Content types Slack reports for the files our tests upload (by file name ending).
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
    "pdf": "application/pdf",
}

#: Methods that authenticate with client id/secret (HTTP basic auth), not a token.
UNAUTHENTICATED_METHODS = frozenset({"oauth.v2.access", "oauth.access"})

#: How many views Slack lets a modal stack hold.
MAX_VIEW_STACK = 3

MANIFEST = Path(__file__).resolve().parents[2] / "manifest" / "slack" / "manifest.yaml"

#: The scopes a method needs (any one of them is enough); an empty set: none. Methods
#: whose need depends on the call (which channel, which field) are worked out in
#: `FakeSlack._needed`; they are listed here with what they always need.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "oauth.v2.access": frozenset(),
    "users.info": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "conversations.open": frozenset({"im:write", "mpim:write"}),
    "conversations.history": frozenset(),  # by channel type, see HISTORY_SCOPES
    "conversations.replies": frozenset(),  # by channel type, see HISTORY_SCOPES
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "views.open": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
}

#: Reading a conversation's history needs the scope for its kind (by the id's first letter).
HISTORY_SCOPES = {
    "C": frozenset({"channels:history"}),
    "G": frozenset({"groups:history", "mpim:history"}),
    "D": frozenset({"im:history"}),
}

#: What Slack lets an app that is not in the Slack Marketplace read of a conversation's
#: history: 15 messages a page (a bigger `limit` is cut to 15).
HISTORY_PAGE_LIMIT = 15


@cache
def manifest_bot_scopes() -> frozenset[str]:
    """The bot scopes `manifest/slack/manifest.yaml` asks for: what an install grants."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


Json = dict[str, Any]
Handler = Callable[["_Ctx"], Awaitable[Json]]


@dataclass
class Call:
    """One request the fake received.

    `at` is `time.monotonic()` on arrival. `failed` is True when the fake answered
    with an injected failure or a rate-limit 429 (nothing was stored). `status` is
    the HTTP status sent and `error` the Slack error code, if any.
    """

    method: str
    token: str | None
    body: Json
    at: float
    failed: bool = False
    status: int = 200
    error: str | None = None
    team_id: str | None = None


@dataclass
class Workspace:
    """An installed workspace: its team and the bot's identity in it."""

    team_id: str
    name: str
    domain: str
    bot_user_id: str = DEFAULT_BOT_USER_ID
    bot_id: str = DEFAULT_BOT_ID
    app_id: str = DEFAULT_APP_ID
    enterprise_id: str | None = None
    #: The bot's scopes in this workspace (the manifest's, unless a test changes them).
    scopes: set[str] = field(default_factory=lambda: set(manifest_bot_scopes()))

    @property
    def url(self) -> str:
        """The workspace URL auth.test reports."""
        return f"https://{self.domain}.slack.com/"


@dataclass
class _TokenInfo:
    team_id: str
    user_id: str
    bot_id: str | None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str
    #: Answer this text instead of Slack's JSON (a proxy's HTML page, a server's text).
    body: str | None = None
    content_type: str = "text/html"


#: How the fake answers a download of a file a person shared (`FakeSlack.share_file`).
FILE_ANSWERS = ("file", "rate_limited", "server_error", "login_page", "slow")

#: What Slack answers, with 200, to a file download without a good token: its sign-in page.
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"


@dataclass
class SharedFile:
    """A file a person shared in a message, served at its private URL."""

    file_id: str
    team_id: str
    name: str
    mimetype: str
    data: bytes
    #: One of `FILE_ANSWERS`: the bytes, 429, 500, a sign-in page, or nothing for 3 s.
    answer: str = "file"


@dataclass
class FileDownload:
    """One request for a shared file's private URL, and how the fake answered it."""

    file_id: str
    token: str | None
    status: int
    at: float


@dataclass
class _PendingUpload:
    """A file between files.getUploadURLExternal and files.completeUploadExternal."""

    file_id: str
    team_id: str
    filename: str
    length: int
    alt_txt: str | None
    content: bytes | None = None


@dataclass
class _OAuthCode:
    team_id: str
    bot_token: str
    authed_user_id: str
    scope: str | None
    user_scope: str
    user_token: str | None
    redirect_uri: str | None


@dataclass
class _Bucket:
    """A token bucket refilled continuously at `rate` tokens/second up to `capacity`."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass
class _Ctx:
    """What a method handler sees about one call."""

    method: str
    body: Json
    token: str | None
    auth: _TokenInfo | None
    call: Call


class SlackError(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": code}`` (HTTP 200)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _ts_key(ts: str) -> int:
    """A Slack ts ("1700000000.000100") as integer microseconds, for exact ordering."""
    sec, _, frac = str(ts).partition(".")
    return int(sec or 0) * 1_000_000 + int((frac + "000000")[:6] or 0)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    prefix, _, ts = decoded.partition(":")
    if prefix != "next_ts" or not ts:
        raise SlackError("invalid_cursor")
    return ts


class FakeSlack:
    """A fake Slack Web API on 127.0.0.1 that records calls and keeps state.

    Public state (all plain data, safe to inspect in tests):

    - ``calls``: every `Call`, in arrival order.
    - ``messages``: channel id -> stored messages, oldest first.
    - ``ephemeral``: stored ephemeral messages (each has ``channel`` and ``user``).
    - ``views``: view id -> current view object (as views.* return it).
    - ``view_stacks``: root view id -> list of view ids (bottom first).
    - ``home_views``: user id -> latest published App Home view.
    - ``responses``: response_url id -> list of bodies POSTed to ``/response/<id>``.
    - ``workspaces``: team id -> `Workspace`; ``users``: (team, user) -> users.info user.
    - ``files``: file id -> file object (as files.completeUploadExternal returns it);
      ``file_contents``: file id -> the bytes uploaded. `files_in(channel)` pairs them.
    - ``latency``: seconds added to every call; ``method_latency``: per-method extra.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, list[Json]] = defaultdict(list)
        self.ephemeral: list[Json] = []
        self.views: dict[str, Json] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, Json] = {}
        self.files: dict[str, Json] = {}
        self.file_contents: dict[str, bytes] = {}
        self.responses: dict[str, list[Json]] = defaultdict(list)
        #: Files people shared (`share_file`), and every download of them.
        self.shared_files: dict[str, SharedFile] = {}
        self.file_downloads: list[FileDownload] = []
        self.workspaces: dict[str, Workspace] = {}
        self.users: dict[tuple[str, str], Json] = {}
        self.latency: float = 0.0
        self.method_latency: dict[str, float] = {}

        self._tokens: dict[str, _TokenInfo] = {}
        self._revoked: set[str] = set()
        self._oauth_codes: dict[str, _OAuthCode] = {}
        self._expired_triggers: set[str] = set()
        self._uploads: dict[str, _PendingUpload] = {}  # upload URL token -> pending file
        self._outside: set[tuple[str, str]] = set()  # (team, channel) the bot is not in
        #: At most this many conversations.history calls a minute per workspace (None: no
        #: limit), as Slack allows apps outside its Marketplace; over it, 429.
        self.history_per_minute: int | None = None
        self._history_calls: dict[str, deque[float]] = defaultdict(deque)
        self._trigger_roots: dict[str, str] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._rate_limits: tuple[float, float, float, float] | None = None
        self._channel_buckets: dict[str, _Bucket] = {}
        self._team_buckets: dict[str, _Bucket] = {}
        self._last_ts = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self.add_workspace(DEFAULT_TEAM_ID, DEFAULT_BOT_TOKEN)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 at a free port chosen by the OS."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_post("/upload/v1/{upload_id}", self._handle_upload)
        app.router.add_get("/files-pri/{file_id}/download/{name}", self._handle_file_download)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_route("*", "/{method}", self._handle_api)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._url = f"http://{host}:{port}/"
        return self

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:PORT/``."""
        if self._url is None:
            raise RuntimeError("FakeSlack is not started")
        return self._url

    def response_url(self, response_id: str = "abc") -> str:
        """A response_url that posts into `responses[response_id]`."""
        return f"{self.url}response/{response_id}"

    # ------------------------------------------------------------------ setup

    def add_workspace(
        self,
        team_id: str,
        bot_token: str,
        *,
        name: str | None = None,
        domain: str | None = None,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        bot_id: str = DEFAULT_BOT_ID,
        app_id: str = DEFAULT_APP_ID,
        enterprise_id: str | None = None,
        scopes: set[str] | frozenset[str] | None = None,
    ) -> Workspace:
        """Install the bot in a workspace: `bot_token` authenticates as its bot user.

        The bot gets the manifest's scopes, or `scopes` if given."""
        ws = self.workspaces.get(team_id)
        if ws is None:
            ws = Workspace(
                team_id=team_id,
                name=name or f"Team {team_id}",
                domain=domain or team_id.lower(),
                bot_user_id=bot_user_id,
                bot_id=bot_id,
                app_id=app_id,
                enterprise_id=enterprise_id,
            )
            self.workspaces[team_id] = ws
        if scopes is not None:
            ws.scopes = set(scopes)
        self._tokens[bot_token] = _TokenInfo(team_id, ws.bot_user_id, ws.bot_id)
        self._revoked.discard(bot_token)
        return ws

    def revoke(self, token: str) -> None:
        """Make `token` answer ``invalid_auth`` for every method from now on."""
        self._revoked.add(token)

    def add_user(
        self,
        team_id: str,
        user_id: str,
        name: str,
        email: str | None = None,
        tz: str = "Europe/London",
        *,
        real_name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> Json:
        """Add a person users.info (and users.lookupByEmail) will return; returns the user."""
        real = real_name or name
        try:
            zone = ZoneInfo(tz)
            now = datetime.now(UTC).astimezone(zone)
            delta = now.utcoffset()
            offset = int(delta.total_seconds()) if delta is not None else 0
            label = now.tzname() or tz
        except ZoneInfoNotFoundError:
            offset, label = 0, tz
        user: Json = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real,
            "tz": tz,
            "tz_label": label,
            "tz_offset": offset,
            "is_bot": is_bot,
            "is_admin": False,
            "is_owner": False,
            "is_app_user": False,
            "updated": int(time.time()),
            "profile": {
                "real_name": real,
                "real_name_normalized": real,
                "display_name": name,
                "display_name_normalized": name,
                "email": email,
                "team": team_id,
            },
        }
        self.users[(team_id, user_id)] = user
        return user

    def add_oauth_code(
        self,
        code: str,
        team_id: str,
        bot_token: str,
        authed_user_id: str,
        *,
        team_name: str | None = None,
        scope: str | None = None,
        user_scope: str = "",
        user_token: str | None = None,
        redirect_uri: str | None = None,
    ) -> None:
        """Register a one-time OAuth code that oauth.v2.access exchanges for `bot_token`.

        The install grants `scope` (comma-separated), or the manifest's bot scopes.
        The workspace is created when the code is exchanged, so the flow's follow-up
        auth.test with the new bot token succeeds. If `redirect_uri` is given, a
        different redirect_uri in the exchange answers ``bad_redirect_uri``.
        """
        if team_id not in self.workspaces and team_name:
            self.workspaces[team_id] = Workspace(team_id, team_name, team_id.lower())
        self._oauth_codes[code] = _OAuthCode(
            team_id=team_id,
            bot_token=bot_token,
            authed_user_id=authed_user_id,
            scope=scope,
            user_scope=user_scope,
            user_token=user_token,
            redirect_uri=redirect_uri,
        )

    def expire_trigger(self, trigger_id: str) -> None:
        """Make views.open/views.push with `trigger_id` answer ``expired_trigger_id``.

        Trigger ids starting with "expired" are always expired.
        """
        self._expired_triggers.add(trigger_id)

    def deny_file_uploads(self, team_id: str = DEFAULT_TEAM_ID) -> None:
        """Answer files.* in this workspace with ``missing_scope`` (needed: files:write), as
        Slack does for an install made before the app asked for that scope."""
        self.remove_scope("files:write", team_id)

    def share_file(
        self,
        name: str,
        data: bytes,
        *,
        mimetype: str | None = None,
        team_id: str = DEFAULT_TEAM_ID,
        answer: str = "file",
        size: int | None = None,
        host: str | None = None,
    ) -> Json:
        """A file a person shares in a message: the file object Slack puts in the
        message event's `files`, its private URL served by this fake.

        `answer` says how a download is answered (`FILE_ANSWERS`); `size` is the size
        the event claims (the real one unless given: a lie tests a door's cap); `host`
        puts another host name in the URLs (same port), for a door that must refuse it.
        Slack answers a download without a bot token of the workspace that has
        `files:read` with its sign-in page (status 200, HTML), and so does this fake."""
        if answer not in FILE_ANSWERS:
            raise ValueError(f"answer must be one of {FILE_ANSWERS}")
        file_id = self._next_id("F")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kind = mimetype or MIMETYPES.get(extension, "application/octet-stream")
        self.shared_files[file_id] = SharedFile(file_id, team_id, name, kind, data, answer)
        base = self.url
        if host is not None:
            port = self.url.rsplit(":", 1)[1]
            base = f"http://{host}:{port}"
        url = f"{base}files-pri/{team_id}-{file_id}/download/{name}"
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": kind,
            "filetype": extension,
            "size": len(data) if size is None else size,
            "mode": "hosted",
            "url_private": url.replace("/download/", "/"),
            "url_private_download": url,
        }

    def downloads_of(self, file_id: str) -> list[FileDownload]:
        """Every request for a shared file's private URL."""
        return [d for d in self.file_downloads if d.file_id == file_id]

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        _, _, file_id = request.match_info["file_id"].partition("-")
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        shared = self.shared_files.get(file_id)
        info = self._tokens.get(token) if token and token not in self._revoked else None
        allowed = (
            shared is not None
            and info is not None
            and info.team_id == shared.team_id
            and "files:read" in self.workspaces[shared.team_id].scopes
        )
        answer = shared.answer if shared is not None and allowed else "login_page"
        if shared is None:
            response: web.StreamResponse = web.Response(status=404, text="Not found")
        elif answer == "rate_limited":
            response = web.Response(status=429, headers={"Retry-After": "30"})
        elif answer == "server_error":
            response = web.Response(status=500, text="Internal Server Error")
        elif answer == "login_page":
            response = web.Response(status=200, text=LOGIN_PAGE, content_type="text/html")
        elif answer == "slow":
            await asyncio.sleep(3)  # longer than a door's fetch time limit in tests
            response = web.Response(status=504)
        else:
            response = web.Response(status=200, body=shared.data, content_type=shared.mimetype)
        self.file_downloads.append(
            FileDownload(file_id, token or None, response.status, time.monotonic())
        )
        return response

    def remove_scope(self, scope: str, team_id: str = DEFAULT_TEAM_ID) -> None:
        """Take a scope away from the bot in a workspace (an install made before the
        manifest asked for it): methods that need it answer ``missing_scope``."""
        self.workspaces[team_id].scopes.discard(scope)

    def remove_bot_from(self, channel: str, team_id: str = DEFAULT_TEAM_ID) -> None:
        """The bot is not a member of `channel` (it is in every channel unless told so).

        Posting there then needs ``chat:write.public`` (public channels, ids starting C;
        without it Slack answers ``not_in_channel``); a private channel (G) the bot is not
        in is ``channel_not_found``; reading its history is ``not_in_channel``."""
        self._outside.add((team_id, channel))

    def invite_bot(self, channel: str, team_id: str = DEFAULT_TEAM_ID) -> None:
        """Someone typed /invite @Convene in `channel`."""
        self._outside.discard((team_id, channel))

    def link_trigger(self, trigger_id: str, view_id: str) -> None:
        """Tie a trigger (e.g. from a block_actions in a modal) to `view_id`'s stack,
        so views.push with it pushes onto that stack."""
        self._trigger_roots[trigger_id] = self._root_of(view_id)

    # ------------------------------------------------------------------ failures and limits

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        *,
        error: str | None = None,
        body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """Answer the next `times` calls to `method` ("*" for any) with a failure.

        429 sends a ``Retry-After`` header and ``{"ok": false, "error": "ratelimited"}``;
        other statuses send ``{"ok": false, "error": error or "internal_error"}`` (use
        ``status=200, error="channel_not_found"`` for an API-level error). With `body`,
        the answer is that text with `content_type` instead of JSON: what a proxy in front
        of Slack sends (``status=502, body="<html>..."``) or a server that will not take
        the request (``status=405, body="Method Not Allowed", content_type="text/plain"``).
        Failed calls are recorded with ``failed=True`` and store nothing. Queued failures
        stack.
        """
        default = "ratelimited" if status == 429 else "internal_error"
        for _ in range(times):
            self._failures[method].append(
                _Failure(
                    status=status,
                    retry_after=retry_after,
                    error=error or default,
                    body=body,
                    content_type=content_type,
                )
            )

    def enforce_rate_limits(
        self,
        per_channel_per_second: float = 1.0,
        per_workspace_per_second: float = 100.0,
        *,
        channel_burst: float | None = None,
        workspace_burst: float | None = None,
    ) -> None:
        """Rate-limit chat.postMessage with token buckets per channel and per workspace.

        Bursts default to ``max(1, rate)`` tokens. Over the limit, the call gets 429
        with an integer ``Retry-After`` (at least 1) and nothing is stored.
        """
        self._rate_limits = (
            per_channel_per_second,
            channel_burst if channel_burst is not None else max(1.0, per_channel_per_second),
            per_workspace_per_second,
            workspace_burst if workspace_burst is not None else max(1.0, per_workspace_per_second),
        )
        self._channel_buckets.clear()
        self._team_buckets.clear()

    def disable_rate_limits(self) -> None:
        """Turn rate limiting off again (the default)."""
        self._rate_limits = None
        self._channel_buckets.clear()
        self._team_buckets.clear()

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str, *, failed: bool | None = None) -> list[Call]:
        """Recorded calls to `method`; `failed` filters on the failure flag if given."""
        return [
            c for c in self.calls if c.method == method and (failed is None or c.failed == failed)
        ]

    def clear(self) -> None:
        """Forget recorded calls (stored messages, views and responses stay)."""
        self.calls.clear()

    def clear_messages(self) -> None:
        """Forget stored messages, ephemeral messages and response_url posts."""
        self.messages.clear()
        self.ephemeral.clear()
        self.responses.clear()

    def delivered(self, channel: str) -> list[Json]:
        """Messages stored in `channel` (a user id means their DM), oldest first."""
        return list(self.messages.get(self._channel_id(channel), []))

    def all_messages(self) -> list[Json]:
        """Every stored message across channels, oldest first."""
        msgs = [m for ms in self.messages.values() for m in ms]
        return sorted(msgs, key=lambda m: _ts_key(m["ts"]))

    def files_in(self, channel: str) -> list[tuple[Json, bytes]]:
        """Files shared in `channel` (a user id means their DM), oldest first, with the bytes
        that were uploaded for each."""
        shared = [
            f
            for msg in self.messages.get(self._channel_id(channel), [])
            for f in msg.get("files") or []
        ]
        return [(self.files[f["id"]], self.file_contents[f["id"]]) for f in shared]

    def duplicates(self) -> list[str]:
        """Metadata idempotency keys (``event_payload["key"]``) stored more than once."""
        seen: dict[str, int] = {}
        for msg in self.all_messages():
            payload = (msg.get("metadata") or {}).get("event_payload") or {}
            key = payload.get("key") if isinstance(payload, dict) else None
            if key is not None:
                seen[str(key)] = seen.get(str(key), 0) + 1
        return [k for k, n in seen.items() if n > 1]

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_body(self, request: web.Request) -> Json:
        body: Json = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            if raw:
                if request.content_type == "application/json":
                    parsed = json.loads(raw)
                    if isinstance(parsed, dict):
                        body.update(parsed)
                else:
                    body.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        for key in JSON_FIELDS & body.keys():
            value = body[key]
            if isinstance(value, str) and value.strip()[:1] in ("{", "["):
                with contextlib.suppress(json.JSONDecodeError):
                    body[key] = json.loads(value)
        return body

    @staticmethod
    def _read_token(request: web.Request, body: Json) -> tuple[str | None, Json]:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip(), {}
        if scheme.lower() == "basic" and value:
            try:
                client_id, _, secret = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None, {}
            return None, {"client_id": client_id, "client_secret": secret}
        token = body.get("token")
        return (str(token) if token else None), {}

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._read_body(request)
        token, basic = self._read_token(request, body)
        for key, value in basic.items():
            body.setdefault(key, value)
        call = Call(method=method, token=token, body=body, at=time.monotonic())
        self.calls.append(call)

        delay = self.latency + self.method_latency.get(method, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)

        failure = self._pop_failure(method)
        if failure is not None:
            if failure.body is not None:
                call.failed, call.status, call.error = True, failure.status, None
                return web.Response(
                    status=failure.status, text=failure.body, content_type=failure.content_type
                )
            return self._fail(call, failure.status, failure.error, failure.retry_after)

        auth: _TokenInfo | None = None
        if method not in UNAUTHENTICATED_METHODS:
            if not token:
                return self._error(call, "not_authed")
            auth = self._tokens.get(token)
            if auth is None or token in self._revoked:
                return self._error(call, "invalid_auth")
            call.team_id = auth.team_id

        handler = self._handlers.get(method)
        if handler is None:
            return self._error(call, "unknown_method")

        if auth is not None and auth.bot_id is not None:
            needed = self._needed(method, body)
            scopes = self.workspaces[auth.team_id].scopes
            if needed and not needed & scopes:
                return self._error(
                    call,
                    "missing_scope",
                    needed=",".join(sorted(needed)),
                    provided=",".join(sorted(scopes)),
                )

        if method == "conversations.history" and auth is not None:
            wait = self._take_history_call(auth.team_id)
            if wait is not None:
                return self._fail(call, 429, "ratelimited", wait)

        if method == "chat.postMessage" and self._rate_limits is not None and auth is not None:
            wait = self._take_rate_tokens(self._channel_id(str(body.get("channel", ""))), auth)
            if wait is not None:
                return self._fail(call, 429, "ratelimited", wait)

        try:
            result = await handler(_Ctx(method, body, token, auth, call))
        except SlackError as exc:
            return self._error(call, exc.error, **exc.extra)
        return web.json_response({"ok": True, **result})

    def _needed(self, method: str, body: Json) -> frozenset[str]:
        """The scopes this call needs (any one of them)."""
        if method in ("conversations.history", "conversations.replies"):
            channel = self._channel_id(str(body.get("channel", "")))
            return HISTORY_SCOPES.get(channel[:1], frozenset())
        if method == "conversations.open":
            users = [u for u in str(body.get("users", "")).split(",") if u]
            return frozenset({"mpim:write"}) if len(users) > 1 else frozenset({"im:write"})
        return METHOD_SCOPES.get(method, frozenset())

    def _take_history_call(self, team_id: str) -> int | None:
        """Count a conversations.history call; the seconds to wait if over the limit."""
        if self.history_per_minute is None:
            return None
        now = time.monotonic()
        recent = self._history_calls[team_id]
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= self.history_per_minute:
            return max(1, math.ceil(60 - (now - recent[0])))
        recent.append(now)
        return None

    def _is_member(self, auth: _TokenInfo | None, channel: str) -> bool:
        return auth is None or (auth.team_id, channel) not in self._outside

    def _pop_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                return queue.popleft()
        return None

    @staticmethod
    def _error(call: Call, error: str, **extra: Any) -> web.Response:
        call.error = error
        return web.json_response({"ok": False, "error": error, **extra})

    @staticmethod
    def _fail(call: Call, status: int, error: str, retry_after: int | None) -> web.Response:
        call.failed, call.status, call.error = True, status, error
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    def _take_rate_tokens(self, channel: str, auth: _TokenInfo) -> int | None:
        """Consume a token from both buckets; on shortage, the Retry-After seconds."""
        assert self._rate_limits is not None
        ch_rate, ch_burst, ws_rate, ws_burst = self._rate_limits
        now = time.monotonic()
        ch = self._channel_buckets.setdefault(channel, _Bucket(ch_rate, ch_burst, ch_burst, now))
        ws = self._team_buckets.setdefault(auth.team_id, _Bucket(ws_rate, ws_burst, ws_burst, now))
        ch.refill(now)
        ws.refill(now)
        wait = max(ch.wait(), ws.wait())
        if wait > 0:
            return max(1, math.ceil(wait))
        ch.tokens -= 1.0
        ws.tokens -= 1.0
        return None

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Json
        if request.content_type == "application/json":
            body = json.loads(raw or b"{}")
        else:
            body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            if isinstance(body.get("payload"), str):
                body = json.loads(body["payload"])
        self.responses[request.match_info["response_id"]].append(body)
        return web.Response(text="ok", content_type="text/html")

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        now = int(time.time() * 1_000_000)
        self._last_ts = max(now, self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    @staticmethod
    def _channel_id(channel: str) -> str:
        """User ids (U…/W…) used as a channel mean that user's DM, as in Slack."""
        if channel[:1] in ("U", "W"):
            return "D" + channel
        return channel

    def _workspace(self, auth: _TokenInfo | None) -> Workspace:
        assert auth is not None
        return self.workspaces[auth.team_id]

    def _find_message(self, channel: str, ts: str) -> Json:
        for msg in self.messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        raise SlackError("message_not_found")

    @staticmethod
    def _public_message(msg: Json, with_metadata: bool) -> Json:
        out = {k: v for k, v in msg.items() if k != "channel"}
        if not with_metadata:
            out.pop("metadata", None)
        return out

    # ------------------------------------------------------------------ auth and users

    async def _auth_test(self, ctx: _Ctx) -> Json:
        ws = self._workspace(ctx.auth)
        assert ctx.auth is not None
        result: Json = {
            "url": ws.url,
            "team": ws.name,
            "user": ws.domain + "-bot" if ctx.auth.bot_id else ctx.auth.user_id,
            "team_id": ws.team_id,
            "user_id": ctx.auth.user_id,
            "is_enterprise_install": False,
        }
        if ctx.auth.bot_id:
            result["bot_id"] = ctx.auth.bot_id
        if ws.enterprise_id:
            result["enterprise_id"] = ws.enterprise_id
        return result

    async def _users_info(self, ctx: _Ctx) -> Json:
        assert ctx.auth is not None
        user = self.users.get((ctx.auth.team_id, str(ctx.body.get("user", ""))))
        if user is None:
            raise SlackError("user_not_found")
        if "users:read.email" not in self.workspaces[ctx.auth.team_id].scopes:
            # As Slack does: without the scope, the profile simply has no email.
            profile = {k: v for k, v in user["profile"].items() if k != "email"}
            return {"user": {**user, "profile": profile}}
        return {"user": user}

    async def _users_lookup_by_email(self, ctx: _Ctx) -> Json:
        assert ctx.auth is not None
        email = str(ctx.body.get("email", "")).lower()
        for (team, _), user in self.users.items():
            if team == ctx.auth.team_id and (user["profile"].get("email") or "").lower() == email:
                return {"user": user}
        raise SlackError("users_not_found")

    # ------------------------------------------------------------------ conversations

    async def _conversations_open(self, ctx: _Ctx) -> Json:
        users = [u for u in str(ctx.body.get("users", "")).split(",") if u]
        if not users:
            channel = ctx.body.get("channel")
            if not channel:
                raise SlackError("users_list_not_supplied")
            return {"channel": {"id": channel}}
        if len(users) == 1:
            return {"channel": {"id": "D" + users[0]}, "no_op": True, "already_open": True}
        return {"channel": {"id": "G" + "".join(sorted(users))}}

    async def _conversations_history(self, ctx: _Ctx) -> Json:
        b = ctx.body
        channel = self._channel_id(str(b.get("channel", "")))
        if not channel:
            raise SlackError("channel_not_found")
        if not self._is_member(ctx.auth, channel):
            raise SlackError("not_in_channel")
        inclusive = _truthy(b.get("inclusive", False))
        oldest = _ts_key(str(b["oldest"])) if b.get("oldest") else None
        latest = _ts_key(str(b["latest"])) if b.get("latest") else None
        cursor_ts = _ts_key(_decode_cursor(str(b["cursor"]))) if b.get("cursor") else None
        limit = max(1, min(int(b.get("limit") or 100), HISTORY_PAGE_LIMIT))
        with_metadata = _truthy(b.get("include_all_metadata", False))

        def keep(msg: Json) -> bool:
            if msg.get("thread_ts") not in (None, msg["ts"]) and not msg.get("reply_broadcast"):
                return False
            key = _ts_key(msg["ts"])
            if oldest is not None and (key < oldest or (key == oldest and not inclusive)):
                return False
            if latest is not None and (key > latest or (key == latest and not inclusive)):
                return False
            return cursor_ts is None or key <= cursor_ts

        matching = [m for m in reversed(self.messages.get(channel, [])) if keep(m)]
        page, rest = matching[:limit], matching[limit:]
        return {
            "messages": [self._public_message(m, with_metadata) for m in page],
            "has_more": bool(rest),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": _encode_cursor(rest[0]["ts"]) if rest else ""},
        }

    async def _conversations_replies(self, ctx: _Ctx) -> Json:
        channel = self._channel_id(str(ctx.body.get("channel", "")))
        ts = str(ctx.body.get("ts", ""))
        self._find_message(channel, ts)
        with_metadata = _truthy(ctx.body.get("include_all_metadata", False))
        thread = [
            self._public_message(m, with_metadata)
            for m in self.messages.get(channel, [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        return {"messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}

    # ------------------------------------------------------------------ chat

    def _message_from(self, ctx: _Ctx, ts: str) -> Json:
        ws = self._workspace(ctx.auth)
        b = ctx.body
        msg: Json = {
            "type": "message",
            "text": b.get("text", ""),
            "user": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "app_id": ws.app_id,
            "team": ws.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if b.get(key) not in (None, ""):
                msg[key] = b[key]
        if _truthy(b.get("reply_broadcast", False)):
            msg["reply_broadcast"] = True
        return msg

    async def _chat_post_message(self, ctx: _Ctx) -> Json:
        channel = self._channel_id(str(ctx.body.get("channel", "")))
        if not channel:
            raise SlackError("channel_not_found")
        if not self._is_member(ctx.auth, channel):
            if channel.startswith("G"):
                raise SlackError("channel_not_found")  # a private channel it can't see
            assert ctx.auth is not None
            if "chat:write.public" not in self.workspaces[ctx.auth.team_id].scopes:
                raise SlackError("not_in_channel")
        if (
            not ctx.body.get("text")
            and not ctx.body.get("blocks")
            and not ctx.body.get("attachments")
        ):
            raise SlackError("no_text")
        ts = self._next_ts()
        msg = self._message_from(ctx, ts)
        self.messages[channel].append({**msg, "channel": channel})
        return {"channel": channel, "ts": ts, "message": msg}

    async def _chat_post_ephemeral(self, ctx: _Ctx) -> Json:
        channel = self._channel_id(str(ctx.body.get("channel", "")))
        user = str(ctx.body.get("user", ""))
        if not channel:
            raise SlackError("channel_not_found")
        if not user:
            raise SlackError("user_not_in_channel")
        ts = self._next_ts()
        self.ephemeral.append({**self._message_from(ctx, ts), "channel": channel, "to": user})
        return {"message_ts": ts}

    async def _chat_update(self, ctx: _Ctx) -> Json:
        channel = self._channel_id(str(ctx.body.get("channel", "")))
        ts = str(ctx.body.get("ts", ""))
        msg = self._find_message(channel, ts)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in ctx.body:
                msg[key] = ctx.body[key]
        ws = self._workspace(ctx.auth)
        msg["edited"] = {"user": ws.bot_user_id, "ts": self._next_ts()}
        public = self._public_message(msg, with_metadata=True)
        return {"channel": channel, "ts": ts, "text": msg.get("text", ""), "message": public}

    async def _chat_delete(self, ctx: _Ctx) -> Json:
        channel = self._channel_id(str(ctx.body.get("channel", "")))
        ts = str(ctx.body.get("ts", ""))
        msg = self._find_message(channel, ts)
        self.messages[channel].remove(msg)
        return {"channel": channel, "ts": ts}

    # ------------------------------------------------------------------ views

    def _check_trigger(self, trigger_id: str) -> None:
        if not trigger_id:
            raise SlackError("invalid_arguments")
        if trigger_id.startswith("expired") or trigger_id in self._expired_triggers:
            raise SlackError("expired_trigger_id")

    def _view_arg(self, ctx: _Ctx) -> Json:
        view = ctx.body.get("view")
        if not isinstance(view, dict) or not view.get("type"):
            raise SlackError("invalid_arguments")
        return view

    def _build_view(
        self,
        ctx: _Ctx,
        view: Json,
        view_id: str,
        root_view_id: str | None,
        previous_view_id: str | None,
    ) -> Json:
        ws = self._workspace(ctx.auth)
        built: Json = {
            "id": view_id,
            "team_id": ws.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id,
            "app_id": ws.app_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        extra = {k: v for k, v in view.items() if k not in built}
        return {**extra, **built}

    def _root_of(self, view_id: str) -> str:
        view = self.views.get(view_id)
        if view is None:
            raise KeyError(f"no such view: {view_id}")
        return str(view.get("root_view_id") or view_id)

    def stack_for(self, view_id: str) -> list[Json]:
        """The modal stack `view_id` belongs to, bottom first (current views)."""
        return [self.views[v] for v in self.view_stacks.get(self._root_of(view_id), [])]

    async def _views_open(self, ctx: _Ctx) -> Json:
        trigger_id = str(ctx.body.get("trigger_id", ""))
        self._check_trigger(trigger_id)
        spec = self._view_arg(ctx)
        view_id = self._next_id("V")
        view = self._build_view(ctx, spec, view_id, view_id, None)
        self.views[view_id] = view
        self.view_stacks[view_id] = [view_id]
        self._trigger_roots[trigger_id] = view_id
        return {"view": view}

    async def _views_push(self, ctx: _Ctx) -> Json:
        trigger_id = str(ctx.body.get("trigger_id", ""))
        self._check_trigger(trigger_id)
        spec = self._view_arg(ctx)
        view_id = self._next_id("V")
        root = self._trigger_roots.get(trigger_id)
        if root is None or root not in self.view_stacks:
            # No modal known for this trigger: start a new stack (lenient by design).
            root = view_id
            self.view_stacks[root] = []
            self._trigger_roots[trigger_id] = root
        stack = self.view_stacks[root]
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        view = self._build_view(ctx, spec, view_id, root, stack[-1] if stack else None)
        self.views[view_id] = view
        stack.append(view_id)
        return {"view": view}

    async def _views_update(self, ctx: _Ctx) -> Json:
        view_id = str(ctx.body.get("view_id") or "")
        external_id = str(ctx.body.get("external_id") or "")
        spec = self._view_arg(ctx)
        current: Json | None = None
        if view_id:
            current = self.views.get(view_id)
        elif external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise SlackError("invalid_arguments")
        if current is None:
            raise SlackError("not_found")
        expected = ctx.body.get("hash")
        if expected and expected != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._build_view(
            ctx, spec, current["id"], current["root_view_id"], current["previous_view_id"]
        )
        self.views[current["id"]] = view
        return {"view": view}

    async def _views_publish(self, ctx: _Ctx) -> Json:
        user_id = str(ctx.body.get("user_id", ""))
        if not user_id:
            raise SlackError("invalid_arguments")
        spec = self._view_arg(ctx)
        current = self.home_views.get(user_id)
        expected = ctx.body.get("hash")
        if current is not None and expected and expected != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current else self._next_id("V")
        view = self._build_view(ctx, spec, view_id, None, None)
        self.home_views[user_id] = view
        self.views[view_id] = view
        return {"view": view}

    # ------------------------------------------------------------------ files
    #
    # files.uploadV2 in slack_sdk is three steps: files.getUploadURLExternal gives an
    # upload URL and a file id; the bytes are POSTed to that URL (raw, or multipart); and
    # files.completeUploadExternal finishes the upload and shares the file in a channel,
    # as a message with `files` and `upload: true`. A file never completed is not shared.

    async def _files_get_upload_url_external(self, ctx: _Ctx) -> Json:
        assert ctx.auth is not None
        filename = str(ctx.body.get("filename") or "")
        try:
            length = int(str(ctx.body.get("length", "")))
        except ValueError:
            length = -1
        if not filename or length < 0:
            raise SlackError("invalid_arguments")
        file_id = self._next_id("F")
        token = secrets.token_urlsafe(12)
        self._uploads[token] = _PendingUpload(
            file_id=file_id,
            team_id=ctx.auth.team_id,
            filename=filename,
            length=length,
            alt_txt=ctx.body.get("alt_txt"),
        )
        return {"upload_url": f"{self.url}upload/v1/{token}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        token = request.match_info["upload_id"]
        pending = self._uploads.get(token)
        if request.content_type.startswith("multipart/"):
            content = b""
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "filename", None) or getattr(part, "name", None) == "file":
                    content = await part.read()  # type: ignore[union-attr]
                    break
        else:
            content = await request.read()
        self.calls.append(
            Call(
                method="upload_url",
                token=None,
                body={"upload_id": token, "size": len(content)},
                at=time.monotonic(),
                status=200 if pending is not None else 404,
            )
        )
        if pending is None:
            return web.Response(status=404, text="not found")
        pending.content = content
        return web.Response(text=f"OK - {len(content)}")

    async def _files_complete_upload_external(self, ctx: _Ctx) -> Json:
        items = ctx.body.get("files")
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments")
        by_file = {p.file_id: (token, p) for token, p in self._uploads.items()}
        found: list[tuple[str, _PendingUpload, Json]] = []
        for item in items:
            if not isinstance(item, dict) or str(item.get("id", "")) not in by_file:
                raise SlackError("file_not_found")
            token, pending = by_file[str(item["id"])]
            if pending.content is None:  # the bytes never reached the upload URL
                raise SlackError("file_not_found")
            found.append((token, pending, item))
        channels = [str(ctx.body["channel_id"])] if ctx.body.get("channel_id") else []
        channels += [c for c in str(ctx.body.get("channels") or "").split(",") if c]
        channels = [self._channel_id(c) for c in channels]
        ws = self._workspace(ctx.auth)
        now = int(time.time())
        shared: list[Json] = []
        for token, pending, item in found:
            content = pending.content or b""
            ending = pending.filename.rsplit(".", 1)[-1].lower() if "." in pending.filename else ""
            file: Json = {
                "id": pending.file_id,
                "created": now,
                "timestamp": now,
                "name": pending.filename,
                "title": item.get("title") or pending.filename,
                "mimetype": MIMETYPES.get(ending, "application/octet-stream"),
                "filetype": ending or "binary",
                "user": ws.bot_user_id,
                "size": len(content),
                "mode": "hosted",
                "is_external": False,
                "is_public": False,
                "url_private": f"{self.url}files-pri/{ws.team_id}-{pending.file_id}/"
                f"{pending.filename}",
                "channels": [c for c in channels if not c.startswith("D")],
                "ims": [c for c in channels if c.startswith("D")],
                "groups": [],
            }
            if pending.alt_txt:
                file["alt_txt"] = pending.alt_txt
            self.files[pending.file_id] = file
            self.file_contents[pending.file_id] = content
            del self._uploads[token]
            shared.append(file)
        for channel in channels:
            ts = self._next_ts()
            msg: Json = {
                "type": "message",
                "text": ctx.body.get("initial_comment") or "",
                "files": shared,
                "upload": True,
                "user": ws.bot_user_id,
                "bot_id": ws.bot_id,
                "team": ws.team_id,
                "ts": ts,
                "channel": channel,
            }
            if ctx.body.get("thread_ts"):
                msg["thread_ts"] = ctx.body["thread_ts"]
            self.messages[channel].append(msg)
        return {"files": shared}

    # ------------------------------------------------------------------ oauth

    async def _oauth_v2_access(self, ctx: _Ctx) -> Json:
        code = self._oauth_codes.pop(str(ctx.body.get("code", "")), None)
        if code is None:
            raise SlackError("invalid_code")
        redirect = ctx.body.get("redirect_uri")
        if code.redirect_uri is not None and redirect not in (None, code.redirect_uri):
            raise SlackError("bad_redirect_uri")
        existing = self.workspaces.get(code.team_id)
        granted = code.scope if code.scope is not None else ",".join(sorted(manifest_bot_scopes()))
        ws = self.add_workspace(
            code.team_id,
            code.bot_token,
            name=existing.name if existing else None,
            scopes={s for s in granted.split(",") if s},
        )
        authed_user: Json = {"id": code.authed_user_id}
        if code.user_token:
            authed_user.update(
                scope=code.user_scope, access_token=code.user_token, token_type="user"
            )
            self._tokens[code.user_token] = _TokenInfo(ws.team_id, code.authed_user_id, None)
            self._revoked.discard(code.user_token)
        return {
            "access_token": code.bot_token,
            "token_type": "bot",
            "scope": granted,
            "bot_user_id": ws.bot_user_id,
            "app_id": ws.app_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": None,
            "authed_user": authed_user,
            "is_enterprise_install": False,
        }
