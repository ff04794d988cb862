"""Which files Convene keeps as evidence, decided from their bytes, not from what the sender
claimed.

A provider may answer in its own way (issue 15): its own report instead of the form, or
photos and voice notes (PhotoVoice). A file is only kept when its bytes are one of the
types below, its name's extension (if it has one) agrees with the bytes, and it is not
empty or over the size limit. Anything a browser could run (HTML, SVG, scripts,
programs) is refused whatever it is called. The answer is typed: `Checked` or a `Problem`
the feature words for the person.

There is no library here on purpose: the types we accept are few and their signatures are
short and stable, and the Office and OpenDocument files (zips) need their entries read to
tell a document from a spreadsheet, which the sniffing libraries do not do reliably.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ACCEPTED",
    "Checked",
    "EvidenceKind",
    "FileType",
    "Problem",
    "check_upload",
    "safe_filename",
    "size_words",
    "sniff",
    "strip_metadata",
]

#: The longest filename we keep (a name is for people to read, not to carry data).
MAX_NAME = 120


class EvidenceKind(StrEnum):
    """What a file is for. The values are stored: never rename one."""

    REPORT = "report"
    PHOTO = "photo"
    VOICE = "voice"


class Problem(StrEnum):
    """Why a file was not kept. The values are recorded in the audit log."""

    EMPTY = "empty"
    TOO_BIG = "too_big"
    #: The door could not fetch it.
    UNREADABLE = "unreadable"
    #: Not a type we accept (or one we could not recognise).
    NOT_ACCEPTED = "not_accepted"
    #: The bytes are one accepted type, the name says another.
    MISMATCH = "mismatch"
    #: Something a browser or computer could run: HTML, SVG, a script, a program, macros.
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class FileType:
    """One type we accept: its kind, content type, usual extension and the others allowed."""

    kind: EvidenceKind
    content_type: str
    extension: str
    also: tuple[str, ...] = ()
    words: str = ""

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.also)


PDF = FileType(EvidenceKind.REPORT, "application/pdf", "pdf", words="PDF")
DOCX = FileType(
    EvidenceKind.REPORT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    words="Word (.docx)",
)
XLSX = FileType(
    EvidenceKind.REPORT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    words="Excel (.xlsx)",
)
ODT = FileType(
    EvidenceKind.REPORT, "application/vnd.oasis.opendocument.text", "odt", words="OpenDocument"
)
ODS = FileType(
    EvidenceKind.REPORT,
    "application/vnd.oasis.opendocument.spreadsheet",
    "ods",
    words="OpenDocument spreadsheet",
)
CSV = FileType(EvidenceKind.REPORT, "text/csv", "csv", words="CSV")
JPEG = FileType(EvidenceKind.PHOTO, "image/jpeg", "jpg", ("jpeg",), words="JPEG")
PNG = FileType(EvidenceKind.PHOTO, "image/png", "png", words="PNG")
WEBP = FileType(EvidenceKind.PHOTO, "image/webp", "webp", words="WebP")
HEIC = FileType(EvidenceKind.PHOTO, "image/heic", "heic", ("heif",), words="HEIC (iPhone)")
MP3 = FileType(EvidenceKind.VOICE, "audio/mpeg", "mp3", words="MP3")
M4A = FileType(EvidenceKind.VOICE, "audio/mp4", "m4a", ("mp4",), words="M4A")
OGG = FileType(EvidenceKind.VOICE, "audio/ogg", "ogg", ("opus", "oga"), words="OGG")
WAV = FileType(EvidenceKind.VOICE, "audio/wav", "wav", words="WAV")
WEBM = FileType(EvidenceKind.VOICE, "audio/webm", "webm", words="WebM")

#: Every type we accept, in the order we describe them.
ACCEPTED: tuple[FileType, ...] = (
    PDF,
    DOCX,
    XLSX,
    ODT,
    ODS,
    CSV,
    JPEG,
    PNG,
    WEBP,
    HEIC,
    MP3,
    M4A,
    OGG,
    WAV,
    WEBM,
)
BY_EXTENSION = {ext: t for t in ACCEPTED for ext in t.extensions}


def accept_list() -> str:
    """The `accept=` attribute of a file input: every extension and content type."""
    items = [f".{ext}" for t in ACCEPTED for ext in t.extensions]
    items += sorted({t.content_type for t in ACCEPTED})
    return ",".join(items)


def size_words(size: int) -> str:
    """A size as people read it: "840 KB", "10 MB", "2.5 MB"."""
    if size < 1024 * 1024:
        return f"{max(1, -(-size // 1024))} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
    return f"{megabytes} MB"


def types_in_words(kind: EvidenceKind) -> str:
    return ", ".join(t.words for t in ACCEPTED if t.kind == kind)


@dataclass(frozen=True)
class Checked:
    """A file fit to keep: what its bytes are, a safe name for it, and its fingerprint."""

    kind: EvidenceKind
    content_type: str
    extension: str
    size: int
    sha256: str
    filename: str


# --- recognising bytes ------------------------------------------------------------------------

#: Text that a browser would run or render, looked for near the start of any text file.
_ACTIVE_TEXT = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<?xml",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<meta",
    b"<a ",
    b"<img",
    b"<style",
    b"<link",
    b"javascript:",
    b"<?php",
    b"<%",
)
#: Programs: Windows, Linux, macOS (both byte orders, 32/64-bit, universal), Java, WebAssembly.
_PROGRAMS = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\x00asm",
    b"#!",
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41", b"iso2", b"dash"}
#: An MP3 frame header starts with 11 set bits and is not a "reserved" layer.
_MP3_SYNC = {b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa", b"\xff\xe3", b"\xff\xe2"}
#: Most we read from a zip entry that names its type: enough, and no zip bomb.
_ZIP_ENTRY_LIMIT = 64 * 1024


def _looks_active(data: bytes) -> bool:
    """HTML, SVG, XML or script in the first few kilobytes, in any case, after spaces or a
    byte-order mark: what a browser would render or run if it ever sniffed the file."""
    head = data[:4096].lower().replace(b"\x00", b"")
    return any(marker in head for marker in _ACTIVE_TEXT)


def _zip_type(data: bytes) -> FileType | Problem:
    """A zip is ours only as a Word document, an Excel workbook or an OpenDocument file,
    told apart by its entries. Macros make it unsafe; any other zip is not accepted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return Problem.UNSAFE
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(200).strip()
                if mimetype == ODT.content_type.encode():
                    return ODT
                if mimetype == ODS.content_type.encode():
                    return ODS
                return Problem.NOT_ACCEPTED
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    types = entry.read(_ZIP_ENTRY_LIMIT).lower()
                if b"macroenabled" in types:
                    return Problem.UNSAFE
                if "word/document.xml" in names and b"wordprocessingml.document.main" in types:
                    return DOCX
                if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main" in types:
                    return XLSX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError):
        return Problem.NOT_ACCEPTED
    except RuntimeError:  # an encrypted entry
        return Problem.NOT_ACCEPTED
    return Problem.NOT_ACCEPTED


