"""Small tools the Slack door tests share.

They do what Slack (or a patient person) would do, never what our code does:
poll for an effect instead of sleeping, fill in a modal from what Slack shows,
and apply a `response_action: update` to the fake's copy of the modal the way
Slack replaces the view a person is looking at.
"""

# `eventually(..., timeout=5)` is a polling deadline, not a cancellation scope.

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.services import Services
from storage.models import (
    ChatIdentity,
    FormResponse,
    OutboxMessage,
    Person,
    ProcessedEvent,
)
from tests.support.fake_slack import FakeSlack
from tests.support.polling import eventually as eventually
from tests.support.polling import settle as settle
from tests.support.rows import count as count
from tests.support.rows import draft_of as draft_of
from tests.support.rows import outbox_rows as outbox_rows
from tests.support.slack_signing import (
    checkboxes_value,
    date_value,
    multi_select_value,
    radio_value,
    select_value,
    text_value,
)

Json = dict[str, Any]


# --- modals -------------------------------------------------------------------------------


def _element_state(element: Json, value: Any) -> Json:
    """The `view.state.values` entry Slack sends for one input element."""
    kind = element["type"]
    if kind == "plain_text_input":
        return text_value(value)
    if kind == "radio_buttons":
        return radio_value(value)
    if kind == "static_select":
        return select_value(value)
    if kind == "checkboxes":
        return checkboxes_value(list(value or []))
    if kind == "multi_static_select":
        return multi_select_value(list(value or []))
    if kind == "datepicker":
        return date_value(value)
    raise AssertionError(f"no state shape for element type {kind!r}")


def _initial(element: Json) -> Any:
    """What Slack shows in an element before the person touches it."""
    if "initial_value" in element:
        return element["initial_value"]
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    if "initial_date" in element:
        return element["initial_date"]
    return [] if element["type"] in ("checkboxes", "multi_static_select") else None


def input_elements(view: Json) -> dict[str, Json]:
    """block_id -> the input element of every input block in a view."""
    return {b["block_id"]: b["element"] for b in view.get("blocks", []) if b["type"] == "input"}


def fill_in(view: Json, changes: dict[str, Any] | None = None) -> Json:
    """`view.state.values` for a modal: what it showed, with `changes` typed over it.

    Slack sends every input block's current value on submit, so an untouched,
    pre-filled field comes back as it was shown.
    """
    changes = changes or {}
    elements = input_elements(view)
    unknown = set(changes) - set(elements)
    assert not unknown, f"these fields are not on the page: {sorted(unknown)}"
    values: Json = {}
    for block_id, element in elements.items():
        value = changes[block_id] if block_id in changes else _initial(element)
        values[block_id] = {element["action_id"]: _element_state(element, value)}
    return values


def with_state(view: Json, values: Json) -> Json:
    """The view as Slack sends it in a block_actions payload: current blocks plus state."""
    return {**view, "state": {"values": values}}


def show_update(fake: FakeSlack, view_id: str, new_view: Json) -> Json:
    """Do what Slack does with `response_action: update`: replace the open modal.

    The fake only sees Web API calls, so the test plays Slack's part: same view id and
    root, new content and a new hash (so a stale hash on views.update would conflict).
    """
    old = fake.views[view_id]
    replaced = {
        **old,
        "blocks": new_view.get("blocks", []),
        "private_metadata": new_view.get("private_metadata", ""),
        "callback_id": new_view.get("callback_id", ""),
        "title": new_view.get("title"),
        "submit": new_view.get("submit"),
        "close": new_view.get("close"),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
    }
    fake.views[view_id] = replaced
    return replaced


def button_action_id(view_or_blocks: Json | list[Json], name: str) -> str:
    """The full action id of the button whose action is `name` (e.g. "form.back")."""
    blocks = view_or_blocks if isinstance(view_or_blocks, list) else view_or_blocks["blocks"]
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id", "").split("|")[0] == name:
                return str(element["action_id"])
    raise AssertionError(f"no {name!r} button in these blocks")


def text_of_blocks(blocks: list[Json]) -> str:
    """Every piece of text in some blocks, joined: what a person would read."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


# --- the database ---------------------------------------------------------------------------


# --- the database ---------------------------------------------------------------------------


async def stored_counts(services: Services) -> dict[str, int]:
    """What a request could have stored: used to show a refused request stored nothing."""
    return {
        "people": await count(services, Person),
        "identities": await count(services, ChatIdentity),
        "events": await count(services, ProcessedEvent),
        "outbox": await count(services, OutboxMessage),
        "responses": await count(services, FormResponse),
    }
