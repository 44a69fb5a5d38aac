"""Events the agent loop emits. The UI, headless mode and the hook only consume these.

Frozen dataclasses, so a consumer can keep them without fearing that the loop changes them later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lingcode.model.reply import Usage as Usage  # defined beside Reply: the hook needs it, not the events


@dataclass(frozen=True)
class RunStarted:
    """A run began on a task."""

    task: str
    root: str


@dataclass(frozen=True)
class ContextBuilt:
    """The context engine chose what the model will see."""

    files: tuple[str, ...]
    tokens: int


@dataclass(frozen=True)
class ModelDelta:
    """A piece of streamed reply text; `reasoning` is True inside the reasoning section."""

    text: str
    reasoning: bool = False


@dataclass(frozen=True)
class ModelReplied:
    """A whole reply arrived, with its usage and timings."""

    text: str
    usage: Usage
    finish_reason: str | None
    ttft_s: float
    tokens_per_s: float


@dataclass(frozen=True)
class EditsProposed:
    """The reply parsed into edits; `diff` is the unified diff they would make."""

    files: tuple[str, ...]
    diff: str


@dataclass(frozen=True)
class EditsApplied:
    """Edits were written to the work tree."""

    files: tuple[str, ...]
    diff: str


@dataclass(frozen=True)
class EditsRejected:
    """Edits could not be applied; nothing changed. `message` is what the model is told."""

    message: str


@dataclass(frozen=True)
class CheckStarted:
    """A check command began."""

    command: str


@dataclass(frozen=True)
class CheckOutput:
    """A line of live check output."""

    line: str


@dataclass(frozen=True)
class CheckFinished:
    """A check command ended."""

    command: str
    passed: bool
    returncode: int | None
    timed_out: bool
    duration_s: float
    output: str


@dataclass(frozen=True)
class ContextRequested:
    """The model asked for more context (`kind` file, lines, symbol, callers, search, regex or list) and got
    `answer`; `answered` is False when the request was refused or found nothing."""

    kind: str
    target: str
    title: str
    answer: str
    answered: bool = True


@dataclass(frozen=True)
class Notice:
    """Something the user should read: a warning or a recoverable error, with what to do next."""

    message: str
    level: str = "info"


@dataclass(frozen=True)
class Finished:
    """The run ended."""

    status: str
    iterations: int
    tests_passed: bool | None
    files_changed: tuple[str, ...]
    usage: Usage
    timings: dict[str, float] = field(default_factory=dict)
    message: str = ""


Event = (
    RunStarted
    | ContextBuilt
    | ModelDelta
    | ModelReplied
    | EditsProposed
    | EditsApplied
    | EditsRejected
    | CheckStarted
    | CheckOutput
    | CheckFinished
    | ContextRequested
    | Notice
    | Finished
)

EventSink = Callable[[Any], None]
"""Where the loop sends its events; the UI posts them to the screen, headless mode writes them out."""