def _csv(data: bytes) -> FileType | Problem:
    """Plain text in UTF-8 (or Windows' Latin), with no control characters but tabs and line
    ends, and nothing a browser would run: a spreadsheet's comma-separated export."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return Problem.NOT_ACCEPTED
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in text):
        return Problem.NOT_ACCEPTED
    return CSV


def sniff(data: bytes) -> FileType | Problem:
    """What the bytes are: an accepted type, or why not. Never raises."""
    if not data:
        return Problem.EMPTY
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data.startswith(b"OggS"):
        return OGG
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in data[:64] else Problem.NOT_ACCEPTED
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return HEIC
        if brand in _MP4_AUDIO_BRANDS:
            return M4A
        return Problem.NOT_ACCEPTED
    if data.startswith(b"ID3") or data[:2] in _MP3_SYNC:
        return MP3
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if any(data.startswith(magic) for magic in _PROGRAMS):
        return Problem.UNSAFE
    if _looks_active(data):
        return Problem.UNSAFE
    return _csv(data)


# --- names ------------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, extension


def safe_filename(claimed: str, extension: str) -> str:
    """A name to show and to download under: no folders, no control or format characters,
    no leading dots, at most `MAX_NAME` characters, always ending in `.extension`."""
    base = claimed.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = " ".join(base.split()).strip(" .")
    stem, _ = _split(base)
    stem = stem.strip(" .") or "file"
    room = MAX_NAME - len(extension) - 1
    return f"{stem[:room].rstrip(' .') or 'file'}.{extension}"


def claimed_extension(claimed: str) -> str:
    """The extension the sender's name has, lower-cased ("" when it has none)."""
    base = claimed.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    return _split(base)[1].lower().strip()


