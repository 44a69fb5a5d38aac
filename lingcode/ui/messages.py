"""Messages that carry the loop's events and the results of worker threads back to the screen.

Everything a worker sends goes through `post_message`, one queue, so a job's result never overtakes the
events the job emitted before it finished.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass(frozen=True)
class Job:
    """A blocking Session call waiting to run in a worker, what handles its result, and its cancel event."""

    label: str
    call: Callable[[], Any]
    then: Callable[[Any], Awaitable[None]] | None = None
    cancel: threading.Event | None = None


class LoopEvent(Message):
    """One event from lingcode.events, emitted by the Session in a worker thread."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class Progress(Message):
    """A progress line while the backend opens (e.g. the embedded server starting)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class JobDone(Message):
    """A job finished in its worker; `then` handles its result on the screen's thread."""

    def __init__(self, label: str, result: Any, then: Callable[[Any], Awaitable[None]] | None) -> None:
        super().__init__()
        self.label = label
        self.result = result
        self.then = then


class JobFailed(Message):
    """A job raised; the screen shows it as a notice."""

    def __init__(self, label: str, error: BaseException) -> None:
        super().__init__()
        self.label = label
        self.error = error
