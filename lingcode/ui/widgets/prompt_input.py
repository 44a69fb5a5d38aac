"""The prompt: one line of input with history (Up/Down) and completion of commands and paths (Tab)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from lingcode.ui.commands import CommandSuggester, complete
from lingcode.ui.history import InputHistory


class PromptInput(Input):
    """Where the user types tasks and /commands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Earlier input", show=False),
        Binding("down", "history(1)", "Later input", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(self, history: InputHistory, *, id: str | None = None, blink: bool = True) -> None:
        self.suggester_ = CommandSuggester()
        super().__init__(placeholder="Ask for a change, or /help", suggester=self.suggester_, id=id)
        self.history = history
        self.cursor_blink = blink

    def set_paths(self, paths: tuple[str, ...]) -> None:
        """Repository files offered as completions after /add and /drop."""
        self.suggester_.paths = paths

    def action_history(self, step: int) -> None:
        """Replace the input with an earlier (-1) or later (1) one."""
        text = self.history.previous(self.value) if step < 0 else self.history.next()
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def action_complete(self) -> None:
        """Complete the command or path; with nothing to complete, move focus on as Tab usually does."""
        completed = complete(self.value, self.suggester_.paths)
        if completed is None:
            self.screen.focus_next()
            return
        self.value = completed
        self.cursor_position = len(completed)
