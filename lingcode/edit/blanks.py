"""Blank-line bookkeeping for the blank-insensitive matching level."""

from __future__ import annotations

import itertools


def map_blank_lines(old: list[str], mapping: list[int | None], lines: list[str]) -> None:
    """Pair the old text's blank lines with the file's blank lines between the same matched lines, in order
    (so a blank line both have is not mistaken for one the old text left out)."""
    placed = [i for i, index in enumerate(mapping) if index is not None]
    if not placed:
        return
    bounds = [(-1, placed[0]), *itertools.pairwise(placed), (placed[-1], len(old))]
    for low, high in bounds:
        blanks = [i for i in range(low + 1, high) if not old[i].strip()]
        file_low = mapping[low] if low >= 0 else None
        file_high = mapping[high] if high < len(old) else None
        free: list[int] = []
        if file_low is not None and file_high is not None:
            free = [index for index in range(file_low + 1, file_high) if not lines[index].strip()]
        elif file_high is not None:  # leading blank lines: the file's run just before the match
            index = file_high - 1
            while index >= 0 and not lines[index].strip() and len(free) < len(blanks):
                free.insert(0, index)
                index -= 1
            blanks = blanks[len(blanks) - len(free) :]
        elif file_low is not None:  # trailing blank lines: the file's run just after
            index = file_low + 1
            while index < len(lines) and not lines[index].strip() and len(free) < len(blanks):
                free.append(index)
                index += 1
        for i, index in zip(blanks, free, strict=False):
            mapping[i] = index
