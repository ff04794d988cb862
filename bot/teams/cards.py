"""Neutral replies to Adaptive Cards (schema 1.5), for Microsoft Teams.

The same descriptions that become Block Kit in `bot/slack` and HTML in `bot/web`.
Forms use `Action.Execute` (universal actions), so a page is replaced in place;
inputs carry `label`, `isRequired` and `errorMessage`, and server-side errors are
shown above the input they belong to, with the person's answers kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.core.areas import typed_text
from bot.core.cpv import typed_text as typed_cpv
from bot.core.forms import Field, FieldType, TextFormat
from bot.core.reply import (
    Button,
    Chart,
    Fact,
    FileOffer,
    FilterBar,
    FormView,
    Message,
    Notice,
    Reply,
    chat_words,
)

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
FORM_VERB_PREFIX = "form."
META = "_convene"  # our own data on a card action; never an input id
FEW_CHOICES = 10
NOTICE_STYLE = {"success": "good", "warning": "warning", "error": "attention", "info": "accent"}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
    }
    if actions:
        out["actions"] = actions
    return out


def text(value: str, **style: Any) -> dict[str, Any]:
    """A text block. A command a reply points at reads "type engagements update 4"."""
    return {"type": "TextBlock", "text": chat_words(value), "wrap": True, **style}


def _action(button: Button) -> dict[str, Any]:
    if button.url:
        return {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    return {
        "type": "Action.Execute",
        "title": button.label,
        "verb": button.action,
        "data": {META: {"action": button.action, "value": button.value}},
        **({"style": "positive"} if button.style == "primary" else {}),
        **({"style": "destructive"} if button.style == "danger" else {}),
    }


def _action_set(buttons: Sequence[Button]) -> list[dict[str, Any]]:
    if not buttons:
        return []
    return [{"type": "ActionSet", "actions": [_action(b) for b in buttons]}]


def _fact_value(fact: Fact) -> str:
    """A fact's value: a Markdown link when it has one (Teams renders links in a FactSet)."""
    if not fact.url:
        return fact.value
    label = fact.value.replace("[", "(").replace("]", ")")
    return f"[{label}]({fact.url.replace(')', '%29')})"


def message_body(message: Message) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if message.title:
        body.append(text(message.title, size="Large", weight="Bolder", style="heading"))
    if message.text:
        body.extend(text(line) for line in message.text.split("\n") if line.strip())
    for section in message.sections:
        if section.heading:
            body.append(text(section.heading, weight="Bolder", spacing="Medium"))
        if section.text:
            body.extend(text(line) for line in section.text.split("\n") if line.strip())
        if section.facts:
            body.append(
                {
                    "type": "FactSet",
                    "facts": [{"title": f.label, "value": _fact_value(f)} for f in section.facts],
                }
            )
        body.extend(_action_set(section.buttons))
    body.extend(_action_set(message.buttons))
    if message.who_sees:
        body.append(text(message.who_sees, isSubtle=True, size="Small", spacing="Medium"))
    return body


def notice_body(notice: Notice) -> list[dict[str, Any]]:
    return [
        {
            "type": "Container",
            "style": NOTICE_STYLE.get(notice.level, "accent"),
            "items": [text(notice.text)],
        },
        *_action_set(notice.buttons),
    ]


def filter_body(bar: FilterBar) -> list[dict[str, Any]]:
    inputs: list[dict[str, Any]] = [
        {
            "type": "Input.ChoiceSet",
            "id": f"filter_{flt.name}",
            "label": flt.label,
            "style": "compact",
            "value": flt.selected,
            "placeholder": "Any",
            "choices": [{"title": o.label, "value": o.value} for o in flt.options],
        }
        for flt in bar.filters
    ]
    return [
        *inputs,
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Filter",
                    "verb": "filter",
                    "data": {META: {"action": "filter", "value": bar.command}},
                }
            ],
        },
    ]


