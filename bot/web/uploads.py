"""Files sent from a web form (`multipart/form-data` to `/do/{command}`), read as a stream
with hard limits and handed to the feature as `Turn.attachments`.

The app's usual body limit (1 MB, `client_max_size`) stays for every other route: only
this reader, used only for a command posted with files, reads more, and it counts as it
goes. A file over the per-file limit (`CONVENE_UPLOAD_MAX_BYTES`) is read past and
dropped, and reaches the feature as an attachment with the problem `too_big`, so the
feature words the refusal and puts it on the record. A body past the overall limit (a few
files' worth) stops the reading at once, and the person gets a plain page saying so. The
door never decides what a file is: the feature checks the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from multidict import MultiDict

from bot.core.turn import Attachment, AttachmentProblem

#: The most a posted body with files may hold, in files' worth (each at the per-file limit).
FILES_PER_BODY = 4
#: The most a text field in such a form may hold.
MAX_FIELD = 64 * 1024
CHUNK = 64 * 1024


class BodyTooBig(Exception):
    """The body is past the overall limit: nothing of it is used."""


@dataclass(frozen=True)
class PostedWithFiles:
    """A form posted with files: its text fields and its files."""

    fields: MultiDict[str]
    attachments: tuple[Attachment, ...]


def body_limit(max_file_bytes: int, max_text_bytes: int) -> int:
    return max_file_bytes * FILES_PER_BODY + max_text_bytes


def sends_files(request: web.Request) -> bool:
    """A command posted from a form with files (the only route that takes them)."""
    return (
        request.method == "POST"
        and request.path.startswith("/do/")
        and request.content_type == "multipart/form-data"
    )


async def read_with_files(
    request: web.Request, *, max_file_bytes: int, max_body_bytes: int
) -> PostedWithFiles:
    """The fields and files of the body. Raises BodyTooBig past `max_body_bytes`, and
    ValueError when it is not a form we can read."""
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise BodyTooBig
    fields: MultiDict[str] = MultiDict()
    files: list[Attachment] = []
    read = 0
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise ValueError("nested multipart")
        limit = MAX_FIELD if part.filename is None else max_file_bytes
        kept = bytearray()
        over = False
        while True:
            chunk = await part.read_chunk(CHUNK)
            if not chunk:
                break
            read += len(chunk)
            if read > max_body_bytes:
                raise BodyTooBig
            if len(kept) + len(chunk) > limit:
                over = True
                kept.clear()
            elif not over:
                kept.extend(chunk)
        if part.filename is None:
            if over:
                raise ValueError("a field too long")
            fields.add(part.name or "", bytes(kept).decode(part.get_charset("utf-8"), "replace"))
            continue
        if not part.filename and not kept and not over:
            continue  # the file box was left empty
        files.append(
            Attachment(
                # Browsers send `"` and line ends as %22, %0D, %0A; some clients encode more.
                filename=unquote(part.filename),
                content_type=part.headers.get("Content-Type", "application/octet-stream"),
                data=b"" if over else bytes(kept),
                problem=AttachmentProblem.TOO_BIG if over else None,
            )
        )
    return PostedWithFiles(fields, tuple(files))
