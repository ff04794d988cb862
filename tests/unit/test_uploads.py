"""What Convene keeps as evidence is decided from the bytes: each accepted type recognised
(Word and Excel told apart by their entries), names that disagree with the bytes refused,
anything a browser or computer could run refused whatever it is called, sizes and empty
files refused, names made safe. Random bytes never raise and are never called a type
their bytes are not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.uploads import (
    ACCEPTED,
    MAX_NAME,
    Checked,
    EvidenceKind,
    FileType,
    Problem,
    accept_list,
    check_upload,
    safe_filename,
    size_words,
    sniff,
)
from tests.support import evidence_files as f

LIMIT = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "kind", "content_type"),
    [
        ("report.pdf", f.PDF, EvidenceKind.REPORT, "application/pdf"),
        (
            "report.docx",
            f.docx(),
            EvidenceKind.REPORT,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "numbers.xlsx",
            f.xlsx(),
            EvidenceKind.REPORT,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("report.odt", f.odt(), EvidenceKind.REPORT, "application/vnd.oasis.opendocument.text"),
        (
            "numbers.ods",
            f.ods(),
            EvidenceKind.REPORT,
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("numbers.csv", f.CSV, EvidenceKind.REPORT, "text/csv"),
        ("club.jpg", f.JPEG, EvidenceKind.PHOTO, "image/jpeg"),
        ("club.JPEG", f.JPEG, EvidenceKind.PHOTO, "image/jpeg"),
        ("club.png", f.PNG, EvidenceKind.PHOTO, "image/png"),
        ("club.webp", f.WEBP, EvidenceKind.PHOTO, "image/webp"),
        ("IMG_0001.HEIC", f.HEIC, EvidenceKind.PHOTO, "image/heic"),
        ("voice.mp3", f.MP3, EvidenceKind.VOICE, "audio/mpeg"),
        ("voice.m4a", f.M4A, EvidenceKind.VOICE, "audio/mp4"),
        ("voice.ogg", f.OGG, EvidenceKind.VOICE, "audio/ogg"),
        ("voice.opus", f.OGG, EvidenceKind.VOICE, "audio/ogg"),
        ("voice.wav", f.WAV, EvidenceKind.VOICE, "audio/wav"),
        ("voice.webm", f.WEBM, EvidenceKind.VOICE, "audio/webm"),
    ],
)
def test_each_accepted_type_is_recognised_from_its_bytes(
    name: str, data: bytes, kind: EvidenceKind, content_type: str
) -> None:
    checked = check_upload(name, data, max_bytes=LIMIT)
    assert isinstance(checked, Checked), checked
    assert (checked.kind, checked.content_type) == (kind, content_type)
    assert checked.size == len(data) and len(checked.sha256) == 64
    assert checked.filename.lower() == name.lower()


def test_word_and_excel_are_told_apart_whatever_they_are_called() -> None:
    assert check_upload("numbers.docx", f.xlsx(), max_bytes=LIMIT) is Problem.MISMATCH
    assert check_upload("report.xlsx", f.docx(), max_bytes=LIMIT) is Problem.MISMATCH
    assert check_upload("report.odt", f.ods(), max_bytes=LIMIT) is Problem.MISMATCH
    assert check_upload("archive.zip", f.plain_zip(), max_bytes=LIMIT) is Problem.NOT_ACCEPTED
    assert check_upload("report.docx", f.plain_zip(), max_bytes=LIMIT) is Problem.NOT_ACCEPTED


def test_a_name_without_an_extension_takes_the_one_its_bytes_have() -> None:
    checked = check_upload("our report", f.PDF, max_bytes=LIMIT)
    assert isinstance(checked, Checked) and checked.filename == "our report.pdf"


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("report.pdf", f.HTML, Problem.UNSAFE),
        ("page.html", f.HTML, Problem.UNSAFE),
        ("photo.png", f.SVG, Problem.UNSAFE),
        ("numbers.csv", b"name\n<script>alert(1)</script>\n", Problem.UNSAFE),
        ("numbers.csv", b"\xef\xbb\xbf  <HTML><body>", Problem.UNSAFE),
        ("report.pdf", f.EXE, Problem.UNSAFE),
        ("setup.exe", f.EXE, Problem.UNSAFE),
        ("run.sh", f.SCRIPT, Problem.UNSAFE),
        ("report.docm", f.docx(macros=True), Problem.UNSAFE),
        ("report.docx", f.docx(macros=True), Problem.UNSAFE),
        ("report.pdf", f.PNG, Problem.MISMATCH),
        ("photo.jpg", f.PDF, Problem.MISMATCH),
        ("page.html", f.PDF, Problem.UNSAFE),
        ("notes.txt", f.CSV, Problem.NOT_ACCEPTED),
        ("notes", f.CSV, Problem.NOT_ACCEPTED),
        ("report.pdf", b"", Problem.EMPTY),
        ("data.bin", b"\x00\x01\x02\x03", Problem.NOT_ACCEPTED),
    ],
)
def test_what_is_refused(name: str, data: bytes, problem: Problem) -> None:
    assert check_upload(name, data, max_bytes=LIMIT) is problem


def test_the_size_limit_is_checked_first() -> None:
    big = f.PDF + b"\x00" * 2048
    assert check_upload("report.pdf", big, max_bytes=1024) is Problem.TOO_BIG
    assert isinstance(check_upload("report.pdf", big, max_bytes=len(big)), Checked)


@pytest.mark.parametrize(
    ("claimed", "safe"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\tom\\Report 2026.pdf", "Report 2026.pdf"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("\u202eevil\u202dfdp.pdf", "evilfdp.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("", "file.pdf"),
        ("...", "file.pdf"),
        ("report.exe", "report.pdf"),
    ],
)
def test_names_are_made_safe(claimed: str, safe: str) -> None:
    assert safe_filename(claimed, "pdf") == safe


def test_a_long_name_is_cut_but_keeps_its_extension() -> None:
    name = safe_filename("a" * 500 + ".docx", "docx")
    assert len(name) == MAX_NAME and name.endswith(".docx")


def test_the_accept_list_and_sizes_in_words() -> None:
    listed = accept_list()
    for file_type in ACCEPTED:
        assert f".{file_type.extension}" in listed and file_type.content_type in listed
    assert "text/html" not in listed and ".svg" not in listed
    assert size_words(10 * 1024 * 1024) == "10 MB"
    assert size_words(int(2.5 * 1024 * 1024)) == "2.5 MB"
    assert size_words(840 * 1024) == "840 KB"


SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "audio/ogg": (b"OggS",),
    "audio/webm": (b"\x1a\x45\xdf\xa3",),
    "audio/mpeg": (b"ID3", b"\xff"),
}


def _fits(data: bytes, found: FileType) -> bool:
    """An independent reading of what the bytes must start with to be `found`."""
    if found.content_type in SIGNATURES:
        return data.startswith(SIGNATURES[found.content_type])
    if found.content_type in ("image/webp", "audio/wav"):
        return data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE")
    if found.content_type in ("image/heic", "audio/mp4"):
        return data[4:8] == b"ftyp"
    if found.kind is EvidenceKind.REPORT and found.extension != "csv":
        return data.startswith(b"PK\x03\x04")
    if found.extension == "csv":
        lowered = data.lower()
        return b"<" not in lowered[:4096] or not any(
            tag in lowered for tag in (b"<html", b"<script", b"<svg")
        )
    return False


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), name=st.text(max_size=40))
def test_random_bytes_never_raise_and_are_never_misnamed(data: bytes, name: str) -> None:
    found = sniff(data)
    if isinstance(found, FileType):
        assert _fits(data, found), (data[:16], found)
    checked = check_upload(name, data, max_bytes=512)
    if isinstance(checked, Checked):
        assert isinstance(found, FileType) and checked.content_type == found.content_type
        assert "/" not in checked.filename and "\\" not in checked.filename
        assert len(checked.filename) <= MAX_NAME
        assert checked.content_type != "text/html"
    elif len(data) > 512:
        assert checked is Problem.TOO_BIG


@settings(max_examples=100, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"<html>", b"<svg ", b"<script>", b"MZ", b"\x7fELF", b"<!DOCTYPE html>"]
    ),
    rest=st.binary(max_size=200),
    name=st.sampled_from(["report.pdf", "numbers.csv", "photo.jpg", "file"]),
)
def test_active_content_is_never_kept_whatever_it_is_called(
    prefix: bytes, rest: bytes, name: str
) -> None:
    assert not isinstance(check_upload(name, prefix + rest, max_bytes=LIMIT), Checked)
