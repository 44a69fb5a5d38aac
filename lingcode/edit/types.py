"""The edits a model reply can hold, as frozen values, and the error for replies that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

HunkOp = Literal[" ", "-", "+"]


class FormatError(Exception):
    """A reply held edit-like markers that do not form valid edits; `message` is written for the model."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SearchReplace:
    """Replace the lines `search` with `replace` in `path`; both are whole lines, each ending in a newline."""

    path: str
    search: str
    replace: str


@dataclass(frozen=True)
class Hunk:
    """One hunk of a unified diff: `(op, text)` lines, op one of ' ', '-', '+'; `old_start` is only a hint."""

    lines: tuple[tuple[HunkOp, str], ...]
    old_start: int | None = None

    @property
    def old_lines(self) -> list[str]:
        """The lines the hunk expects to find (context and removed)."""
        return [text for op, text in self.lines if op != "+"]

    @property
    def new_lines(self) -> list[str]:
        """The lines the hunk leaves behind (context and added)."""
        return [text for op, text in self.lines if op != "-"]


@dataclass(frozen=True)
class UnifiedDiff:
    """A unified diff of one existing file: hunks applied in order."""

    path: str
    hunks: tuple[Hunk, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WholeFile:
    """The complete new content of `path` (which may or may not exist yet)."""

    path: str
    content: str


@dataclass(frozen=True)
class CreateFile:
    """Create `path` with `content`; refused when a non-empty file is already there."""

    path: str
    content: str


@dataclass(frozen=True)
class DeleteFile:
    """Delete the existing file `path`."""

    path: str


@dataclass(frozen=True)
class RenameFile:
    """Move the existing file `path` to `new_path` (which must not exist)."""

    path: str
    new_path: str


Edit = SearchReplace | UnifiedDiff | WholeFile | CreateFile | DeleteFile | RenameFile
