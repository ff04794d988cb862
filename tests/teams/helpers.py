"""Small tools the Teams door tests share.

They do what Teams (or a patient person) would do, never what our code does: fill
in a card from what it shows and press one of its buttons the way the Teams client
builds `Action.Execute` data, read a card the way a person would, and poll for an
effect instead of sleeping.
"""

# `eventually(..., timeout=5)` is a polling deadline, not a cancellation scope.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    ChatIdentity,
    FormResponse,
    OutboxMessage,
    Person,
    ProcessedEvent,
    TeamsConversation,
)
from tests.support.fake_botframework import FakeBotFramework

Json = dict[str, Any]
CARD = "application/vnd.microsoft.card.adaptive"
META = "_convene"


async def eventually(
    check: Callable[[], Any], *, timeout: float = 5.0, interval: float = 0.02
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy, and return that.

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
    """Deliver everything due: wait for the pass a reply started (`kick`), then drain.

    A kicked pass may have claimed a row just before `drain` looks, so draining alone
    could return while that row is still on its way to the connector.
    """
    total = 0
    for _ in range(20):
        await sender.idle()
        total += await sender.drain()
        if not sender.busy:
            return total
    return total


# --- reading and filling in cards ----------------------------------------------------------


def cards_of(activity: Json) -> list[Json]:
    """The Adaptive Cards attached to an activity the bot posted."""
    return [a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == CARD]


def only_card(activity: Json) -> Json:
    found = cards_of(activity)
    assert len(found) == 1, f"expected one card, got {len(found)}: {activity}"
    return found[0]


def _walk(node: Any) -> Iterator[Json]:
    if isinstance(node, dict):
        yield node
        for key in ("body", "items", "columns", "actions"):
            for child in node.get(key) or []:
                yield from _walk(child)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def text_of(card_or_activity: Json) -> str:
    """Everything a person reads on a card (or a text activity), one piece per line."""
    out: list[str] = []
    if card_or_activity.get("type") == "message":
        if isinstance(card_or_activity.get("text"), str):
            out.append(card_or_activity["text"])
        for card in cards_of(card_or_activity):
            out.append(text_of(card))
        return "\n".join(out)
    for element in _walk(card_or_activity):
        kind = element.get("type")
        if kind == "TextBlock":
            out.append(element["text"])
        elif kind == "FactSet":
            out.extend(f"{f['title']}: {f['value']}" for f in element["facts"])
        elif kind and kind.startswith("Input."):
            out.append(element.get("label", ""))
        elif kind and kind.startswith("Action."):
            out.append(element.get("title", ""))
    return "\n".join(out)


def inputs(card: Json) -> dict[str, Json]:
    """Input id -> the input element, for every input on a card."""
    return {
        e["id"]: e for e in _walk(card) if str(e.get("type", "")).startswith("Input.") and "id" in e
    }


def action(card: Json, verb: str) -> Json:
    """The `Action.Execute` with this verb (anywhere on the card)."""
    for element in _walk(card):
        if element.get("type") == "Action.Execute" and element.get("verb") == verb:
            return element
    raise AssertionError(f"no {verb!r} button on this card: {text_of(card)}")


def press(card: Json, verb: str, changes: dict[str, str] | None = None) -> Json:
    """The `data` Teams sends when a person presses `verb`: the action's data merged with
    every input's current value, with `changes` typed over what the card showed.

    Teams sends each input as a string (a multi-select as "a,b"); an untouched,
    pre-filled input comes back as it was shown.
    """
    changes = changes or {}
    shown = inputs(card)
    unknown = set(changes) - set(shown)
    assert not unknown, f"these inputs are not on the card: {sorted(unknown)}"
    data: Json = dict(action(card, verb).get("data") or {})
    for input_id, element in shown.items():
        data[input_id] = changes.get(input_id, str(element.get("value", "")))
    return data


def page_title(card: Json) -> str:
    """The heading of a form page card."""
    for element in _walk(card):
        if element.get("type") == "TextBlock" and element.get("style") == "heading":
            return str(element["text"])
    raise AssertionError(f"no heading on this card: {text_of(card)}")


def invoke_card(body: Any) -> Json:
    """The card in an `adaptiveCard/action` invoke response, checking the envelope Teams wants."""
    assert isinstance(body, dict), body
    assert body.get("statusCode") == 200, body
    assert body.get("type") == CARD, body
    assert isinstance(body.get("value"), dict), body
    return body["value"]


# --- the database --------------------------------------------------------------------------


async def count(services: Services, model: type[Any], *where: Any) -> int:
    async with services.db.session() as session:
        query = select(func.count()).select_from(model)
        if where:
            query = query.where(*where)
        return int(await session.scalar(query) or 0)


async def stored_counts(services: Services) -> dict[str, int]:
    """What a Teams request could have stored: used to show a refused request stored nothing."""
    return {
        "people": await count(services, Person),
        "identities": await count(services, ChatIdentity),
        "conversations": await count(services, TeamsConversation),
        "events": await count(services, ProcessedEvent),
        "outbox": await count(services, OutboxMessage),
        "responses": await count(services, FormResponse),
    }


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.session() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def outbox_row(services: Services, row_id: int) -> OutboxMessage:
    async with services.db.session() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def make_due_now(services: Services, *row_ids: int) -> None:
    """Time passes: the rows' wait is over (instead of sleeping through the backoff)."""
    async with services.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids))
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def draft_of(services: Services, response_id: int) -> FormResponse:
    async with services.db.session() as session:
        response = await session.get(FormResponse, response_id)
        assert response is not None, f"form response {response_id} is gone"
        return response


def posted(fake: FakeBotFramework, conversation_id: str) -> list[Json]:
    """What the conversation shows now (after updates), oldest first."""
    return fake.activities_in(conversation_id)
