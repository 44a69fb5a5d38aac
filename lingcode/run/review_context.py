"""Related code for a review: callers of the touched functions and classes, and definitions of what the
changed lines call.

Callers come from one `git grep` over the same snapshot the review reads: the index for `--staged` (so
unstaged work never leaks into a hook's prompt), HEAD for `--base`, the work tree otherwise; cheap enough for
a pre-commit hook on a large repository. Definitions (signatures) come from the context engine's symbol
index; under `--staged`, files with unstaged changes are left out of them for the same reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from lingcode.config import Config
from lingcode.context.secrets import is_denied
from lingcode.run.review_diff import ReviewTarget, git_run, unstaged_paths

MAX_SYMBOLS = 20
"""Most touched names looked up (a huge change gains little from more)."""
MAX_HITS_PER_FILE = 4

_HIT_RE = re.compile(r"^(?P<path>.+?)\x00(?P<line>\d+)\x00(?P<text>.*)$")


def related_code(
    root: Path, config: Config, target: ReviewTarget, *, staged: bool, definitions: bool = True, limit: int
) -> str:
    """Callers (`path:line: text`) and definitions (`path:line: signature`) of what the change touches,
    in at most about `limit` characters."""
    parts: list[str] = []
    callers = _callers(root, target, staged=staged, limit=limit)
    if callers:
        parts.append("Uses of the changed functions and classes:\n" + callers)
    if definitions:
        found = _definitions(root, config, target, staged=staged, limit=limit - len(callers))
        if found:
            parts.append("Definitions of what the changed lines call:\n" + found)
    return "\n\n".join(parts)


def _callers(root: Path, target: ReviewTarget, *, staged: bool, limit: int) -> str:
    symbols = target.symbols()[:MAX_SYMBOLS]
    if not symbols:
        return ""
    patterns = [arg for name in symbols for arg in ("-e", name)]
    skip = [f":(exclude,literal){path}" for path in target.paths]
    if target.mode.startswith("base:"):
        out = _grep(root, ["HEAD"], patterns, ["."], skip)
    elif staged:
        # Reading every blob from the object store is slow on a large repository; a file whose work-tree
        # copy equals its staged one is grepped in the work tree, and only the others in the index.
        dirty = [p for p in git_run(root, "diff", "--name-only", "-z", check=False).split("\0") if p]
        out = _grep(root, [], patterns, ["."], skip + [f":(exclude,literal){p}" for p in dirty])
        if dirty:
            out += _grep(root, ["--cached"], patterns, [f":(literal){p}" for p in dirty], skip)
    else:
        out = _grep(root, [], patterns, ["."], skip)
    lines: list[str] = []
    size = 0
    for raw in out.splitlines():
        match = _HIT_RE.match(raw)
        if match is None:
            continue
        path = match["path"].split(":", 1)[1] if target.mode.startswith("base:") else match["path"]
        if is_denied(path):
            continue
        line = f"{path}:{match['line']}: {match['text'].strip()[:200]}"
        if size + len(line) > limit:
            lines.append("[more uses left out]")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _grep(root: Path, where: list[str], patterns: list[str], paths: list[str], skip: list[str]) -> str:
    """`git grep` for whole-word fixed strings, at most a few hits per file, NUL-separated."""
    return git_run(
        root,
        "grep", "-n", "-w", "-F", "-I", "--null", "--no-color", "--max-count", str(MAX_HITS_PER_FILE),
        *where, *patterns, "--", *paths, *skip,
        check=False,
    )  # fmt: skip


def _definitions(root: Path, config: Config, target: ReviewTarget, *, staged: bool, limit: int) -> str:
    """Signatures of the functions and classes the added lines call, from the context engine's index."""
    names = [n for n in target.called_names() if n not in set(target.symbols())][:MAX_SYMBOLS]
    if not names or limit <= 0:
        return ""
    from lingcode.context.engine import snapshot

    hidden = unstaged_paths(root) if staged else set()
    snap = snapshot(root, config.context, progress=False)
    try:
        records = snap.records
    finally:
        snap.conn.close()
    wanted = set(names)
    lines: list[str] = []
    size = 0
    for record in records:
        if record.path in hidden or is_denied(record.path):
            continue
        for name, _kind, line, _end, signature in record.definitions:
            if name in wanted:
                entry = f"{record.path}:{line}: {signature.strip()[:200]}"
                if size + len(entry) > limit:
                    return "\n".join(lines)
                lines.append(entry)
                size += len(entry) + 1
    return "\n".join(lines)
