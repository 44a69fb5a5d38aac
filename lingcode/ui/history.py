"""Input history that outlives a session: one file per repository, inside its git directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

MAX_ENTRIES = 500


def history_path(root: Path) -> Path | None:
    """Where the input history of the repository at root lives (<git dir>/lingcode/input_history), or None."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return Path(result.stdout.strip()) / "lingcode" / "input_history"


class InputHistory:
    """Earlier inputs, newest last, with a cursor for Up/Down; saved as JSON lines when a path is given."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[str] = self._load()
        self._cursor = len(self.entries)
        self._draft = ""

    def _load(self) -> list[str]:
        if self.path is None:
            return []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        entries: list[str] = []
        for line in lines:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash is skipped, not fatal
            if isinstance(item, str):
                entries.append(item)
        return entries[-MAX_ENTRIES:]

    def add(self, text: str) -> None:
        """Remember an input (not a repeat of the last one) and reset the cursor."""
        self._cursor = len(self.entries)
        if not text.strip() or (self.entries and self.entries[-1] == text):
            return
        self.entries.append(text)
        self.entries = self.entries[-MAX_ENTRIES:]
        self._cursor = len(self.entries)
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            body = "".join(json.dumps(e) + "\n" for e in self.entries)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(self.path)  # a whole file or the old one, never half of one
        except OSError:
            pass  # history is a convenience; a read-only git dir must not break the session

    def previous(self, current: str) -> str | None:
        """The input before the cursor (keeping what was being typed), or None at the oldest."""
        if self._cursor == len(self.entries):
            self._draft = current
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str | None:
        """The input after the cursor, the draft past the newest, or None when already there."""
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        return self._draft if self._cursor == len(self.entries) else self.entries[self._cursor]
