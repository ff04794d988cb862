"""Checks an activity's shape before the Teams door reads it.

botbuilder turns JSON into an `Activity` without checking much: `conversation` as a
string, `from` as a list or `entities` as a word make it raise deep inside, and a
number for `text` or a string for an invoke's `value` gets through and breaks our
code later. Either way the caller got a 500 and Teams tried again, for ever. Here each
field we rely on is checked first, so a bad activity gets a 400 saying which field is
wrong, and nothing is stored.

What Teams always sends: every message and invoke has `type`, `id`, `from`,
`conversation`, `recipient`, `serviceUrl` and `channelId`. A `conversationUpdate` or
`installationUpdate` always has `conversation`, `recipient` and `serviceUrl`, but not
always an `id` (and we don't need its `from`), so those two may be missing there.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "message"
INVOKE = "invoke"
UPDATES = ("conversationUpdate", "installationUpdate")

#: Fields that must be text when they are there at all.
TEXT_FIELDS = (
    "id",
    "serviceUrl",
    "channelId",
    "text",
    "name",
    "replyToId",
    "locale",
    "textFormat",
    "action",
)
#: Fields that must be lists of objects when they are there at all.
LIST_FIELDS = ("entities", "attachments", "membersAdded", "membersRemoved")
#: Text fields inside an account (`from`, `recipient`, `conversation`, members).
ACCOUNT_TEXT = ("name", "aadObjectId", "role", "conversationType", "tenantId")


def problem(body: dict[str, Any]) -> str | None:
    """What is wrong with this activity, in a few plain words; None when it is fine."""
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "The activity has no type."
    handled = kind in (MESSAGE, INVOKE)
    update = kind in UPDATES
    for name in TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"'{name}' must be text."
    if handled and not body.get("id"):
        return "The activity has no id."
    if (handled or update) and not body.get("serviceUrl"):
        return "The activity has no serviceUrl."
    for name in ("from", "conversation", "recipient"):
        needed = handled or (update and name != "from")
        found = _account(body.get(name), name, needed=needed)
        if found:
            return found
    for name in LIST_FIELDS:
        found = _list_of_objects(body.get(name), name)
        if found:
            return found
    for name in ("membersAdded", "membersRemoved"):
        for member in body.get(name) or []:
            found = _account(member, name, needed=True)
            if found:
                return found
    for entity in body.get("entities") or []:
        if entity.get("type") == "mention":
            found = _account(entity.get("mentioned"), "mentioned", needed=True)
            if found:
                return found
            if entity.get("text") is not None and not isinstance(entity["text"], str):
                return "A mention's 'text' must be text."
    if body.get("channelData") is not None and not isinstance(body["channelData"], dict):
        return "'channelData' must be an object."
    if kind == INVOKE:
        value = body.get("value")
        if body.get("name") == "adaptiveCard/action" and not isinstance(value, dict):
            return "'value' must be an object."
        if value is not None and not isinstance(value, dict):
            return "'value' must be an object."
    return None


def _account(value: Any, name: str, *, needed: bool) -> str | None:
    if value is None:
        return f"The activity has no '{name}'." if needed else None
    if not isinstance(value, dict):
        return f"'{name}' must be an object."
    if not value.get("id") or not isinstance(value["id"], str):
        return f"'{name}' has no id."
    for field in ACCOUNT_TEXT:
        if value.get(field) is not None and not isinstance(value[field], str):
            return f"'{name}.{field}' must be text."
    return None


def _list_of_objects(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return f"'{name}' must be a list of objects."
    return None


def without_bot_mention(activity: Any) -> str:
    """The activity's text without the bot's @mention (`<at>Convene</at>`) in it.

    botbuilder's own `remove_recipient_mention` fails on a mention that has neither
    text nor a name (it was a 500); this cuts out exactly the text the mention names,
    and leaves the rest alone.
    """
    text = activity.text if isinstance(activity.text, str) else ""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    for entity in activity.entities or []:
        if (entity.type or "").lower() != "mention":
            continue
        extra = entity.additional_properties or {}
        mentioned = extra.get("mentioned")
        if not isinstance(mentioned, dict) or mentioned.get("id") != bot_id:
            continue
        said = extra.get("text")
        if isinstance(said, str) and said:
            text = text.replace(said, "")
    return text