def chart_body(chart: Chart) -> list[dict[str, Any]]:
    """The chart's picture (a PNG Teams fetches from its signed address) with the chart's
    description as its alternative text, then its table as text, which says the same
    numbers to anyone who cannot see the picture or once its address has expired."""
    table = message_body(chart.as_message())
    if not chart.chat_image_url:
        return table
    picture = {
        "type": "Image",
        "url": chart.chat_image_url,
        "altText": chart.description,
        "size": "Stretch",
    }
    return [picture, *table]


def reply_card(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, FileOffer):  # bots can't attach files to a Teams chat: a link
        return card(message_body(reply.as_message()))
    if isinstance(reply, Chart):
        return card(chart_body(reply))
    if isinstance(reply, Message):
        return card(message_body(reply))
    if isinstance(reply, Notice):
        return card(notice_body(reply))
    if isinstance(reply, FilterBar):
        return card(filter_body(reply))
    return form_card(reply)


def cards(replies: Iterable[Reply]) -> list[dict[str, Any]]:
    """One card for a run of replies: Teams shows a single card better than several."""
    body: list[dict[str, Any]] = []
    for reply in replies:
        if isinstance(reply, FormView):
            return [form_card(reply, [r for r in replies if isinstance(r, Notice)])]
        if isinstance(reply, Message):
            body.extend(message_body(reply))
        elif isinstance(reply, Chart):
            body.extend(chart_body(reply))
        elif isinstance(reply, FileOffer):
            body.extend(message_body(reply.as_message()))
        elif isinstance(reply, Notice):
            body.extend(notice_body(reply))
        else:
            body.extend(filter_body(reply))
    return [card(body)] if body else []


# --- Forms ---------------------------------------------------------------------------------


def _choices(
    field: Field, value: Any, common: dict[str, Any], *, many: bool = False
) -> dict[str, Any]:
    chosen = value if isinstance(value, list) else ([value] if value else [])
    element = {
        "type": "Input.ChoiceSet",
        **common,
        "isMultiSelect": many,
        "style": "expanded" if len(field.choices) <= FEW_CHOICES else "compact",
        "choices": [{"title": c.label, "value": c.value} for c in field.choices],
    }
    if chosen:
        element["value"] = ",".join(str(v) for v in chosen)
    return element


def _many_choices(field: Field, value: Any, common: dict[str, Any]) -> dict[str, Any]:
    return _choices(field, value, common, many=True)


def _date(field: Field, value: Any, common: dict[str, Any]) -> dict[str, Any]:
    element = {"type": "Input.Date", **common}
    if value:
        element["value"] = str(value)
    return element


#: Adaptive Card text styles for the text formats the engine checks.
_TEXT_STYLES = {TextFormat.EMAIL: "Email", TextFormat.PHONE: "Tel", TextFormat.LINK: "Url"}


def _typed(
    field: Field, value: Any, common: dict[str, Any], *, multiline: bool = False
) -> dict[str, Any]:
    """A typed answer, with the example as a placeholder.

    That includes a date with a time: Adaptive Cards have separate date and time
    inputs, and forms read times as UK time, so one text input reads back through
    the same parser as every other door.
    """
    element = {"type": "Input.Text", **common, "isMultiline": multiline}
    if field.format is not None and not multiline:
        # Teams shows the keyboard for an email, a phone number or a link.
        element["style"] = _TEXT_STYLES[field.format]
    if field.effective_max_length:
        element["maxLength"] = field.effective_max_length
    if field.effective_example:
        element["placeholder"] = f"For example, {field.effective_example}"
    if value not in (None, ""):
        element["value"] = str(value)
    return element


def _long_text(field: Field, value: Any, common: dict[str, Any]) -> dict[str, Any]:
    return _typed(field, value, common, multiline=True)


def _areas(field: Field, value: Any, common: dict[str, Any]) -> dict[str, Any]:
    """Places typed as names or postcodes (a card has no searchable list of 400 places),
    pre-filled with the names chosen so far; the parser names near matches on a miss."""
    return _typed(field, typed_text(value) or None, common, multiline=True)


def _cpv(field: Field, value: Any, common: dict[str, Any]) -> dict[str, Any]:
    """CPV codes typed as words or codes (a card has no searchable list of 9,454 codes),
    pre-filled one chosen code a line; the parser names the nearest codes on a miss."""
    return _typed(field, typed_cpv(value) or None, common, multiline=True)


