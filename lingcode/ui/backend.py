"""What the UI needs from the loop: the Session's shape, and the factory that opens one.

The UI depends on these protocols, not on lingcode.loop's classes, so it can be built and tested on its own
and the loop never has to know that a screen exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lingcode.events import EventSink


class ProposalLike(Protocol):
    """A model turn's result, as the UI reads it (lingcode.loop's Proposal)."""

    @property
    def reply(self) -> str: ...
    @property
    def reasoning(self) -> str: ...
    @property
    def diffs(self) -> Mapping[str, str]: ...
    @property
    def error(self) -> str | None: ...


class RankedFileLike(Protocol):
    """One file the context engine considered."""

    @property
    def path(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def included(self) -> bool: ...


class ContextLike(Protocol):
    """The context the model would see: its files and its size in tokens."""

    @property
    def files(self) -> Sequence[RankedFileLike]: ...
    @property
    def tokens(self) -> int: ...


class SessionLike(Protocol):
    """The interactive Session API (lingcode.loop.session.Session): blocking calls, for workers."""

    @property
    def named_files(self) -> list[str]: ...
    @property
    def history(self) -> list[dict[str, str]]: ...

    def add_files(self, paths: list[str]) -> list[str]: ...
    def drop_files(self, paths: list[str]) -> list[str]: ...
    def context(self, task: str = "") -> ContextLike: ...
    def ask(self, text: str, cancel: threading.Event | None = None) -> ProposalLike: ...
    def apply(self, proposal: Any, files: list[str] | None = None) -> Any: ...
    def run_checks(self, cancel: threading.Event | None = None) -> Any: ...
    def run_until_green(self, text: str, cancel: threading.Event | None = None) -> Any: ...
    def diff(self) -> str: ...
    def undo(self) -> str: ...
    def commit(self, message: str | None = None) -> str: ...
    def clear(self) -> None: ...
    def save(self) -> Path: ...


@dataclass(frozen=True)
class Backend:
    """An opened session and what the status bar says about the model behind it."""

    session: SessionLike
    model: str
    """The model's name, as the server reports it."""
    server: str
    """Where the model runs: a base URL or "embedded llama.cpp"."""
    about: str = ""
    """A longer description for /model: engine, context window, grammar support."""
    resumed: bool = False
    """Whether the session continues an earlier one (its history is shown on screen)."""


Progress = Callable[[str], None]
"""Receives one-line progress messages while a backend opens (e.g. while the embedded server starts)."""

SessionFactory = Callable[[EventSink, Progress], Backend]
"""Opens the model and the Session in a worker thread; raises a LingcodeError when it cannot."""
