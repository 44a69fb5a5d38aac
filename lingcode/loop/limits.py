"""The run's limits: iterations, tokens, wall time, and repetition; each breach raises its own RunEnded."""

from __future__ import annotations

import re
import threading
import time
from types import TracebackType

from lingcode.config import LoopConfig
from lingcode.events import Usage
from lingcode.loop.outcomes import (
    IterationLimit,
    RepeatedEdit,
    RepeatedFailure,
    TokenLimit,
    Unparseable,
    WallTime,
)

__all__ = ["Deadline", "Limits", "failure_key"]

_VOLATILE = re.compile(r"\d+(\.\d+)?|0x[0-9a-f]+", re.IGNORECASE)


def failure_key(output: str) -> str:
    """Check output with numbers blanked (timings, addresses, pids), so reruns of a failure compare equal."""
    return _VOLATILE.sub("#", output)


def wall_time_message(seconds: float) -> str:
    """The message of a run that ran out of time."""
    return f"the run took longer than its wall-time limit ({seconds:g}s)"


class Limits:
    """Counts what a run has used and raises when a limit is reached."""

    def __init__(self, config: LoopConfig, max_iterations: int | None = None) -> None:
        self.config = config
        self.max_iterations = max_iterations or config.max_iterations
        self.started = time.monotonic()
        self.iterations = 0
        self.usage = Usage()
        self.format_errors = 0
        self.context_requests = 0
        self._edits: list[str] = []
        self._failures: list[str] = []

    def remaining_time(self) -> float:
        """Seconds left before the wall-time limit."""
        return self.config.wall_time - (time.monotonic() - self.started)

    def check_time(self) -> None:
        """Raise WallTime when the run has taken too long."""
        if self.remaining_time() <= 0:
            raise WallTime(wall_time_message(self.config.wall_time))

    def add_usage(self, usage: Usage) -> None:
        """Count a reply's tokens; raise TokenLimit once the run's budget is spent."""
        self.usage = self.usage + usage
        used = self.usage.prompt_tokens + self.usage.completion_tokens
        if used >= self.config.max_total_tokens:
            raise TokenLimit(f"the run used {used} tokens (limit {self.config.max_total_tokens})")

    def edit_round(self, edits_key: str) -> None:
        """Count a reply with edits; raise RepeatedEdit on the same edits `repeat_limit` times in a row."""
        self.iterations += 1
        self.format_errors = 0
        if _repeats(self._edits, edits_key, self.config.repeat_limit):
            raise RepeatedEdit(f"the model sent the same edits {self.config.repeat_limit} times in a row")

    def next_round(self) -> None:
        """Raise IterationLimit when no edit round is left."""
        if self.iterations >= self.max_iterations:
            raise IterationLimit(f"the checks still fail after {self.iterations} rounds of edits")

    def failure(self, output: str) -> None:
        """Record failing check output; raise RepeatedFailure on one failure `repeat_limit` times in a row."""
        if _repeats(self._failures, failure_key(output), self.config.repeat_limit):
            raise RepeatedFailure(f"the checks failed the same way {self.config.repeat_limit} times in a row")

    def format_error(self, message: str) -> None:
        """Count an unreadable reply; raise Unparseable when the retries are spent."""
        self.format_errors += 1
        if self.format_errors > self.config.max_format_retries:
            raise Unparseable(f"the model's replies could not be read as edits: {message}")

    def context_request(self) -> bool:
        """Count a request for more context; False when the run's allowance is spent."""
        if self.context_requests >= self.config.max_context_requests:
            return False
        self.context_requests += 1
        return True


def _repeats(history: list[str], key: str, limit: int) -> bool:
    if history and history[-1] != key:
        history.clear()
    history.append(key)
    return len(history) >= limit


class Deadline:
    """An event set when the caller cancels or the wall time runs out, so a long model call stops in time."""

    def __init__(self, seconds: float, cancel: threading.Event | None) -> None:
        self.event = threading.Event()
        self._end = time.monotonic() + seconds
        self._cancel = cancel
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lingcode-deadline", daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if (self._cancel is not None and self._cancel.is_set()) or time.monotonic() >= self._end:
                self.event.set()
                return

    @property
    def expired(self) -> bool:
        """True when the wall time ran out (rather than the caller cancelling)."""
        return time.monotonic() >= self._end and not (self._cancel is not None and self._cancel.is_set())

    def __enter__(self) -> Deadline:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()
