"""Evidence sent for a check-in (issue 15): a provider's own report, photos and voice notes,
kept with the consent given for them.

The bytes live in the shared database (not on a disk), so every replica can serve them and
a backup holds them. A row is only written after `bot.core.uploads.check_upload` has
recognised the bytes; what the sender claimed the file was is never kept. Only the
council's commissioning team and the reporting organisation's members may fetch a file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class EvidenceRow(Base):
    """One file sent as evidence for an agreement's check-in, with its consent flags."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitoring_checkins.id", ondelete="CASCADE"), index=True
    )
    #: The organisation that reported (the sole provider, or a consortium's lead).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: A `bot.core.uploads.EvidenceKind` value: report, photo or voice.
    kind: Mapped[str] = mapped_column(String(16))
    #: The name made safe (no folders or control characters), ending in `extension`.
    filename: Mapped[str] = mapped_column(String(160))
    #: The type recognised from the bytes (never what the sender claimed; never HTML).
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: Loaded only when the file is fetched, so lists stay light.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: The council's commissioning team may see it: always needed to send a file.
    service_may_see: Mapped[bool] = mapped_column(default=False)
    #: The council may quote it, without the person's name.
    council_may_quote: Mapped[bool] = mapped_column(default=False)
    #: The people shown or heard in a photo or voice note agreed to share it.
    people_shown_agreed: Mapped[bool] = mapped_column(default=False)
    #: This is the organisation's own report, sent instead of the check-in form.
    answers_checkin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
