"""Training progress on stderr: one rewritten line on a terminal, plain lines (about 20 a run) otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def clock(seconds: float) -> str:
    """`h:mm:ss` (or `m:ss` under an hour) for an ETA."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Step n/N, loss, tokens/s and ETA; the ETA comes from the steps this process ran (not resumed ones)."""

    def __init__(self, total: int, first_step: int, stream: TextIO | None = None) -> None:
        self.total, self.first_step = total, first_step
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = max(1, total // 20)
        self.started = time.perf_counter()

    def step(self, step: int, loss: float, tokens_per_s: float, valid_loss: float | None = None) -> None:
        """Report a finished step (1-based)."""
        done = step - self.first_step
        elapsed = time.perf_counter() - self.started
        eta = elapsed / done * (self.total - step) if done > 0 else 0.0
        line = f"step {step}/{self.total}  loss {loss:.3f}  {tokens_per_s:.0f} tokens/s  ETA {clock(eta)}"
        if valid_loss is not None:
            line += f"  valid loss {valid_loss:.3f}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{line}" + ("\n" if step == self.total else ""))
        elif step % self.every == 0 or step == self.total or valid_loss is not None:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A line of its own (resuming, skipped samples), not overwritten by the next step."""
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(message + "\n")
        self.stream.flush()
