"""The canonical text of an edit, as parse_reply reads it back (used in prompts' examples and tests)."""

from __future__ import annotations

import re

from lingcode.edit.types import (
    CreateFile,
    DeleteFile,
    Edit,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
)

_TICKS_RE = re.compile(r"^(`{3,})", re.MULTILINE)


def render_edit(edit: Edit) -> str:
    """The edit as reply text: a SEARCH/REPLACE block, a diff, a fenced file, or a DELETE/RENAME line."""
    if isinstance(edit, SearchReplace):
        return f"{edit.path}\n<<<<<<< SEARCH\n{edit.search}=======\n{edit.replace}>>>>>>> REPLACE\n"
    if isinstance(edit, CreateFile):
        return f"{edit.path}\n<<<<<<< SEARCH\n=======\n{edit.content}>>>>>>> REPLACE\n"
    if isinstance(edit, WholeFile):
        longest = max((len(match) for match in _TICKS_RE.findall(edit.content)), default=2)
        fence = "`" * max(3, longest + 1)
        return f"{edit.path}\n{fence}\n{edit.content}{fence}\n"
    if isinstance(edit, DeleteFile):
        return f"DELETE FILE: {edit.path}\n"
    if isinstance(edit, RenameFile):
        return f"RENAME FILE: {edit.path} -> {edit.new_path}\n"
    return _render_diff(edit)


def _render_diff(edit: UnifiedDiff) -> str:
    parts = [f"--- a/{edit.path}\n+++ b/{edit.path}\n"]
    for hunk in edit.hunks:
        old = sum(1 for op, _ in hunk.lines if op != "+")
        new = sum(1 for op, _ in hunk.lines if op != "-")
        start = hunk.old_start
        parts.append(f"@@ -{start},{old} +{start},{new} @@\n" if start is not None else "@@ @@\n")
        parts.extend(f"{op}{text}\n" for op, text in hunk.lines)
    return "".join(parts)
