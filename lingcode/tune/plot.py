"""The loss plot, loss.png: training loss per step (blue) and validation loss (orange), drawn into a pixel
buffer and written as PNG with zlib and struct, so the `tune` extra needs no plotting library for one chart.
The axes carry the step range and the loss range in a 3x5 pixel digit font.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

WIDTH, HEIGHT = 640, 360
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 48, 16, 16, 28
_WHITE, _GREY, _BLACK = (255, 255, 255), (200, 200, 200), (40, 40, 40)
TRAIN_COLOUR, VALID_COLOUR = (31, 119, 180), (255, 127, 14)
# 3x5 glyphs, rows top to bottom, 3 bits each (left bit first)
_GLYPHS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 7, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 1, 1),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7), ".": (0, 0, 0, 0, 2),
}  # fmt: skip
Point = tuple[float, float]


class Canvas:
    """An RGB pixel buffer with the few drawing operations a line chart needs."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(_WHITE) * (width * height))

    def dot(self, x: int, y: int, colour: tuple[int, int, int], size: int = 1) -> None:
        """Paint a size x size square at (x, y), clipped to the canvas."""
        for dy in range(size):
            for dx in range(size):
                px, py = x + dx, y + dy
                if 0 <= px < self.width and 0 <= py < self.height:
                    at = (py * self.width + px) * 3
                    self.pixels[at : at + 3] = bytes(colour)

    def line(self, start: Point, end: Point, colour: tuple[int, int, int], size: int = 2) -> None:
        """A straight line by sampling it at one-pixel spacing."""
        steps = max(1, int(max(abs(end[0] - start[0]), abs(end[1] - start[1]))))
        for i in range(steps + 1):
            t = i / steps
            self.dot(
                round(start[0] + (end[0] - start[0]) * t),
                round(start[1] + (end[1] - start[1]) * t),
                colour,
                size,
            )

    def text(self, x: int, y: int, text: str, colour: tuple[int, int, int] = _BLACK, scale: int = 2) -> None:
        """Digits and dots in the 3x5 font, top-left at (x, y)."""
        for index, char in enumerate(text):
            for row, bits in enumerate(_GLYPHS.get(char, (0, 0, 0, 0, 0))):
                for col in range(3):
                    if bits & (4 >> col):
                        self.dot(x + (index * 4 + col) * scale, y + row * scale, colour, scale)

    def png(self) -> bytes:
        """The buffer as a PNG file (8-bit RGB, no filtering)."""
        stride = self.width * 3
        raw = b"".join(b"\0" + self.pixels[y * stride : (y + 1) * stride] for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def loss_chart(train: Sequence[Point], valid: Sequence[Point]) -> bytes:
    """A PNG line chart of (step, loss) series: training in blue, validation in orange with dots."""
    canvas = Canvas(WIDTH, HEIGHT)
    points = [*train, *valid]
    left, right = _MARGIN_LEFT, WIDTH - _MARGIN_RIGHT
    top, bottom = _MARGIN_TOP, HEIGHT - _MARGIN_BOTTOM
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        row = round(bottom - (bottom - top) * fraction)
        canvas.line((left, row), (right, row), _GREY, 1)
    canvas.line((left, top), (left, bottom), _BLACK, 1)
    if not points:
        return canvas.png()
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    y_low, y_high = 0.0, float(max(p[1] for p in points)) or 1.0

    def at(point: Point) -> Point:
        x = left + (right - left) * (point[0] - x_low) / ((x_high - x_low) or 1.0)
        return x, bottom - (bottom - top) * (point[1] - y_low) / (y_high - y_low)

    for series, colour in ((train, TRAIN_COLOUR), (valid, VALID_COLOUR)):
        for first, second in itertools.pairwise(series):
            canvas.line(at(first), at(second), colour)
    for point in valid:
        x, y = at(point)
        canvas.dot(round(x) - 2, round(y) - 2, VALID_COLOUR, 5)
    canvas.text(4, top, f"{y_high:.2f}")
    canvas.text(4, bottom - 10, "0")
    canvas.text(left, bottom + 8, f"{int(x_low)}")
    label = f"{int(x_high)}"
    canvas.text(right - len(label) * 8, bottom + 8, label)
    return canvas.png()


def write_loss_chart(path: Path, train: Sequence[Point], valid: Sequence[Point]) -> None:
    """Write loss.png for the given series."""
    path.write_bytes(loss_chart(train, valid))
