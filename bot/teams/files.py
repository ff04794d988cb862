"""Files a person sends Convene in Teams, read from a message activity's `attachments`.

Teams sends two kinds the door fetches:

- a file sent in a personal chat (the app's manifest says `supportsFiles`):
  `application/vnd.microsoft.teams.file.download.info`, whose `content.downloadUrl` is a
  short-lived link to the person's OneDrive that needs no token, so it is fetched only
  from the download hosts in the settings (`CONVENE_TEAMS_FILES_HOSTS`);
- an image pasted into the message: an `image/*` attachment whose `contentUrl` is on the
  Bot Connector (the activity's serviceUrl), fetched with the bot's own connector token,
  and from nowhere else.

Cards (Adaptive, hero) and the message's own HTML copy are attachments too, and are not
files: they are left alone.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from bot.chat_files import OfferedFile

DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


def offered_in(attachments: list[Any] | None) -> list[tuple[OfferedFile, bool]]:
    """The files among an activity's attachments, in order, each with whether it is on the
    Bot Connector (an inline image, fetched with the bot's token) rather than a download
    link (no token)."""
    offered: list[tuple[OfferedFile, bool]] = []
    for attachment in attachments or []:
        kind = _text(getattr(attachment, "content_type", None)).lower()
        name = _text(getattr(attachment, "name", None))
        if kind == DOWNLOAD_INFO:
            raw = getattr(attachment, "content", None)
            content: dict[str, Any] = raw if isinstance(raw, dict) else {}
            url = content.get("downloadUrl")
            size = content.get("size")
            download = OfferedFile(
                filename=name,
                content_type=_guess(name, content.get("fileType")),
                url=url if isinstance(url, str) else None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
            offered.append((download, False))
        elif kind.startswith("image/"):
            url = getattr(attachment, "content_url", None)
            image = OfferedFile(
                filename=name or f"image{_extension(kind)}",
                content_type="image/png" if kind == "image/*" else kind,
                url=url if isinstance(url, str) else None,
            )
            offered.append((image, True))
    return offered


def has_files(attachments: list[Any] | None) -> bool:
    """Whether any attachment is a file the door would fetch."""
    return bool(offered_in(attachments))


def _guess(name: str, file_type: Any) -> str:
    guessed, _ = mimetypes.guess_type(name or f"file.{file_type or ''}")
    return guessed or "application/octet-stream"


def _extension(kind: str) -> str:
    return mimetypes.guess_extension(kind) or ".png"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
