"""A notice in the conversation: information, a warning, or an error with what to do next."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

_MARKS = {"info": "•", "warning": "!", "error": "✗"}


class NoticeBlock(Static):
    """One notice; its level ("info", "warning", "error") is also its CSS class."""

    def __init__(self, message: str, level: str = "info", hint: str = "") -> None:
        text = Text(f"{_MARKS.get(level, '•')} {message}")
        if hint:
            text.append(f"\n  → {hint}", style="italic")
        super().__init__(text, classes=f"notice {level}")
        self.message = message
        self.level = level
        self.hint = hint
