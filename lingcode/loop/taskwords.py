"""What a task's own words ask for: files it names that do not exist yet, and whether it changes tests."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["edits_tests", "new_paths_named"]

_EDIT_TESTS = re.compile(
    r"\b(add|write|update|extend|create|rename|edit|change|modify|rewrite)\b[^.\n]{0,40}\btests?\b", re.I
)
_PATH_WORD = re.compile(r"\b[A-Za-z_][\w./-]*\.[A-Za-z]\w{0,7}\b|\b[\w.-]+/[\w./-]*\w")


def new_paths_named(task: str, root: Path) -> tuple[str, ...]:
    """Path-like words of the task (`src/x.py`, `notes.md`) that name no existing file under root."""
    found = []
    for word in _PATH_WORD.findall(task):
        rel = word.strip("./")
        if rel and ".." not in rel.split("/") and not (root / rel).exists():
            found.append(rel)
    return tuple(found)


def edits_tests(task: str) -> bool:
    """Whether the task asks to write or change tests ("add a test for ...", "update the tests")."""
    return bool(_EDIT_TESTS.search(task))
