"""What lingcode changed in a run: each touched file's content before its first edit, and the diff so far."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingcode.edit import Edit

__all__ = ["Changes", "edit_paths"]


def edit_paths(edits: Sequence[Edit]) -> list[str]:
    """Every path a list of edits touches (both sides of a rename)."""
    paths: list[str] = []
    for edit in edits:
        paths.append(edit.path)
        new_path = getattr(edit, "new_path", None)
        if isinstance(new_path, str):
            paths.append(new_path)
    return paths


class Changes:
    """Remembers the original bytes of every file the run's edits touch (None: did not exist)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._original: dict[str, bytes | None] = {}

    def remember(self, paths: Iterable[str]) -> None:
        """Record the current bytes of paths not seen before (call before writing them)."""
        for rel in paths:
            if rel not in self._original:
                self._original[rel] = self._read(rel)

    def merge(self, other: Changes) -> None:
        """Take over the originals another tracker saw first (a loop run inside a session)."""
        for rel, before in other._original.items():
            self._original.setdefault(rel, before)

    def revert(self) -> None:
        """Give every touched file its original bytes back, all or none (a file the edits created goes)."""
        from lingcode.edit.journal import Change, commit

        changes = []
        for rel, before in self._original.items():
            if self._read(rel) != before:
                path = self.root / rel
                changes.append(Change(rel, before, path.stat().st_mode & 0o7777 if path.is_file() else None))
        if changes:
            commit(self.root, changes)

    def _read(self, rel: str) -> bytes | None:
        path = self.root / rel
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError:
            return None

    def changed(self) -> tuple[str, ...]:
        """Touched paths whose content now differs from the original, sorted."""
        return tuple(sorted(rel for rel, before in self._original.items() if self._read(rel) != before))

    def diff(self) -> str:
        """Unified diff (git style a/ b/) from the originals to the current files."""
        parts: list[str] = []
        for rel in self.changed():
            before = _text(self._original[rel])
            after = _text(self._read(rel))
            lines = difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"a/{rel}" if self._original[rel] is not None else "/dev/null",
                tofile=f"b/{rel}" if self._read(rel) is not None else "/dev/null",
            )
            parts.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
        return "".join(parts)


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")
