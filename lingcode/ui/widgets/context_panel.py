"""The context panel: which files the model sees and why, and how much of the token budget they use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from lingcode.ui.backend import RankedFileLike

BAR_WIDTH = 20


def budget_bar(tokens: int, budget: int, width: int = BAR_WIDTH) -> Text:
    """A text bar of tokens used out of the budget, red when over it."""
    share = tokens / budget if budget > 0 else 0.0
    filled = min(width, round(share * width))
    style = "red" if share > 1 else ("yellow" if share > 0.8 else "green")
    bar = Text("█" * filled, style=style)
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {tokens:,}/{budget:,}")
    return bar


class ContextPanel(Vertical):
    """Files in context with their reason; `d` drops the highlighted file, `a` starts an /add."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d,delete", "drop", "Drop file"),
        Binding("a", "add", "Add file"),
    ]

    class DropRequested(Message):
        """The user asked to drop a file from the context."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class AddRequested(Message):
        """The user asked to add a file (the app opens the prompt with /add)."""

    def __init__(self, budget: int, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.budget = budget
        self.tokens = 0
        self.paths: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("Context", classes="panel-title")
        yield Static(budget_bar(0, self.budget), classes="budget-bar")
        yield OptionList(classes="context-files")

    def on_mount(self) -> None:
        self.show([], 0)

    def show(self, files: Sequence[RankedFileLike], tokens: int) -> None:
        """Show a freshly built context."""
        self.tokens = tokens
        self.query_one(".budget-bar", Static).update(budget_bar(tokens, self.budget))
        options = self.query_one(OptionList)
        options.clear_options()
        self.paths = []
        for item in files:
            mark = "●" if item.included else "○"
            label = Text(f"{mark} {item.path} ")
            label.append(item.reason if item.included else f"{item.reason}, left out", style="dim")
            options.add_option(Option(label, id=item.path))
            self.paths.append(item.path)
        if not files:
            options.add_option(Option(Text("no files yet: /add PATH", style="dim"), disabled=True))

    def action_drop(self) -> None:
        """Drop the highlighted file."""
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is not None and index < len(self.paths):
            self.post_message(self.DropRequested(self.paths[index]))

    def action_add(self) -> None:
        """Ask the app to start an /add command."""
        self.post_message(self.AddRequested())
