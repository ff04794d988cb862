"""Files a person sends Convene in a Slack DM, read from the message event.

Slack puts no bytes in the event: each file in `files` has a private URL on Slack's file
host that only a bot token of the workspace can fetch (with the `files:read` scope).
`offered_in` reads what the event says about each file; `bot.chat_files.FileFetcher`
fetches them (size limit first, Slack's file host only, see there).
"""

from __future__ import annotations

from typing import Any

from bot.chat_files import OfferedFile

#: Slack's word for a file it lists but will not show (over a free plan's limit, deleted).
GONE_MODES = frozenset({"tombstone", "hidden_by_limit"})


def has_files(event: dict[str, Any]) -> bool:
    """Whether a message event carries files (Slack marks it `file_share`, or not at all)."""
    return bool(event.get("files"))


def offered_in(event: dict[str, Any], token: str | None) -> list[OfferedFile]:
    """Each file in a message event, with the header that lets the bot fetch it. A file
    with no link to fetch (deleted, hidden by the plan) is offered with none: the fetcher
    marks it unreadable, so the person is told rather than the file silently dropped."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    offered = []
    for file in event.get("files") or []:
        if not isinstance(file, dict):
            continue
        url = file.get("url_private_download") or file.get("url_private")
        if file.get("mode") in GONE_MODES or not isinstance(url, str):
            url = None
        size = file.get("size")
        offered.append(
            OfferedFile(
                filename=_text(file.get("name")) or _text(file.get("title")),
                content_type=_text(file.get("mimetype")) or "application/octet-stream",
                url=url,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                headers=headers,
            )
        )
    return offered


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
