"""Offline checks of Adaptive Cards against the 1.5 rules we can verify without Teams.

Required properties, known element and action types, unique input ids, and the
version we declare. Every card the app produces in the test suite goes through this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

ELEMENTS = {
    "TextBlock": {"text"},
    "RichTextBlock": {"inlines"},
    "Image": {"url"},
    "Media": {"sources"},
    "Container": {"items"},
    "ColumnSet": set(),
    "Column": set(),
    "FactSet": {"facts"},
    "ImageSet": {"images"},
    "ActionSet": {"actions"},
    "Table": set(),
    "Input.Text": {"id"},
    "Input.Number": {"id"},
    "Input.Date": {"id"},
    "Input.Time": {"id"},
    "Input.Toggle": {"id", "title"},
    "Input.ChoiceSet": {"id"},
}
ACTIONS = {
    "Action.OpenUrl": {"url"},
    "Action.Submit": set(),
    "Action.Execute": set(),
    "Action.ShowCard": {"card"},
    "Action.ToggleVisibility": {"targetElements"},
}
STYLES = {"Container": {"default", "emphasis", "good", "attention", "warning", "accent"}}


class CardError(AssertionError):
    pass


def check_card(card: dict[str, Any]) -> None:
    """Raise CardError naming the first rule a card breaks."""
    if card.get("type") != "AdaptiveCard":
        raise CardError("top-level type must be AdaptiveCard")
    if card.get("version") != "1.5":
        raise CardError(f"version must be 1.5, not {card.get('version')!r}")
    ids: list[str] = []
    for element in card.get("body", []):
        _element(element, ids)
    for action in card.get("actions", []):
        _action(action, ids)
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise CardError(f"input ids must be unique: {sorted(duplicates)}")


def _element(element: dict[str, Any], ids: list[str]) -> None:
    kind = element.get("type")
    if kind not in ELEMENTS:
        raise CardError(f"unknown element type {kind!r}")
    missing = ELEMENTS[kind] - element.keys()
    if missing:
        raise CardError(f"{kind} lacks {sorted(missing)}")
    if kind == "TextBlock" and not isinstance(element["text"], str):
        raise CardError("TextBlock text must be a string")
    if kind in STYLES and "style" in element and element["style"] not in STYLES[kind]:
        raise CardError(f"{kind} style {element['style']!r} is not allowed")
    if kind.startswith("Input."):
        ids.append(element["id"])
        if element.get("isRequired") and not element.get("errorMessage"):
            raise CardError(f"required input {element['id']} needs an errorMessage")
        if not element.get("label"):
            raise CardError(f"input {element['id']} needs a label")
    if kind == "Input.ChoiceSet":
        for choice in element.get("choices", []):
            if not {"title", "value"} <= choice.keys():
                raise CardError("every choice needs a title and a value")
    if kind == "Image":
        _image(element)
    if kind == "FactSet":
        for fact in element["facts"]:
            if not {"title", "value"} <= fact.keys():
                raise CardError("every fact needs a title and a value")
    for child in element.get("items", []) + element.get("columns", []):
        _element(child, ids)
    for action in element.get("actions", []):
        _action(action, ids)


def picture_address_ok(url: Any) -> bool:
    """A picture a chat platform fetches: https, or a loopback address in the tests."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


def _image(element: dict[str, Any]) -> None:
    """Teams fetches an Image's url itself; without altText a screen reader says nothing."""
    url = element["url"]
    if not (url.startswith("data:image/") if isinstance(url, str) else False) and (
        not picture_address_ok(url)
    ):
        raise CardError(f"Image url {str(url)[:80]!r} is not https or loopback")
    alt = element.get("altText")
    if not isinstance(alt, str) or not alt.strip():
        raise CardError("Image needs altText")


def _action(action: dict[str, Any], ids: list[str]) -> None:
    kind = action.get("type")
    if kind not in ACTIONS:
        raise CardError(f"unknown action type {kind!r}")
    missing = ACTIONS[kind] - action.keys()
    if missing:
        raise CardError(f"{kind} lacks {sorted(missing)}")
    if kind == "Action.ShowCard":
        check_card(action["card"])