# --- the check --------------------------------------------------------------------------------


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> Checked | Problem:
    """Whether to keep this file: `Checked` (what it is, a safe name, its SHA-256), or the
    `Problem`. The size limit is checked first, so nothing big is read; then the bytes, and
    last whether the name's extension (if any) agrees with them."""
    if not data:
        return Problem.EMPTY
    if len(data) > max_bytes:
        return Problem.TOO_BIG
    found = sniff(data)
    if isinstance(found, Problem):
        return found
    extension = claimed_extension(filename)
    if found is CSV and extension != "csv":  # plain text is only ours when it says CSV
        return Problem.NOT_ACCEPTED
    if extension and extension not in found.extensions:
        named = BY_EXTENSION.get(extension)
        if named is None and extension in ("html", "htm", "svg", "js", "exe", "xhtml", "php"):
            return Problem.UNSAFE
        return Problem.MISMATCH
    kept = extension or found.extension
    return Checked(
        kind=found.kind,
        content_type=found.content_type,
        extension=kept,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        filename=safe_filename(filename, kept),
    )


# --- photo metadata ---------------------------------------------------------------------------

#: JPEG segments kept: the image itself, JFIF (APP0), the colour profile (APP2) and Adobe's
#: colour transform (APP14). Everything else before the picture data goes: EXIF and XMP
#: (APP1: camera, time taken, GPS location), IPTC (APP13: names, captions), comments.
_JPEG_KEPT_APPS = {0xE0, 0xE2, 0xEE}
#: PNG chunks that hold words or times about a picture rather than the picture.
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_WEBP_DROPPED = {b"EXIF", b"XMP "}


def _jpeg_without_metadata(data: bytes) -> bytes | None:
    out = bytearray(data[:2])
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA:  # start of scan: the picture itself, copied as it is
            out += data[at:]
            return bytes(out)
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        end = at + 2 + length
        if length < 2 or end > len(data):
            return None
        is_app = 0xE0 <= marker <= 0xEF
        if not ((is_app and marker not in _JPEG_KEPT_APPS) or marker == 0xFE):
            out += data[at:end]
        at = end
    return None


def _png_without_metadata(data: bytes) -> bytes | None:
    out = bytearray(data[:8])
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            return None
        if kind not in _PNG_DROPPED:
            out += data[at:end]
        at = end
        if kind == b"IEND":
            return bytes(out)
    return None


def _webp_without_metadata(data: bytes) -> bytes | None:
    chunks = bytearray()
    at = 12
    while at + 8 <= len(data):
        kind = data[at : at + 4]
        length = int.from_bytes(data[at + 4 : at + 8], "little")
        end = at + 8 + length + (length & 1)
        if at + 8 + length > len(data):
            return None
        chunk = bytearray(data[at : min(end, len(data))])
        if kind == b"VP8X" and length >= 1:
            chunk[8] &= ~0x0C & 0xFF  # the "has EXIF" and "has XMP" flags
        if kind not in _WEBP_DROPPED:
            chunks += chunk
        at = end
    return b"RIFF" + (len(chunks) + 4).to_bytes(4, "little") + b"WEBP" + bytes(chunks)


def strip_metadata(data: bytes, found: FileType) -> bytes | Problem:
    """A photo's bytes without what it says about where, when and by whom it was taken
    (EXIF with GPS, XMP, IPTC, text chunks), losslessly: the picture data is copied as it
    is. Only JPEG, PNG and WebP can be cleaned here; a HEIC photo is `NOT_ACCEPTED` (its
    metadata sits inside a container we do not rewrite), and a photo whose structure we
    cannot follow is too. Anything that is not a photo comes back unchanged."""
    if found.kind is not EvidenceKind.PHOTO:
        return data
    cleaned: bytes | None
    if found is JPEG:
        cleaned = _jpeg_without_metadata(data)
    elif found is PNG:
        cleaned = _png_without_metadata(data)
    elif found is WEBP:
        cleaned = _webp_without_metadata(data)
    else:
        cleaned = None
    return Problem.NOT_ACCEPTED if cleaned is None else cleaned
