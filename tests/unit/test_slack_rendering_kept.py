"""Rendered Block Kit is kept for replies seen before: same JSON, a fresh copy each time."""

from __future__ import annotations

from bot.core.reply import Button, Message, Notice
from bot.slack import blocks as kit


def test_a_reply_seen_before_renders_the_same_and_callers_cannot_spoil_it() -> None:
    reply = Message(
        title="Help", text="What I can do", buttons=[Button(label="Profile", action="cmd.profile")]
    )
    first = kit.rendered_blocks(reply)
    assert first == [b.to_dict() for b in kit.reply_blocks(reply)]
    first[0]["text"]["text"] = "changed by a caller"
    assert kit.rendered_blocks(reply) == [b.to_dict() for b in kit.reply_blocks(reply)]


def test_different_replies_are_never_confused() -> None:
    saved = kit.notice_modal("Saved", [Notice(text="Saved.", level="success")])
    refused = kit.notice_modal("Saved", [Notice(text="Not saved.", level="error")])
    assert saved != refused
    assert "Not saved." in str(refused) and "Not saved." not in str(saved)


def test_only_the_most_recent_renderings_are_kept() -> None:
    for n in range(kit.RENDERED_KEPT + 50):
        kit.rendered_blocks(Notice(text=f"Notice {n}"))
    assert len(kit._rendered) <= kit.RENDERED_KEPT
