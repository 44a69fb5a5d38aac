"""The status bar: model and server, speed, time to first token, cached prompt share, tokens, elapsed."""

from __future__ import annotations

from textual.widgets import Static

from lingcode.ui.metrics import Metrics


class StatusBar(Static):
    """One line at the bottom of the screen, redrawn from a Metrics and the elapsed time."""

    def show(self, metrics: Metrics, elapsed_s: float, busy: str = "") -> None:
        """Redraw with the current numbers; `busy` names what is running (e.g. "thinking")."""
        line = metrics.render(elapsed_s)
        self.update(f"[reverse] {busy} [/reverse] {line}" if busy else line)
