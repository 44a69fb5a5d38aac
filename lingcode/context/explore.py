"""Exploring a repository for a model that asks: line ranges, directory listings, text search, references.

Every answer is read through the context engine's file listing (tracked and untracked-but-not-ignored files,
no symlinks, no vendored or binary files, no secret-bearing names) and `files.safe_path` (never outside the
root), and every line is redacted. A request the listing does not allow raises UsageError with a short
message for the model; none of these functions reads a path the listing does not name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import regex

from lingcode.context.files import classify, list_files, read_file_for_prompt
from lingcode.context.secrets import is_denied, redact
from lingcode.errors import UsageError

__all__ = ["SearchLimits", "callers", "list_directory", "read_lines", "search_tree"]

MAX_LINE_CHARS = 200
"""A found line is cut to this many characters (minified or generated lines say nothing useful past it)."""
MAX_PATTERN_CHARS = 200
MAX_ENTRIES = 200
"""Most entries of one directory listing."""


@dataclass(frozen=True)
class SearchLimits:
    """Bounds of one search: results shown, time spent, and the largest file read."""

    max_hits: int = 50
    seconds: float = 2.0
    """Wall time for the whole search, the regular expression's own matching included."""
    max_file_bytes: int = 1_000_000


def relative_path(path: str) -> str:
    """A request's path as a clean repo-relative POSIX path; UsageError if it is absolute or climbs out."""
    text = path.strip().strip("`'\"").replace("\\", "/")
    pure = PurePosixPath(text)
    if text.startswith("/") or pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise UsageError(f"{path}: absolute paths are refused; give a path inside the repository")
    if ".." in pure.parts:
        raise UsageError(f"{path}: refused, it leaves the repository")
    clean = "/".join(part for part in pure.parts if part not in ("", "."))
    if is_denied(clean) or ".git" in pure.parts:
        raise UsageError(f"{path}: refused, it may hold secrets")
    return clean


def read_lines(root: Path, path: str, start: int, end: int, max_lines: int) -> tuple[str, str]:
    """(title, numbered lines `start`..`end` of a file), at most `max_lines` of them; UsageError when the
    path is refused or the range is empty."""
    clean = relative_path(path)
    lines = read_file_for_prompt(root, clean).splitlines()
    if start < 1 or end < start:
        raise UsageError(f"{path}: bad line range {start}-{end} (lines count from 1)")
    if start > len(lines):
        raise UsageError(f"{clean} has {len(lines)} lines; line {start} does not exist")
    last = min(end, len(lines), start + max_lines - 1)
    width = len(str(last))
    body = "\n".join(f"{n:>{width}}| {lines[n - 1]}" for n in range(start, last + 1))
    note = ""
    if last < min(end, len(lines)):
        shown = last - start + 1
        note = f"\n(showing {shown} lines, the most one request shows; ask for {last + 1}-{end} next)"
    return f"{clean} lines {start}-{last} of {len(lines)}", body + note


def list_directory(root: Path, path: str) -> tuple[str, str]:
    """(title, the files and sub-folders lingcode may read in one folder); folders end with `/` and say how
    many files they hold."""
    clean = relative_path(path) if path.strip() not in ("", ".", "./") else ""
    prefix = f"{clean}/" if clean else ""
    files: list[str] = []
    folders: dict[str, int] = {}
    for candidate in list_files(root).paths:
        if not candidate.startswith(prefix):
            continue
        rest = candidate[len(prefix) :]
        head, slash, _ = rest.partition("/")
        if slash:
            folders[head] = folders.get(head, 0) + 1
        else:
            files.append(head)
    if not files and not folders:
        raise UsageError(f"{path}: no such folder (or nothing in it lingcode may read)")
    entries = [f"{name}/ ({count} files)" for name, count in sorted(folders.items())] + sorted(files)
    shown = entries[:MAX_ENTRIES]
    more = f"\n(and {len(entries) - len(shown)} more)" if len(entries) > len(shown) else ""
    return f"{clean or '.'}/", "\n".join(shown) + more


