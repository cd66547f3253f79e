"""Draw the app's icons as PNG files with no imaging library: a door on the brand colour.

    python -m volunteer.icons "#0b3d2e"    rewrites volunteer/static/volunteer/icons/*.png

A chapter that brands the app (docs/volunteer-app.md) runs it with its own colour,
or replaces the three PNG files with its own artwork of the same sizes.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "static" / "volunteer" / "icons"


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def door_icon(size: int, colour: tuple[int, int, int], *, inset: float) -> bytes:
    """A white door (with a knob) centred on the colour; `inset` keeps it inside a maskable safe zone."""
    white, knob = (255, 255, 255), colour
    span = size * (1 - 2 * inset)
    left, right = size / 2 - span * 0.22, size / 2 + span * 0.22
    top, bottom = size / 2 - span * 0.36, size / 2 + span * 0.36
    kx, ky, kr = right - span * 0.09, size / 2, span * 0.035
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            pixel = colour
            if left <= x <= right and top <= y <= bottom:
                pixel = knob if (x - kx) ** 2 + (y - ky) ** 2 <= kr * kr else white
            row += bytes(pixel)
        rows.append(bytes(row))
    return _png(size, size, rows)


def main(colour_hex: str = "#0b3d2e") -> None:
    red, green, blue = (int(colour_hex.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    colour = (red, green, blue)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(door_icon(192, colour, inset=0.08))
    (OUT / "icon-512.png").write_bytes(door_icon(512, colour, inset=0.08))
    (OUT / "icon-maskable-512.png").write_bytes(door_icon(512, colour, inset=0.2))


if __name__ == "__main__":
    main(*sys.argv[1:2])
