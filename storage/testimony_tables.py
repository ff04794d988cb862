"""Testimony given with feedback (issue 16): a photo or a voice note, kept with the consent
given for each use.

Like the entry it belongs to, a testimony row can lead back to nobody: no name, no address,
no IP address or browser, and no time (the entry holds the day). The bytes are kept only
after `bot.core.uploads.check_upload` recognised them, and a photo only after its metadata
(EXIF, with any GPS location) was taken out (`bot.core.uploads.strip_metadata`). A file is
kept only when the person ticked "the service can see this"; "the council may quote it
without my name" is a second, separate choice.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class FeedbackTestimony(Base):
    """One photo or voice note given with a feedback entry; it goes when the entry goes."""

    __tablename__ = "feedback_testimony"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("feedback_entries.id", ondelete="CASCADE"), index=True
    )
    #: A `bot.core.uploads.EvidenceKind` value: photo or voice.
    kind: Mapped[str] = mapped_column(String(16))
    #: The type recognised from the bytes (never what the sender claimed).
    content_type: Mapped[str] = mapped_column(String(120))
    #: The extension the download is named with ("photo.jpg"); the sender's name is not kept.
    extension: Mapped[str] = mapped_column(String(16))
    size: Mapped[int]
    #: Of the bytes as kept (after any metadata was taken out).
    sha256: Mapped[str] = mapped_column(String(64))
    #: Loaded only when the file is fetched, so lists stay light.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: The people who run the service may see or hear it: needed to keep a file at all.
    service_may_see: Mapped[bool] = mapped_column(default=False)
    #: The council may quote it, without the person's name.
    council_may_quote: Mapped[bool] = mapped_column(default=False)
