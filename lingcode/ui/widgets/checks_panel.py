"""The checks panel: the test command's live output, a pass/fail summary and the iteration count."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, Static

from lingcode.events import CheckFinished

MAX_LINES = 2000


class ChecksPanel(Vertical):
    """Live output of the running check and the summary of the last one."""

    def __init__(self, *, show_timings: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.show_timings = show_timings
        self.iteration = 0
        self.state = "idle"

    def compose(self) -> ComposeResult:
        yield Static("Checks", classes="panel-title")
        yield Static(Text("no checks run yet: /test", style="dim"), classes="checks-summary")
        yield Log(max_lines=MAX_LINES, classes="checks-log")

    def started(self, command: str, iteration: int) -> None:
        """A check run began: clear the log and say what runs."""
        self.iteration = iteration
        self.state = "running"
        self.set_class(False, "passed", "failed")
        self.query_one(Log).clear()
        self._summary(Text(f"… running {command}", style="bold"))

    def output(self, line: str) -> None:
        """Add one line of live output."""
        self.query_one(Log).write_line(line)

    def finished(self, event: CheckFinished) -> None:
        """A check run ended: show pass/fail and why."""
        self.state = "passed" if event.passed else "failed"
        self.set_class(event.passed, "passed")
        self.set_class(not event.passed, "failed")
        if event.passed:
            text = Text("✓ tests pass", style="bold green")
        elif event.timed_out:
            text = Text("✗ timed out", style="bold red")
        else:
            text = Text(f"✗ tests fail (exit {event.returncode})", style="bold red")
        if self.show_timings:
            text.append(f" in {event.duration_s:.1f}s", style="dim")
        self._summary(text)
        log = self.query_one(Log)
        if not log.line_count and event.output:
            # a runner that gave no live lines still shows its output
            log.write_lines(event.output.splitlines())

    def _summary(self, text: Text) -> None:
        line = Text(f"iteration {self.iteration} · ", style="dim") if self.iteration else Text()
        line.append_text(text)
        self.query_one(".checks-summary", Static).update(line)
