"""Small real files of each type we accept (and some we refuse), made in memory."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 8
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A isom" + b"\x00" * 32
OGG = b"OggS\x00\x02" + b"\x00" * 32 + b"OpusHead"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 16
CSV = b"Month,People helped\nJanuary,40\nFebruary,42\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32
SCRIPT = b"#!/bin/sh\nrm -rf /\n"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx(*, macros: bool = False) -> bytes:
    kind = "ms-word.document.macroEnabled" if macros else "openxmlformats-officedocument"
    types = (
        '<Types><Override PartName="/word/document.xml" ContentType="application/vnd.'
        f'{kind}.wordprocessingml.document.main+xml"/></Types>'
    ).encode()
    entries = {"[Content_Types].xml": types, "word/document.xml": b"<w:document/>"}
    if macros:
        entries["word/vbaProject.bin"] = b"\x00"
    return _zip(entries)


def xlsx() -> bytes:
    types = (
        b'<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
    )
    return _zip({"[Content_Types].xml": types, "xl/workbook.xml": b"<workbook/>"})


def odt() -> bytes:
    return _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


def ods() -> bytes:
    return _zip(
        {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}
    )


def plain_zip() -> bytes:
    return _zip({"notes.txt": b"hello"})
