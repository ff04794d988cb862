"""What went wrong with a call to Slack, read safely whatever Slack (or a proxy) answered.

Slack normally answers an error as JSON, `{"ok": false, "error": "channel_not_found"}`.
But a proxy in the way can answer an HTML page (a 502), a server can answer plain text
(a 405), and the network can fail before any answer comes. slack_sdk raises a different
thing for each, and a `SlackApiError` may hold a dict, a string or raw bytes. Code that
did `exc.response.get("error")` crashed on the string, and the person got nothing.

Every place in bot/slack that calls Slack catches `FAILED_CALL` and reads it with
`failure_of`, so any failure is handled as a failed call, never as a crash.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError

#: Everything a call to Slack can raise when it fails: Slack's own errors (an API error,
#: an upload URL that did not answer 200, an answer slack_sdk could not read), and the
#: network's (no connection, a reset, a timeout).
FAILED_CALL: tuple[type[BaseException], ...] = (
    SlackClientError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
)

#: Slack's error codes are short lower-case words; anything else is not put in a log.
_CODE = re.compile(r"[a-z0-9_.]{1,64}")


@dataclass(frozen=True)
class SlackFailure:
    """One failed call: Slack's error code (or a word of ours), the HTTP status if an
    answer came, how long Slack asked us to wait, and the scopes it said were missing."""

    code: str
    status: int | None = None
    retry_after: float | None = None
    needed: str | None = None


def failure_of(exc: BaseException) -> SlackFailure:
    """Read a failed call without trusting the shape of the answer."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return SlackFailure("timed_out")
    if isinstance(exc, aiohttp.ClientError):
        return SlackFailure("unreachable")
    response = getattr(exc, "response", None)
    if response is None:
        return SlackFailure("request_failed")
    status = _status(response)
    data = getattr(response, "data", None)
    code = None
    needed = None
    if isinstance(data, dict):
        code = _clean(data.get("error"))
        needed = _clean(data.get("needed"), pattern=re.compile(r"[a-z:.,_]{1,200}"))
    if code is None:
        code = f"http_{status}" if status is not None else "unreadable_answer"
    return SlackFailure(code, status, _retry_after(response), needed)


def error_code(exc: BaseException) -> str:
    """Just the code, for a log line: always a short word, never anything Slack sent raw."""
    return failure_of(exc).code


def _status(response: Any) -> int | None:
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return None


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return float(value) if value not in (None, "") else None
    except (AttributeError, TypeError, ValueError):
        return None


def _clean(value: Any, *, pattern: re.Pattern[str] = _CODE) -> str | None:
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    return None
