"""The request id: one short label that follows a person's request through the logs.

The web middleware (`bot.observability.requests`) sets it for each inbound request, the
outbox keeps it inside each message it queues, and the sender sets it again while it
sends that message, so one person's journey can be followed from click to delivery.
It is a context variable: tasks started while handling a request inherit it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

#: The key inside an outbox message's JSON payload that holds the request id.
PAYLOAD_KEY = "request_id"

_current: ContextVar[str | None] = ContextVar("convene_request_id", default=None)

# What we accept from a proxy's X-Request-Id: short, and only characters that are safe in a
# log line and a header (uuids, hex, ULIDs, "req-123", Heroku's and nginx's ids).
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The incoming id if it is safe to log and echo, else None (then we make our own)."""
    if value and _SANE.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> object:
    """Set the id for this task (and tasks it starts); returns a token for `reset_request_id`."""
    return _current.set(value)


def reset_request_id(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def with_request_id(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the current request id in it (unchanged when there is none)."""
    request_id = _current.get()
    if request_id is None or PAYLOAD_KEY in payload:
        return payload
    return {**payload, PAYLOAD_KEY: request_id}


def request_id_of(payload: object) -> str | None:
    """The request id stored in an outbox payload, if any."""
    if isinstance(payload, dict):
        found = payload.get(PAYLOAD_KEY)
        return found if isinstance(found, str) else None
    return None
