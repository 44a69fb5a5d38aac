"""A request the model made for more context, as one collapsed line that opens onto the answer it got."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Collapsible, Static

from lingcode.events import ContextRequested

MAX_SHOWN_LINES = 60
"""Lines of an answer shown when opened (the model got all of it; the screen needs only a look)."""


class ContextRequestLine(Collapsible):
    """`asked: <kind> <target>` collapsed; opened, the answer. Refused or empty answers are marked."""

    def __init__(self, event: ContextRequested) -> None:
        lines = event.answer.splitlines()
        shown = "\n".join(lines[:MAX_SHOWN_LINES])
        if len(lines) > MAX_SHOWN_LINES:
            shown += f"\n… {len(lines) - MAX_SHOWN_LINES} more lines"
        super().__init__(
            Static(Text(f"{event.title}\n{shown}"), classes="context-answer"),
            title=f"asked: {event.kind} {event.target}" + ("" if event.answered else " (not answered)"),
            collapsed=True,
            classes="context-request" + ("" if event.answered else " refused"),
        )
        self.event = event
