"""loss.png is a valid PNG (chunks, CRCs, size) that shows both series in their colours."""

from __future__ import annotations

import struct
import zlib

from lingcode.tune.plot import HEIGHT, TRAIN_COLOUR, VALID_COLOUR, WIDTH, loss_chart


def decode(png: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB rows with their filter bytes) of an 8-bit RGB PNG, checking every chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, {}
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + length
    assert list(chunks)[-1] == b"IEND"
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    return width, height, zlib.decompress(chunks[b"IDAT"])


def test_chart_shows_both_series() -> None:
    train = [(step, 3.0 / step) for step in range(1, 101)]
    valid = [(0, 3.2), (50, 0.5), (100, 0.4)]
    width, height, raw = decode(loss_chart(train, valid))
    assert (width, height) == (WIDTH, HEIGHT) and len(raw) == height * (1 + 3 * width)
    pixels = b"".join(raw[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height))
    colours = {pixels[i : i + 3] for i in range(0, len(pixels), 3)}
    assert bytes(TRAIN_COLOUR) in colours and bytes(VALID_COLOUR) in colours


def test_empty_history_is_still_a_picture() -> None:
    assert decode(loss_chart([], []))[:2] == (WIDTH, HEIGHT)


def test_progress_lines_and_eta_after_a_resume() -> None:
    import io

    from lingcode.tune.progress import Progress

    stream = io.StringIO()
    progress = Progress(100, stream)
    for step in range(41, 46):  # resumed at step 40: the ETA comes from these steps alone
        progress.step(step, 0.5, 90.0, 0.4 if step == 45 else None)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "step 41/100  loss 0.500  90 tokens/s  ETA ?"
    assert lines[-1].startswith("step 45/100") and lines[-1].endswith("valid loss 0.400")
    assert len(lines) == 2  # not a terminal: every 5th step (100 / 20), plus evaluations and the first
