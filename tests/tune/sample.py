"""A sample module and a temporary git repository holding it, shared by the tune tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCE = '''"""A small module with the kinds of code the breaks apply to."""


def clamp(value: int, low: int, high: int) -> int:
    """Keep value within [low, high]."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def window(items: list[int], size: int) -> list[list[int]]:
    """Every run of `size` consecutive items."""
    out = []
    for start in range(0, len(items) - size + 1):
        out.append(items[start : start + size])
    return out


def total(items: list[int]) -> int:
    """Sum of the clamped items."""
    result = 0
    for item in items:
        result = result + clamp(item, 0, 10)
    return result


def both(a: bool, b: bool) -> bool:
    """Whether both hold."""
    check = a and b
    return check == True
'''


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository at `root` with `files` (path -> text) added to its index."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root
