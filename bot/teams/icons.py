"""The Teams app icons, drawn with the standard library (no image library needed).

Teams wants a 192x192 full-colour icon and a 32x32 outline icon (white on transparent).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Pixel = tuple[int, int, int, int]


def png(size: int, paint: Callable[[int, int], Pixel]) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(paint(x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _ring(size: int, x: int, y: int) -> bool:
    """A 'C' shape: a ring with a gap on the right, centred."""
    cx = cy = (size - 1) / 2
    dx, dy = x - cx, y - cy
    r = (dx * dx + dy * dy) ** 0.5
    outer, inner = size * 0.36, size * 0.22
    gap = dx > 0 and abs(dy) < size * 0.12
    return inner <= r <= outer and not gap


def colour_icon() -> bytes:
    blue, white = (29, 112, 184, 255), (255, 255, 255, 255)
    return png(192, lambda x, y: white if _ring(192, x, y) else blue)


def outline_icon() -> bytes:
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)
    return png(32, lambda x, y: white if _ring(32, x, y) else clear)
