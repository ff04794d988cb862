"""Photos lose what they say about where, when and by whom they were taken before a feedback
photo is kept: EXIF (with GPS), XMP, IPTC, comments and text chunks go; the picture bytes
stay exactly as they were; a photo whose structure cannot be followed is refused."""

from __future__ import annotations

import struct
import zlib

from bot.core.uploads import HEIC, JPEG, OGG, PNG, WEBP, Problem, strip_metadata
from tests.support import evidence_files as f

GPS = b"GPSLatitude 53.7632N"


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def test_a_jpeg_loses_exif_xmp_iptc_and_comments_and_keeps_the_picture() -> None:
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\xaa\xbb" * 20 + b"\xff\xd9"
    kept_parts = [
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xE2, b"ICC_PROFILE\x00\x01\x01colours"),
        _segment(0xDB, b"\x00" + b"\x01" * 64),
    ]
    photo = (
        b"\xff\xd8"
        + kept_parts[0]
        + _segment(0xE1, b"Exif\x00\x00" + GPS)
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>Jo Bloggs</x:xmpmeta>")
        + kept_parts[1]
        + _segment(0xED, b"Photoshop 3.0\x00 By-line: Jo Bloggs")
        + _segment(0xFE, b"Taken at 12 Acacia Avenue")
        + kept_parts[2]
        + scan
    )
    cleaned = strip_metadata(photo, JPEG)
    assert cleaned == b"\xff\xd8" + b"".join(kept_parts) + scan
    assert isinstance(cleaned, bytes)
    for trace in (GPS, b"Jo Bloggs", b"Acacia"):
        assert trace not in cleaned


def test_a_png_loses_exif_and_text_chunks() -> None:
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    data = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    end = _chunk(b"IEND", b"")
    photo = (
        b"\x89PNG\r\n\x1a\n"
        + header
        + _chunk(b"eXIf", b"MM\x00*" + GPS)
        + _chunk(b"tEXt", b"Author\x00Jo Bloggs")
        + _chunk(b"tIME", b"\x07\xea\x01\x0c\x17\x25\x00")
        + data
        + end
    )
    assert strip_metadata(photo, PNG) == b"\x89PNG\r\n\x1a\n" + header + data + end


def test_a_webp_loses_exif_and_xmp_and_its_flags() -> None:
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + bytes([0x0C]) + b"\x00" * 9
    image = b"VP8 " + (4).to_bytes(4, "little") + b"\x01\x02\x03\x04"
    exif = b"EXIF" + (len(GPS)).to_bytes(4, "little") + GPS
    body = vp8x + image + exif
    photo = b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body
    cleaned = strip_metadata(photo, WEBP)
    assert isinstance(cleaned, bytes) and GPS not in cleaned
    assert cleaned[:4] == b"RIFF" and cleaned[8:12] == b"WEBP"
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8
    assert cleaned[20] == 0 and image in cleaned  # the flags say no EXIF or XMP now


def test_what_cannot_be_followed_or_cleaned_is_refused_and_voice_is_left_alone() -> None:
    assert strip_metadata(b"\xff\xd8\xff\xe1\xff\xff" + GPS, JPEG) is Problem.NOT_ACCEPTED
    assert strip_metadata(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, PNG) is Problem.NOT_ACCEPTED
    assert strip_metadata(f.HEIC, HEIC) is Problem.NOT_ACCEPTED
    assert strip_metadata(f.OGG, OGG) == f.OGG
