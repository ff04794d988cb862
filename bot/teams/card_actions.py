"""What a pressed Adaptive Card asks for, read into a `Turn`.

Our cards carry their meaning in `data[META]`: a form page (`response_id`, `page`,
`intent`), a command (`cmd.<word>`), a filter, or a button's action id and value. The
same reading serves `Action.Execute` (newer clients) and `Action.Submit` (older ones).
The turn has no actor yet: the door pipeline finds who pressed it.
"""

from __future__ import annotations

from typing import Any

from bot.core.turn import Action, Door, Intent, Submission, Turn, parse_command
from bot.teams import cards as kit


def turn_for_card(conversation: str, data: dict[str, Any], verb: str | None = None) -> Turn | None:
    """The turn a pressed card button or a sent card form asks for, from the data our card
    put on it; None when it carries none (a card from before a release, or not ours)."""
    meta = data.get(kit.META) if isinstance(data.get(kit.META), dict) else None
    if meta is None:
        return None
    if "response_id" in meta:
        try:
            submission = Submission(
                response_id=int(meta["response_id"]),
                page=int(meta.get("page", 0)),
                values=kit.submitted_values(data),
                intent=Intent(str(meta.get("intent", "next")).replace("submit", "next")),
            )
        except (TypeError, ValueError):
            return None
        return Turn(door=Door.TEAMS, actor=None, conversation=conversation, submission=submission)
    action = str(meta.get("action") or verb or "")
    if action == "filter":
        args = {
            k.removeprefix("filter_"): str(v)
            for k, v in data.items()
            if k.startswith("filter_") and v
        }
        return Turn(
            door=Door.TEAMS,
            actor=None,
            conversation=conversation,
            text=str(meta.get("value", "")),
            args=args,
        )
    if action.startswith("cmd."):
        text = f"{action.removeprefix('cmd.')} {meta.get('value') or ''}".strip()
        return Turn(
            door=Door.TEAMS,
            actor=None,
            conversation=conversation,
            text=text,
            args=parse_command(text)[1],
        )
    return Turn(
        door=Door.TEAMS,
        actor=None,
        conversation=conversation,
        action=Action(id=action, value=str(meta.get("value") or "")),
    )
