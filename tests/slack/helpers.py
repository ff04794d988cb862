"""Small tools the Slack door tests share.

They do what Slack (or a patient person) would do, never what our code does:
poll for an effect instead of sleeping, fill in a modal from what Slack shows,
and apply a `response_action: update` to the fake's copy of the modal the way
Slack replaces the view a person is looking at.
"""

# `eventually(..., timeout=5)` is a polling deadline, not a cancellation scope.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from sqlalchemy import func, select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    ChatIdentity,
    FormResponse,
    OutboxMessage,
    Person,
    ProcessedEvent,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import (
    checkboxes_value,
    date_value,
    multi_select_value,
    radio_value,
    select_value,
    text_value,
)

T = TypeVar("T")
Json = dict[str, Any]


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = ..., interval: float = ...
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None], *, timeout: float = ..., interval: float = ...
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
) -> Any:
    """Poll `check` until it returns something truthy (and return that).

    Bolt acks first and the listener carries on afterwards, so effects appear a little
    after the HTTP response; polling keeps the tests fast when things are quick and
    patient when a machine is slow, where a fixed sleep is always one or the other.
    An AssertionError inside `check` counts as "not yet"; the last one is re-raised.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    result: Any = None
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            last = None
        except AssertionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            if last is not None:
                raise last
            raise AssertionError(f"still not true after {timeout}s (last value: {result!r})")
        await asyncio.sleep(interval)


async def settle(sender: OutboxSender) -> int:
    """Deliver everything due: wait for a pass a DM reply started (`kick`), then drain.

    A kicked pass may have claimed a row just before `drain` looks, so draining alone
    could return while that row is still on its way to Slack.
    """
    total = 0
    for _ in range(20):
        await sender.idle()  # the pass `kick()` started, if any
        total += await sender.drain()
        if not sender.busy:
            return total
    return total


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


async def count(services: Services, model: type[Any], *where: Any) -> int:
    async with services.db.session() as session:
        query = select(func.count()).select_from(model)
        if where:
            query = query.where(*where)
        return int(await session.scalar(query) or 0)


async def stored_counts(services: Services) -> dict[str, int]:
    """What a request could have stored: used to show a refused request stored nothing."""
    return {
        "people": await count(services, Person),
        "identities": await count(services, ChatIdentity),
        "events": await count(services, ProcessedEvent),
        "outbox": await count(services, OutboxMessage),
        "responses": await count(services, FormResponse),
    }


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.session() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def draft_of(services: Services, response_id: int) -> FormResponse:
    async with services.db.session() as session:
        response = await session.get(FormResponse, response_id)
        assert response is not None, f"form response {response_id} is gone"
        return response
