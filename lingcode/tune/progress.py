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
    """Step n/N, loss, tokens/s and ETA; the ETA comes from the pace of this process's steps (a resumed run's
    earlier steps and the model's loading do not count)."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = max(1, total // 20)
        self.first: tuple[int, float] | None = None  # (step, time) of the first step this process reported

    def step(self, step: int, loss: float, tokens_per_s: float, valid_loss: float | None = None) -> None:
        """Report a finished step (1-based)."""
        now = time.perf_counter()
        if self.first is None:
            self.first = (step, now)
        done, elapsed = step - self.first[0], now - self.first[1]
        eta = clock(elapsed / done * (self.total - step)) if done > 0 else "?"
        line = f"step {step}/{self.total}  loss {loss:.3f}  {tokens_per_s:.0f} tokens/s  ETA {eta}"
        if valid_loss is not None:
            line += f"  valid loss {valid_loss:.3f}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{line}" + ("\n" if step == self.total else ""))
        elif done == 0 or step % self.every == 0 or step == self.total or valid_loss is not None:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A line of its own (resuming, skipped samples), not overwritten by the next step."""
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(message + "\n")
        self.stream.flush()
