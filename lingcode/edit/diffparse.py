"""Read one file's section of a unified diff (git style or plain) into edits; see parse.py for the grammar."""

from __future__ import annotations

import re

from lingcode.edit.types import (
    CreateFile,
    DeleteFile,
    Edit,
    FormatError,
    Hunk,
    HunkOp,
    RenameFile,
    UnifiedDiff,
)

HUNK_RE = re.compile(r"^@@(?:\s*-(\d+)(?:,\d+)?)?.*?@@")
DEV_NULL = "/dev/null"


def parse_diff_section(lines: list[str], pos: int) -> tuple[int, list[Edit]]:
    """Parse the diff starting at lines[pos]; return the index after it and the edits it holds."""
    renamed_from: str | None = None
    renamed_to: str | None = None
    deleted = False
    if lines[pos].startswith("diff --git "):
        pos += 1
        while pos < len(lines) and not lines[pos].startswith(("--- ", "diff --git ", "@@")):
            line = lines[pos]
            if line.startswith("rename from "):
                renamed_from = line[len("rename from ") :].strip()
            elif line.startswith("rename to "):
                renamed_to = line[len("rename to ") :].strip()
            elif line.startswith("deleted file mode"):
                deleted = True
            elif not line.startswith(("index ", "new file mode", "similarity", "old mode", "new mode")):
                break
            pos += 1
    edits: list[Edit] = []
    if renamed_from and renamed_to:
        edits.append(RenameFile(renamed_from, renamed_to))
    if pos + 1 >= len(lines) or not lines[pos].startswith("--- ") or not lines[pos + 1].startswith("+++ "):
        return pos, edits
    old_path = _header_path(lines[pos][4:], "a/")
    new_path = _header_path(lines[pos + 1][4:], "b/")
    pos, hunks = _hunks(lines, pos + 2)
    if new_path == DEV_NULL or deleted:
        edits.append(DeleteFile(old_path))
    elif old_path == DEV_NULL:
        content = "".join(f"{text}\n" for hunk in hunks for op, text in hunk.lines if op != "-")
        edits.append(CreateFile(new_path, content))
    elif hunks:
        edits.append(UnifiedDiff(new_path, tuple(hunks)))
    else:
        raise FormatError(
            f"the diff for {new_path} has no hunks: after the ---/+++ lines send @@ hunks whose lines "
            "start with ' ' (unchanged), '-' (removed) or '+' (added)."
        )
    return pos, edits


def _header_path(raw: str, prefix: str) -> str:
    path = raw.split("\t")[0].strip()
    if path != DEV_NULL and path.startswith(prefix):
        path = path[len(prefix) :]
    return path


def _hunks(lines: list[str], pos: int) -> tuple[int, list[Hunk]]:
    """Hunks from lines[pos] on; a hunk body without an @@ line is read as one hunk without a hint."""
    hunks: list[Hunk] = []
    while pos < len(lines):
        header = HUNK_RE.match(lines[pos])
        start: int | None = None
        if header is not None:
            start = int(header.group(1)) if header.group(1) else None
            pos += 1
        elif hunks or not _is_hunk_line(lines[pos]):
            break
        body: list[tuple[HunkOp, str]] = []
        while pos < len(lines):
            line = lines[pos]
            if line.startswith("--- ") and pos + 1 < len(lines) and lines[pos + 1].startswith("+++ "):
                break
            if line.startswith("\\"):
                pos += 1
                continue
            if line == "" and _more_hunk_lines(lines, pos + 1):
                body.append((" ", ""))
            elif line[:1] in (" ", "-", "+"):
                op: HunkOp = " " if line[0] == " " else ("-" if line[0] == "-" else "+")
                body.append((op, line[1:]))
            else:
                break
            pos += 1
        if body:
            hunks.append(Hunk(tuple(body), start))
    return pos, hunks


def _is_hunk_line(line: str) -> bool:
    return line[:1] in (" ", "-", "+") and not line.startswith(("--- ", "+++ "))


def _more_hunk_lines(lines: list[str], pos: int) -> bool:
    """Whether an empty line is followed (past other empty lines) by more lines of the same hunk."""
    while pos < len(lines) and lines[pos] == "":
        pos += 1
    return pos < len(lines) and _is_hunk_line(lines[pos]) and not lines[pos].startswith("diff --git")