#: The Adaptive Card input for each kind of question, given the answer so far and the
#: properties every input shares: adding a kind adds one entry here
#: (tests/unit/test_field_kinds_registry.py fails while one is missing).
WIDGETS: dict[FieldType, Callable[[Field, Any, dict[str, Any]], dict[str, Any]]] = {
    FieldType.SHORT_TEXT: _typed,
    FieldType.LONG_TEXT: _long_text,
    FieldType.REGISTER_NUMBER: _typed,
    FieldType.WHOLE_NUMBER: _typed,
    FieldType.MONEY: _typed,
    FieldType.PERCENTAGE: _typed,
    FieldType.DATE: _date,
    FieldType.DATE_TIME: _typed,
    FieldType.SINGLE_CHOICE: _choices,
    FieldType.MULTIPLE_CHOICE: _many_choices,
    FieldType.YES_NO: _choices,
    FieldType.SCALE: _choices,
    FieldType.AREA: _areas,
    FieldType.CPV: _cpv,
}


def _input(field: Field, value: Any, error: str | None) -> list[dict[str, Any]]:
    common: dict[str, Any] = {
        "id": field.id,
        "label": field.label,
        "isRequired": field.required,
        "errorMessage": error or f"Check your answer to: {field.label}",
    }
    items: list[dict[str, Any]] = []
    notes = " ".join(n for n in (field.hint, field.help) if n)
    if notes:
        items.append(text(notes, isSubtle=True, size="Small", spacing="Small"))
    if error:
        items.append(text(f"Error: {error}", color="Attention", weight="Bolder", spacing="Small"))
    return [WIDGETS[field.type](field, value, common), *items]


def form_card(view: FormView, notices: Sequence[Notice] = ()) -> dict[str, Any]:
    """One page of a form. Buttons send the page with `Action.Execute`."""
    body: list[dict[str, Any]] = [
        text(
            view.title + (f" · {view.progress}" if view.page_count > 1 else ""),
            isSubtle=True,
            size="Small",
        ),
        text(view.page_title, size="Large", weight="Bolder", style="heading"),
    ]
    for notice in notices:
        body.extend(notice_body(notice))
    if view.errors:
        body.append(
            {
                "type": "Container",
                "style": "attention",
                "items": [
                    text("There is a problem", weight="Bolder"),
                    *(text(f"• {msg}") for msg in view.errors.values()),
                ],
            }
        )
    if view.page_index == 0 and view.intro:
        body.append(text(view.intro))
    if view.page_intro:
        body.append(text(view.page_intro))
    for field in view.fields:
        body.extend(_input(field, view.values.get(field.id), view.errors.get(field.id)))
    if view.who_sees:
        body.append(text(view.who_sees, isSubtle=True, size="Small", spacing="Medium"))
    meta = {"response_id": view.response_id, "page": view.page_index}
    verb = "form.submit" if view.is_last_page else "form.next"
    actions = [
        {
            "type": "Action.Execute",
            "title": "Send" if view.is_last_page else "Save and continue",
            "verb": verb,
            "style": "positive",
            "associatedInputs": "auto",
            "data": {META: {**meta, "intent": verb.removeprefix(FORM_VERB_PREFIX)}},
        }
    ]
    if view.page_index > 0:
        actions.append(
            {
                "type": "Action.Execute",
                "title": "Back",
                "verb": "form.back",
                "associatedInputs": "auto",
                "data": {META: {**meta, "intent": "back"}},
            }
        )
    actions.append(
        {
            "type": "Action.Execute",
            "title": "Save and finish later",
            "verb": "form.save",
            "associatedInputs": "auto",
            "data": {META: {**meta, "intent": "save"}},
        }
    )
    return card(body, actions)


def submitted_values(data: dict[str, Any]) -> dict[str, str | list[str]]:
    """Input values from a card action's data (everything but our own metadata)."""
    return {
        k: v if isinstance(v, list) else ("" if v is None else str(v))
        for k, v in data.items()
        if k != META and not k.startswith("filter_")
    }
