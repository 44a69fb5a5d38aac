"""What lingcode changed in a run: each touched file's content before its first edit, and the diff so far."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Changes"]


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
        """Give every touched file its original bytes back (a file the edits created is removed)."""
        for rel, before in self._original.items():
            path = self.root / rel
            if self._read(rel) == before:
                continue
            if before is None:
                path.unlink(missing_ok=True)
                continue
            mode = path.stat().st_mode & 0o7777 if path.is_file() else None
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.lingcode-revert")
            partial.write_bytes(before)
            if mode is not None:
                os.chmod(partial, mode)
            os.replace(partial, path)

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
