"""Apply a reply's edits to a repository all or nothing: check and compute everything in memory, then write
through the journal so that a failure (or a kill) leaves every file as it was."""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lingcode.edit import build, journal
from lingcode.edit.journal import Change, ReplaceFn
from lingcode.edit.paths import UnsafePath, check_location, check_regular, normalize
from lingcode.edit.result import ApplyResult, FileResult, Status
from lingcode.edit.text import TextFile, Unreadable
from lingcode.edit.types import (
    CreateFile,
    DeleteFile,
    Edit,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
)


class _Rejected(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


@dataclass
class _State:
    """One file as the reply has changed it so far; `text` None means it does not exist (now)."""

    original: bytes | None
    mode: int | None
    text: TextFile | None
    status: Status | None = None
    new_path: str | None = None


def recover_interrupted(root: Path) -> list[str]:
    """Roll back an apply that was killed half way; return the repository-relative paths restored."""
    return journal.recover(Path(root))


def apply_edits(
    edits: list[Edit],
    root: Path,
    *,
    dry_run: bool = False,
    expected_hashes: Mapping[str, str] | None = None,
    replace: ReplaceFn = os.replace,
) -> ApplyResult:
    """Apply every edit or none. `expected_hashes` maps paths to the sha256 of the bytes lingcode read, so a
    file changed since is refused; `replace` is the seam the final renames go through (a test seam)."""
    root = Path(root).resolve()
    recover_interrupted(root)
    planner = _Planner(root, expected_hashes or {})
    try:
        for edit in edits:
            planner.add(edit)
    except _Rejected as exc:
        return _rejected(planner, exc)
    changes, files = planner.changes()
    diff = planner.diff()
    if not dry_run and changes:
        try:
            journal.commit(root, changes, replace)
        except OSError as exc:  # the journal has already put every file back
            reason = f"could not write the files ({exc.strerror or exc}); nothing was changed"
            return ApplyResult([FileResult(item.path, "rejected", reason) for item in files], "")
    return ApplyResult(files, diff)


SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
MAX_WALK = 20_000


def _same_name(root: Path, name: str) -> list[str]:
    """Up to 3 files named `name` in the repository, found by a bounded walk (for 'did you mean')."""
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        seen += len(files)
        if name in files:
            found.append((Path(folder) / name).relative_to(root).as_posix())
        if len(found) >= 3 or seen > MAX_WALK:
            break
    return found


def block_lines(text: str) -> list[str]:
    """Lines of block text split on newlines only (a form feed or U+2028 inside a line stays in it)."""
    if not text:
        return []
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


def _rejected(planner: _Planner, exc: _Rejected) -> ApplyResult:
    files = [FileResult(exc.path, "rejected", exc.reason)]
    files += [
        FileResult(path, "rejected", "not applied because another edit in the reply was rejected")
        for path, state in planner.states.items()
        if path != exc.path and state.status is not None
    ]
    return ApplyResult(files, "")


class _Planner:
    """Applies edits to in-memory copies of the files they touch."""

    def __init__(self, root: Path, hashes: Mapping[str, str]) -> None:
        self.root = root
        self.hashes = hashes
        self.states: dict[str, _State] = {}
        self.blocks: dict[str, int] = {}

    def add(self, edit: Edit) -> None:
        path = self._safe(edit.path)
        state = self._load(path)
        if isinstance(edit, SearchReplace | UnifiedDiff):
            self._patch(path, state, edit)
        elif isinstance(edit, WholeFile | CreateFile):
            self._write_whole(path, state, edit)
        elif isinstance(edit, DeleteFile):
            if state.text is None:
                raise _Rejected(path, "cannot delete it: no such file")
            state.text, state.status = None, "deleted"
        elif isinstance(edit, RenameFile):
            self._rename(path, state, edit)

    def _safe(self, path: str) -> str:
        try:
            rel = normalize(path)
            check_location(self.root, rel)
        except UnsafePath as exc:
            raise _Rejected(path, f"refused: {exc}.") from None
        return rel

    def _load(self, path: str) -> _State:
        if path in self.states:
            return self.states[path]
        full = self.root / path
        try:
            info = check_regular(full)
        except UnsafePath as exc:
            raise _Rejected(path, f"refused: {exc}.") from None
        if info is None:
            state = _State(None, None, None)
        else:
            data = full.read_bytes()
            expected = self.hashes.get(path)
            if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                raise _Rejected(
                    path,
                    "refused: the file changed on disk since it was read (someone edited it); "
                    "read it again and redo the edit against its current content.",
                )
            try:
                text = TextFile.decode(data)
            except Unreadable as exc:
                raise _Rejected(path, f"refused: {exc}.") from None
            state = _State(data, info.st_mode & 0o7777, text)
        self.states[path] = state
        return state

    def _block(self, path: str) -> str:
        self.blocks[path] = self.blocks.get(path, 0) + 1
        return f"block {self.blocks[path]}"

    def _patch(self, path: str, state: _State, edit: SearchReplace | UnifiedDiff) -> None:
        if state.text is None:
            raise _Rejected(path, self._missing(path))
        text = state.text
        try:
            if isinstance(edit, SearchReplace):
                start, end, new = build.search_replace(
                    text.lines, block_lines(edit.search), block_lines(edit.replace), self._block(path)
                )
                text.replace(start, end, new)
            else:
                offset = 0
                for item in edit.hunks:
                    start, end, new = build.hunk(text.lines, item, self._block(path), offset)
                    text.replace(start, end, new)
                    offset += len(new) - (end - start)
        except build.BlockRejected as exc:
            raise _Rejected(path, str(exc)) from None
        problem = text.unencodable()
        if problem is not None:
            raise _Rejected(path, f"refused: {problem}.")
        state.status = state.status or "modified"

    def _missing(self, path: str) -> str:
        names = _same_name(self.root, Path(path).name)
        hint = f" Did you mean {', '.join(names[:3])}?" if names else ""
        return (
            f"no such file.{hint} Edit only files that exist (paths relative to the repository root); "
            "to create a file, send it with an empty SEARCH section."
        )

    def _write_whole(self, path: str, state: _State, edit: WholeFile | CreateFile) -> None:
        if state.text is None:
            state.text = TextFile.from_text(edit.content)
            state.status = "created" if state.original is None else "modified"
            return
        if isinstance(edit, CreateFile) and state.text.lines:
            raise _Rejected(
                path, "cannot create it: the file already exists; change it with SEARCH/REPLACE blocks."
            )
        state.text.set_text(edit.content)
        problem = state.text.unencodable()
        if problem is not None:
            raise _Rejected(path, f"refused: {problem}.")
        state.status = state.status or "modified"

    def _rename(self, path: str, state: _State, edit: RenameFile) -> None:
        new_path = self._safe(edit.new_path)
        target = self._load(new_path)
        if state.text is None:
            raise _Rejected(path, "cannot rename it: no such file")
        if target.text is not None:
            raise _Rejected(path, f"cannot rename it: {new_path} already exists")
        target.text, target.mode, target.status = state.text, state.mode, "created"
        state.text, state.status, state.new_path = None, "renamed", new_path

    def changes(self) -> tuple[list[Change], list[FileResult]]:
        """The byte changes to write and the per-file results (files left as they were are omitted)."""
        changes: list[Change] = []
        files: list[FileResult] = []
        renamed_to = {state.new_path for state in self.states.values() if state.new_path}
        for path, state in self.states.items():
            data = state.text.encode() if state.text is not None else None
            if data == state.original:
                continue
            changes.append(Change(path, data, state.mode))
            if path not in renamed_to:
                files.append(FileResult(path, state.status or "modified", "", state.new_path))
        return changes, files

    def diff(self) -> str:
        """The unified diff of every change, with a/ and b/ prefixes."""
        parts: list[str] = []
        for path, state in self.states.items():
            encoding = state.text.encoding if state.text is not None else "utf-8"
            before = state.original.decode(encoding, "replace") if state.original is not None else ""
            after = state.text.text() if state.text is not None else ""
            if before == after and state.status != "renamed":
                continue
            old_name = f"a/{path}" if state.original is not None else "/dev/null"
            new_name = f"b/{path}" if state.text is not None else "/dev/null"
            lines = difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), old_name, new_name
            )
            parts.extend(
                line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
            )
        return "".join(parts)
