"""Build Slack requests (bodies and signature headers) exactly as Slack sends them.

Slack signs each request with ``v0=`` + hex HMAC-SHA256, keyed by the app's
signing secret, of ``f"v0:{timestamp}:{body}"``; the timestamp goes in
``X-Slack-Request-Timestamp``. Slash commands arrive form-encoded, interactions
as a form field ``payload=<json>``, and Events API callbacks as a JSON envelope.

Typical use::

    body = slash_command_body(text="help", response_url=fake.response_url("abc"))
    headers = sign(SECRET, body, content_type=FORM)
    await http.post(f"{app_url}/slack/events", data=body, headers=headers)
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

DEFAULT_TEAM_ID = "T0001"
DEFAULT_TEAM_DOMAIN = "t0001"
DEFAULT_USER_ID = "U0001"
DEFAULT_CHANNEL_ID = "C0001"
DEFAULT_APP_ID = "A0001"
DEFAULT_BOT_USER_ID = "UBOT"
#: The legacy verification token Slack still includes in bodies (Bolt ignores it).
VERIFICATION_TOKEN = "legacy-verification-token"

Json = dict[str, Any]

_counter = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{int(time.time())}.{next(_counter):06d}"


def signature(signing_secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Slack-Signature`` value for `body` sent at `timestamp`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign(
    signing_secret: str,
    body: bytes,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack would send with `body`: timestamp (now by default) and signature.

    Pass `content_type` (`FORM` or `JSON`) to include a ``Content-Type`` header too.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    headers = {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(signing_secret, body, ts),
    }
    if content_type:
        headers["Content-Type"] = content_type
    return headers


# ---------------------------------------------------------------------- bodies


def slash_command_body(
    command: str = "/convene",
    text: str = "help",
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
    trigger_id: str | None = None,
    response_url: str = "https://hooks.slack.com/commands/T0001/1/abc",
    *,
    user_name: str = "alex",
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_name: str = "general",
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
) -> bytes:
    """A slash command as Slack POSTs it (form-encoded, fields in Slack's order)."""
    fields: list[tuple[str, str]] = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", team_domain),
    ]
    if enterprise_id:
        fields += [("enterprise_id", enterprise_id), ("enterprise_name", enterprise_id)]
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id or _unique("trigger.")),
    ]
    return urlencode(fields).encode()