def compile_pattern(pattern: str, is_regex: bool) -> regex.Pattern[str]:
    """The pattern to search for (a literal is escaped); UsageError for an empty, long or invalid one."""
    if not pattern.strip():
        raise UsageError("empty search")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UsageError(f"search pattern too long ({len(pattern)} characters, at most {MAX_PATTERN_CHARS})")
    try:
        # MULTILINE: a file is first searched whole (to skip it fast), then line by line; `^` and `$` must
        # mean a line's start and end in both
        return regex.compile(pattern if is_regex else regex.escape(pattern), regex.MULTILINE)
    except regex.error as exc:
        raise UsageError(f"bad regular expression: {exc}") from None


def search_tree(root: Path, pattern: str, *, is_regex: bool, limits: SearchLimits) -> tuple[str, str]:
    """(title, `path:line: text` for each matching line), ripgrep-like, in path order, capped by `limits`.

    Matching runs on the `regex` engine with a timeout, so a pattern that backtracks catastrophically ends
    the search with a note instead of hanging the run."""
    compiled = compile_pattern(pattern, is_regex)
    title = f"search {'regex' if is_regex else 'text'} {pattern!r}"
    deadline = time.monotonic() + limits.seconds
    hits: list[str] = []
    stopped = ""
    try:
        for hit in _matches(root, compiled, deadline, limits):
            hits.append(hit)
            if len(hits) >= limits.max_hits:
                stopped = f"(stopped at {limits.max_hits} matches: narrow the search)"
                break
    except TimeoutError:
        stopped = f"(stopped after {limits.seconds:g}s: the search took too long; simplify the pattern)"
    if not hits:
        return title, stopped or "(no matches)"
    return title, "\n".join(hits) + (f"\n{stopped}" if stopped else "")


def _matches(
    root: Path, compiled: regex.Pattern[str], deadline: float, limits: SearchLimits
) -> Iterator[str]:
    """Matching lines of every readable candidate file; TimeoutError once the deadline passes."""
    base = root.resolve()
    for path in list_files(base).paths:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        text = _readable(base, path, limits.max_file_bytes)
        if text is None or compiled.search(text, timeout=left) is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if compiled.search(line, timeout=max(deadline - time.monotonic(), 0.001)) is not None:
                yield f"{path}:{number}: {redact(line.strip())[:MAX_LINE_CHARS]}"


def _readable(root: Path, path: str, max_bytes: int) -> str | None:
    """A listed file's text, or None when it is unreadable, binary, minified or too large."""
    full = root / path
    try:
        if not full.resolve().is_relative_to(root):
            return None  # a folder on the way is a symlink out of the tree: never follow it
        data = full.read_bytes()
    except (OSError, RuntimeError):
        return None
    if classify(path, data, max_bytes) not in ("", "generated"):
        return None
    return data.decode("utf-8", errors="replace")


def callers(root: Path, name: str, limits: SearchLimits) -> tuple[str, str]:
    """(title, `path:line: text` of each place that uses `name`), from the files the reference index says
    use it; the name's own definition lines are left out."""
    from lingcode.context.engine import snapshot

    leaf = name.strip().replace("::", ".").split(".")[-1]
    if not leaf.isidentifier():
        raise UsageError(f"{name}: not a symbol name")
    snap = snapshot(root, progress=False, terms=False)  # callers need references, not word counts
    try:
        users = [rec.path for rec in snap.records if leaf in rec.refs_text and leaf in rec.references]
    finally:
        snap.conn.close()
    title = f"references to {leaf}"
    if not users:
        return title, "(no references found in the reference index)"
    word = regex.compile(rf"\b{regex.escape(leaf)}\b")
    definition = regex.compile(rf"^\s*(?:async\s+)?(?:def|class|function|func|fn)\s+{regex.escape(leaf)}\b")
    hits: list[str] = []
    base = root.resolve()
    for path in users:
        text = _readable(base, path, limits.max_file_bytes)
        for number, line in enumerate((text or "").splitlines(), 1):
            if word.search(line) and not definition.search(line):
                hits.append(f"{path}:{number}: {redact(line.strip())[:MAX_LINE_CHARS]}")
        if len(hits) >= limits.max_hits:
            more = f"\n(stopped at {limits.max_hits} references in {len(users)} files)"
            return title, "\n".join(hits[: limits.max_hits]) + more
    return title, "\n".join(hits) or "(no references found in the reference index)"
