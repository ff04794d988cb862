"""Small tools the Teams door tests share.

They do what Teams (or a patient person) would do, never what our code does: fill
in a card from what it shows and press one of its buttons the way the Teams client
builds `Action.Execute` data, read a card the way a person would, and poll for an
effect instead of sleeping.
"""

# `eventually(..., timeout=5)` is a polling deadline, not a cancellation scope.

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
from tests.support.polling import eventually as eventually
from tests.support.polling import settle as settle
from tests.support.rows import count as count
from tests.support.rows import draft_of as draft_of
from tests.support.rows import make_due_now as make_due_now
from tests.support.rows import outbox_row as outbox_row
from tests.support.rows import outbox_rows as outbox_rows

Json = dict[str, Any]
CARD = "application/vnd.microsoft.card.adaptive"
META = "_convene"


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


def posted(fake: FakeBotFramework, conversation_id: str) -> list[Json]:
    """What the conversation shows now (after updates), oldest first."""
    return fake.activities_in(conversation_id)