def interaction_body(payload: Json) -> bytes:
    """An interactivity request body: form-encoded ``payload=<json>``."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def event_body(
    event: Json,
    team_id: str = DEFAULT_TEAM_ID,
    event_id: str | None = None,
    *,
    api_app_id: str = DEFAULT_APP_ID,
    event_time: int | None = None,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> bytes:
    """An Events API ``event_callback`` envelope as JSON bytes.

    `event` gets an ``event_ts`` if it has none. Retries of the same delivery should
    reuse `event_id` (and send ``X-Slack-Retry-Num`` headers).
    """
    now = int(time.time()) if event_time is None else event_time
    inner = dict(event)
    inner.setdefault("event_ts", f"{now}.{next(_counter):06d}")
    envelope: Json = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):010d}",
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{next(_counter):08d}",
    }
    return json.dumps(envelope).encode()


def url_verification_body(challenge: str = "challenge-abc") -> bytes:
    """The Events API URL-verification handshake body."""
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    ).encode()


# ---------------------------------------------------------------------- payloads


def _user(user_id: str, team_id: str, user_name: str) -> Json:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def modal_view(
    callback_id: str = "",
    *,
    view_id: str = "V0001",
    hash: str = "1700000000.abcd1234",
    private_metadata: str = "",
    values: Json | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    blocks: list[Json] | None = None,
    title: str = "Convene",
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
    base: Json | None = None,
) -> Json:
    """A view object as Slack includes it in interaction payloads.

    `base` may be a view the fake returned (``fake.views[view_id]``); its id, hash,
    callback_id, private_metadata and blocks are used unless given explicitly here.
    """
    src = dict(base or {})
    view: Json = {
        "id": src.get("id", view_id),
        "team_id": src.get("team_id", team_id),
        "type": src.get("type", "modal"),
        "blocks": blocks if blocks is not None else src.get("blocks", []),
        "private_metadata": private_metadata or src.get("private_metadata", ""),
        "callback_id": callback_id or src.get("callback_id", ""),
        "state": {"values": values or {}},
        "hash": src.get("hash", hash),
        "title": src.get("title") or {"type": "plain_text", "text": title},
        "clear_on_close": src.get("clear_on_close", False),
        "notify_on_close": src.get("notify_on_close", False),
        "close": src.get("close"),
        "submit": src.get("submit"),
        "previous_view_id": src.get("previous_view_id", previous_view_id),
        "root_view_id": src.get("root_view_id", root_view_id or src.get("id", view_id)),
        "app_id": src.get("app_id", DEFAULT_APP_ID),
        "external_id": src.get("external_id", ""),
        "app_installed_team_id": src.get("app_installed_team_id", team_id),
        "bot_id": src.get("bot_id", "BBOT"),
    }
    return view


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    action: Json | None = None,
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str | None = DEFAULT_CHANNEL_ID,
    message_ts: str | None = None,
    message: Json | None = None,
    view: Json | None = None,
    trigger_id: str | None = None,
    response_url: str | None = "https://hooks.slack.com/actions/T0001/1/abc",
    user_name: str = "alex",
    api_app_id: str = DEFAULT_APP_ID,
) -> Json:
    """A ``block_actions`` payload for one action, from a message or (with `view`) a modal.

    `action` adds or overrides fields of the action (e.g. ``selected_option``).
    """
    act: Json = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{int(time.time())}.{next(_counter):06d}",
    }
    if value is not None:
        act["value"] = value
    if action_type == "button":
        act.setdefault("text", {"type": "plain_text", "text": value or action_id})
    act.update(action or {})
    payload: Json = {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _unique("trigger."),
        "team": {"id": team_id, "domain": team_id.lower()},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [act],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
        payload["state"] = view.get("state", {"values": {}})
    else:
        ts = message_ts or (message or {}).get("ts") or f"{int(time.time())}.000100"
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = message or {
            "type": "message",
            "ts": ts,
            "text": "",
            "user": DEFAULT_BOT_USER_ID,
            "bot_id": "BBOT",
        }
        payload["state"] = {"values": {}}
        if response_url:
            payload["response_url"] = response_url
    return payload


def view_submission_payload(
    callback_id: str = "",
    values: Json | None = None,
    *,
    private_metadata: str = "",
    view_id: str = "V0001",
    hash: str = "1700000000.abcd1234",
    view: Json | None = None,
    trigger_id: str | None = None,
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    user_name: str = "alex",
    api_app_id: str = DEFAULT_APP_ID,
    response_urls: list[Json] | None = None,
) -> Json:
    """A ``view_submission`` payload with ``view.state.values`` = `values`.

    `values` maps block_id -> action_id -> element state; build element states with
    `text_value`, `select_value`, `multi_select_value`, `checkboxes_value`,
    `date_value`, `radio_value`. Pass `view` (e.g. ``fake.views[id]``) to submit a
    view the fake opened.
    """
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_id.lower()},
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _unique("trigger."),
        "view": modal_view(
            callback_id,
            view_id=view_id,
            hash=hash,
            private_metadata=private_metadata,
            values=values,
            team_id=team_id,
            base=view,
        ),
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


# ---------------------------------------------------------------------- element states


def _option(value: str, text: str | None = None) -> Json:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def text_value(value: str | None) -> Json:
    """State of a ``plain_text_input`` (None when left empty)."""
    return {"type": "plain_text_input", "value": value}


def select_value(value: str | None, text: str | None = None) -> Json:
    """State of a ``static_select`` (None when nothing chosen)."""
    return {
        "type": "static_select",
        "selected_option": _option(value, text) if value is not None else None,
    }


def multi_select_value(values: list[str]) -> Json:
    """State of a ``multi_static_select``."""
    return {"type": "multi_static_select", "selected_options": [_option(v) for v in values]}


def checkboxes_value(values: list[str]) -> Json:
    """State of a ``checkboxes`` element."""
    return {"type": "checkboxes", "selected_options": [_option(v) for v in values]}


def radio_value(value: str | None) -> Json:
    """State of a ``radio_buttons`` element."""
    return {
        "type": "radio_buttons",
        "selected_option": _option(value) if value is not None else None,
    }


def date_value(value: str | None) -> Json:
    """State of a ``datepicker`` (``YYYY-MM-DD``)."""
    return {"type": "datepicker", "selected_date": value}
