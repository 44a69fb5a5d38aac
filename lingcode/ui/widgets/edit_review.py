"""Review of proposed edits: a coloured diff per file, accepted or rejected per file or all at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from lingcode.ui.widgets.diff_view import DiffView, count_changes

KEYS = "↑↓ file · space accept/reject · enter apply · a accept all · r reject all"


class EditReview(Vertical, can_focus=True):
    """The files a reply would change; the user picks which to apply, then it posts `Decided`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Prev file", show=False),
        Binding("down,j", "move(1)", "Next file", show=False),
        Binding("space", "flip", "Accept/reject file"),
        Binding("y", "choose(True)", "Accept file", show=False),
        Binding("n", "choose(False)", "Reject file", show=False),
        Binding("enter", "apply", "Apply chosen"),
        Binding("a", "accept_all", "Accept all"),
        Binding("r", "reject_all", "Reject all"),
    ]

    cursor: reactive[int] = reactive(0)

    class Decided(Message):
        """The user decided: `accepted` files are to be applied, `rejected` ones reported to the model."""

        def __init__(self, review: EditReview, accepted: list[str], rejected: list[str]) -> None:
            super().__init__()
            self.review = review
            self.accepted = accepted
            self.rejected = rejected

    def __init__(self, diffs: Mapping[str, str]) -> None:
        super().__init__(classes="edit-review")
        self.diffs = dict(diffs)
        self.paths = list(self.diffs)
        self.accepted: set[str] = set(self.paths)
        self.decided = False
        self._rows = Static("", classes="review-files")

    def compose(self) -> ComposeResult:
        yield Static(f"Review edits to {len(self.paths)} file(s)", classes="review-title")
        yield self._rows
        yield Static(KEYS, classes="review-keys")
        for path in self.paths:
            yield DiffView(self.diffs[path], classes="review-diff")

    def on_mount(self) -> None:
        self._render_rows()

    def watch_cursor(self) -> None:
        self._render_rows()

    def _render_rows(self) -> None:
        text = Text()
        for index, path in enumerate(self.paths):
            added, removed = count_changes(self.diffs[path])
            mark = "✓" if path in self.accepted else "✗"
            pointer = "›" if index == self.cursor and not self.decided else " "
            style = "bold" if index == self.cursor and not self.decided else ""
            line = Text(f"{pointer} [{mark}] {path}  ", style=style)
            line.append(f"+{added}", style="green")
            line.append(" ")
            line.append(f"-{removed}", style="red")
            text.append_text(line)
            if index < len(self.paths) - 1:
                text.append("\n")
        self._rows.update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # once decided, the review is a record of what happened and takes no more keys
        return not self.decided

    def action_move(self, step: int) -> None:
        """Move the file cursor."""
        if self.paths:
            self.cursor = (self.cursor + step) % len(self.paths)

    def action_flip(self) -> None:
        """Flip the file under the cursor between accepted and rejected."""
        if self.paths:
            path = self.paths[self.cursor]
            self.action_choose(path not in self.accepted)

    def action_choose(self, accept: bool) -> None:
        """Accept or reject the file under the cursor, then move on."""
        if not self.paths:
            return
        path = self.paths[self.cursor]
        if accept:
            self.accepted.add(path)
        else:
            self.accepted.discard(path)
        self._render_rows()

    def action_apply(self) -> None:
        """Apply the accepted files; the others are rejected."""
        self._decide([p for p in self.paths if p in self.accepted])

    def action_accept_all(self) -> None:
        """Apply every file."""
        self.accepted = set(self.paths)
        self._decide(list(self.paths))

    def action_reject_all(self) -> None:
        """Apply nothing; the model is told on the next turn."""
        self.accepted = set()
        self._decide([])

    def _decide(self, accepted: list[str]) -> None:
        self.decided = True
        self.add_class("decided")
        self._render_rows()
        rejected = [p for p in self.paths if p not in accepted]
        self.query_one(".review-keys", Static).update(
            f"accepted {len(accepted)}, rejected {len(rejected)} file(s)"
        )
        self.refresh_bindings()
        self.post_message(self.Decided(self, accepted, rejected))
