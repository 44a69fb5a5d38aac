"""A unified diff with syntax colouring."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.widgets import Static


class DiffView(Static):
    """Shows one unified diff (one file or several), coloured as a diff."""

    def __init__(self, diff: str, *, classes: str = "") -> None:
        body = diff.rstrip("\n") or "(no changes)"
        syntax = Syntax(body, "diff", theme="ansi_dark", word_wrap=True, background_color="default")
        super().__init__(syntax, classes=f"diff-view {classes}".strip())
        self.diff = diff


def count_changes(diff: str) -> tuple[int, int]:
    """Lines added and removed by a unified diff (file headers not counted)."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed
