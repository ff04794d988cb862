"""Log lines: plain text on a laptop, one JSON object a line in production.

`CONVENE_LOG_FORMAT=json` makes every line a JSON object with the time, level, logger,
message and the request id (when the line was written while handling a request or sending
the message it queued), ready for a log store to index.

Nothing secret should ever be logged in the first place (settings are `SecretStr`, the
database hides bound values, the access log names the route, not the path). As a last
guard, both formats blank out anything shaped like a Slack token, a bearer token, a
sign-in link or a cookie before a line is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from bot.core.request_id import current_request_id

LogFormat = Literal["text", "json"]

#: As before request ids: the id, when there is one, comes after the logger's name.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"

# The standard attributes of a LogRecord: anything else on a record was passed in `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "request_tag",
}

_SECRETS = (
    # Slack tokens (bot, user, app-level, refresh, config).
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+"), "[slack token]"),
    # Authorization headers and their tokens.
    (re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [hidden]"),
    # Sign-in links and file downloads: the token in the path is the key to an account.
    (re.compile(r"/(signin|downloads)/(?!local\b|\{)[A-Za-z0-9._~-]{8,}"), r"/\1/[hidden]"),
    # Cookies and the like, as `name=value` pairs a careless line might print.
    (
        re.compile(r"(?i)\b(cookie|session|token|secret|password)=([^\s;&,]+)"),
        r"\1=[hidden]",
    ),
)


def scrub(text: str) -> str:
    """The text with anything shaped like a secret blanked out."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the one passed in `extra`, else the current one."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or current_request_id()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and any fields passed in `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class ConveneHandler(logging.StreamHandler[Any]):
    """Ours, so setting up again replaces it and leaves anyone else's handlers alone."""


def make_handler(log_format: LogFormat, stream: Any = None) -> logging.Handler:
    """A handler writing lines in this format (to stderr unless a stream is given)."""
    handler = ConveneHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    return handler


#: Libraries that log whole requests (headers with tokens, message bodies) at DEBUG: they stay
#: at INFO even when Convene's own level is DEBUG.
CHATTY = ("slack_sdk", "slack_bolt", "botbuilder", "msal", "aiohttp.client", "urllib3")


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Set up the root logger once for the process (`convene serve`)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, ConveneHandler):
            root.removeHandler(old)
    root.addHandler(make_handler(log_format))
    root.setLevel(level.upper())
    if root.level < logging.INFO:
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.INFO)
