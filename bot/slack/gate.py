"""The gate in front of Bolt: nothing from Slack is read until its signature is checked.

Slack signs every request it sends to `POST /slack/events` with the app's signing
secret: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`. Bolt can check that
too, but only after it has parsed the body, and on a bad signature it writes the whole
body into the log (so a flood of forged requests floods the log, and a body with a
newline in it can forge a log line). So the gate does it first, on the raw bytes:

1. An address that has sent too many bad requests this minute gets 429 at once.
2. The body is read up to `MAX_BODY` bytes (413 beyond that).
3. The timestamp must be a whole number within five minutes of now, and the signature
   must match (compared in constant time). Otherwise 401, with a short fixed answer; the
   log says so once a minute per address, in our own words, never with the body.
4. Only then is the body parsed, the way Bolt will parse it, and its shape checked: a
   signed body Convene cannot use (`[]`, `null`, an event that is a string, a user id
   that is a number) gets 400, before anything is stored or any listener runs.

What passes is handed to Bolt with Bolt's own signature check turned off.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from slack_bolt.request.internals import parse_body

from bot.guard import MAX_KEYS, LogOnce, Throttle, client_address, too_many
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Slack's biggest requests (a long modal's state) are tens of kilobytes.
MAX_BODY = 1024 * 1024
#: How far a request's timestamp may be from our clock (Slack's own advice: five minutes).
FRESH_FOR = 5 * 60
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")

#: Body types that are Events API deliveries (see `SlackDoor`: they go to the events app).
EVENT_TYPES = frozenset({"event_callback", "url_verification", "app_rate_limited"})


@dataclass(frozen=True)
class Admitted:
    """A request that passed the gate: its body as text (for Bolt) and as parsed."""

    text: str
    body: dict[str, Any]

    @property
    def is_event(self) -> bool:
        return self.body.get("type") in EVENT_TYPES


class SlackGate:
    """Checks each request's size, signature and shape before Bolt sees it. One per door."""

    def __init__(
        self,
        settings: Settings,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = signing_secret.encode()
        self._trusted = settings.trusted_proxy_networks
        self._throttle = Throttle(settings.bad_requests_per_minute, 60)
        self._said = LogOnce(log)
        self._clock = clock
        self._refused_until: OrderedDict[str, float] = OrderedDict()

    async def admit(self, request: web.Request) -> Admitted | web.Response:
        """The request to hand to Bolt, or the answer to give instead."""
        address = client_address(request, self._trusted)
        if self._refusing(address):
            return too_many(self._throttle.retry_after(), "Too many bad requests.")
        raw = await _read_bounded(request)
        if raw is None:
            return web.Response(status=413, text="request too large")
        if not self._signed(request.headers, raw):
            if not self._throttle.allow(address):
                self._refuse(address)
                return too_many(self._throttle.retry_after(), "Too many bad requests.")
            self._said.warning("Slack request with a bad or missing signature refused", address)
            return web.Response(status=401, text="invalid signature")
        try:
            content_type = _content_type(request.headers)
            text = _without_a_stray_payload(raw.decode("utf-8"), content_type)
            body = parse_body(text, content_type)
        except ValueError:  # not UTF-8, or not JSON where JSON was promised
            return self._bad(address, "the body could not be read")
        problem = shape_problem(body)
        if problem is not None:
            return self._bad(address, problem)
        return Admitted(text=text, body=body)

    def _signed(self, headers: Mapping[str, str], raw: bytes) -> bool:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        if abs(self._clock() - int(timestamp)) > FRESH_FOR:
            return False
        base = b"v0:" + timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def _refusing(self, address: str) -> bool:
        until = self._refused_until.get(address)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self._refused_until[address]
        return False

    def _refuse(self, address: str) -> None:
        """Over the allowance: refuse this address for a while without checking anything."""
        self._refused_until.pop(address, None)
        self._refused_until[address] = time.monotonic() + self._throttle.retry_after()
        while len(self._refused_until) > MAX_KEYS:
            self._refused_until.popitem(last=False)

    def _bad(self, address: str, problem: str) -> web.Response:
        self._said.warning("Signed Slack request with a body Convene cannot use refused", address)
        return web.Response(status=400, text=f"Bad request: {problem}.")


async def _read_bounded(request: web.Request) -> bytes | None:
    """The body, or None if it is bigger than `MAX_BODY` (said or found while reading)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _without_a_stray_payload(text: str, content_type: str | None) -> str:
    """Bolt takes any form body with the word "payload" anywhere in it for an interaction,
    so `/convene ask about the payload` would reach it as an empty request. Such a body is
    given to Bolt with that word's first letter escaped, which reads back the same."""
    if content_type == "application/json" or text.startswith("{") or "payload" not in text:
        return text
    fields = parse_qsl(text, keep_blank_values=True)
    if any(name == "payload" for name, _ in fields):
        return text
    return urlencode(fields).replace("payload", "%70ayload")


def _content_type(headers: Mapping[str, str]) -> str | None:
    """The content type as Bolt reads it (the part before any `;`)."""
    value = headers.get("Content-Type", "").split(";")[0].strip()
    return value if _CONTENT_TYPE.fullmatch(value) else None


# --- shapes ----------------------------------------------------------------------------------

#: Fields Bolt or our listeners read, and what each must be when it is there (None is
#: always allowed: Slack sends `null` for fields that do not apply). A tuple is "a list
#: of" that shape; a dict is an object whose fields have those shapes.
Shape = type | tuple[Any, ...] | dict[str, Any]

_USER: dict[str, Shape] = {"id": str, "team_id": str, "username": str, "name": str}
_TEAM: dict[str, Shape] = {"id": str, "domain": str}
_VIEW: dict[str, Shape] = {
    "id": str,
    "type": str,
    "callback_id": str,
    "private_metadata": str,
    "hash": str,
    "root_view_id": str,
    "team_id": str,
    "state": {"values": dict},
}
_ACTION: dict[str, Shape] = {
    "action_id": str,
    "block_id": str,
    "value": str,
    "type": str,
    "selected_option": {"value": str},
}
_MESSAGE: dict[str, Shape] = {"user": str, "channel": str, "thread_ts": str, "team": str}
#: A file shared in a message (see `bot/slack/files.py`).
_FILE: dict[str, Shape] = {
    "id": str,
    "name": str,
    "title": str,
    "mimetype": str,
    "size": int,
    "mode": str,
    "url_private": str,
    "url_private_download": str,
}
_EVENT: dict[str, Shape] = {
    "type": str,
    "user": str,
    "user_id": str,
    "text": str,
    "channel": str,
    "channel_id": str,
    "channel_type": str,
    "subtype": str,
    "files": (_FILE,),
    "bot_id": str,
    "tab": str,
    "ts": str,
    "event_ts": str,
    "thread_ts": str,
    "team": str,
    "user_team": str,
    "tokens": {"oauth": (str,), "bot": (str,)},
    "message": _MESSAGE,
    "previous_message": _MESSAGE,
    "item": {"channel": str},
    "assistant_thread": {"channel_id": str, "thread_ts": str},
    "workflow_step": dict,
    "function_execution_id": str,
    "bot_access_token": str,
    "inputs": dict,
}
_AUTHORIZATION: dict[str, Shape] = {
    "team_id": str,
    "enterprise_id": str,
    "user_id": str,
    "is_bot": bool,
    "is_enterprise_install": bool,
}
_ENVELOPE: dict[str, Shape] = {
    "type": str,
    "team_id": str,
    "enterprise_id": str,
    "api_app_id": str,
    "event_id": str,
    "event_time": int,
    "event": _EVENT,
    "authorizations": (_AUTHORIZATION,),
    "challenge": str,
    "is_enterprise_install": bool,
    "is_ext_shared_channel": bool,
    "context_team_id": str,
    "context_enterprise_id": str,
}
_INTERACTION: dict[str, Shape] = {
    "type": str,
    "user": _USER,
    "team": _TEAM,
    "enterprise": {"id": str},
    "user_id": str,
    "channel_id": str,
    "team_id": str,
    "message": _MESSAGE,
    "function_data": {"execution_id": str, "inputs": dict},
    "workflow_step": dict,
    "api_app_id": str,
    "trigger_id": str,
    "response_url": str,
    "callback_id": str,
    "view": _VIEW,
    "actions": (_ACTION,),
    "container": dict,
    "channel": {"id": str},
    "is_enterprise_install": bool,
}


def shape_problem(body: Any) -> str | None:
    """What is wrong with a signed body's shape, in a few plain words, or None.

    A slash command (a form) has only strings in it. An event must carry an `event` object
    with a type, and an id to handle it once by; an interaction must have a type and a
    user. Fields are checked where Bolt and Convene read them; anything else is left alone.
    """
    if not isinstance(body, dict):
        return "the body is not an object"
    if not body:
        return "the body is empty"
    kind = body.get("type")
    if kind is None:
        if "command" in body or "ssl_check" in body:
            return None  # a form: every value is a string by construction
        return "the request has no type"
    if not isinstance(kind, str):
        return "the request type is not text"
    if body.get("event") is not None and not isinstance(body["event"], dict):
        # Bolt reads `event` as an object on any request (its self-event check).
        return "the event is not an object"
    if kind == "event_callback":
        if not isinstance(body.get("event"), dict):
            return "the event is not an object"
        if not isinstance(body["event"].get("type"), str):
            return "the event has no type"
        if not isinstance(body.get("event_id"), str) or not body["event_id"]:
            return "the event has no id"
    if kind in EVENT_TYPES:
        return _wrong(body, _ENVELOPE, "")
    if not isinstance(body.get("user"), dict):
        return "the request has no user"
    if kind in ("block_actions", "interactive_message") and not body.get("actions"):
        return "the request has no actions"
    if kind in ("view_submission", "view_closed") and not isinstance(body.get("view"), dict):
        return "the request has no view"
    return _wrong(body, _INTERACTION, "")


def _wrong(value: Any, shape: Shape, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'the body'} is not an object"
        for name, inner in shape.items():
            problem = _wrong(value.get(name), inner, f"{where}.{name}" if where else name)
            if problem is not None:
                return problem
        return None
    if isinstance(shape, tuple):
        if not isinstance(value, list):
            return f"{where} is not a list"
        for item in value:
            if item is None:
                return f"{where} has an empty item"
            problem = _wrong(item, shape[0], where)
            if problem is not None:
                return problem
        return None
    if shape is int and isinstance(value, bool):
        return f"{where} is not a number"
    if not isinstance(value, shape):
        return f"{where} has the wrong type"
    return None
