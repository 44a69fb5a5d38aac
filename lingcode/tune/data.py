"""Training tasks made from the repository's own functions, without any model.

Each task takes one real function, breaks it (lingcode.tune.breakage), shows the broken function the way a
fix request would, and answers with the SEARCH/REPLACE block that restores it, in the reply format lingcode's
prompts teach. The split into training and validation is by file, so no validation file is ever trained on.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import random
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lingcode.context.tags import extract, language_of
from lingcode.edit.render import render_edit
from lingcode.edit.types import SearchReplace
from lingcode.errors import UsageError
from lingcode.prompts import render
from lingcode.tune.breakage import break_function

_CONTEXT_LINES = 2
_MAX_FILE_BYTES = 200_000
_MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Task:
    """One generated fix: where, how it was broken, the function before and after, and the chat messages."""

    path: str
    function: str
    breakage: str
    original: str
    broken: str
    messages: list[dict[str, str]]

    def to_json(self) -> str:
        """One JSONL line, the chat shape `export-sft` writes, plus what a benchmark needs to score a fix."""
        record = {
            "messages": self.messages,
            "path": self.path,
            "function": self.function,
            "breakage": self.breakage,
            "original": self.original,
            "broken": self.broken,
        }
        return json.dumps(record, ensure_ascii=False)


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """Whether a path matches an `--exclude` glob or lies under a folder one names (`examples/`)."""
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)


def tracked_files(root: Path, exclude: Sequence[str] = ()) -> list[str]:
    """The tracked files lingcode can parse, sorted (so the generator's output depends on the seed alone)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        raise UsageError(f"{root} is not a git repository") from None
    paths = (p for p in out.split("\0") if p and language_of(p) is not None)
    return sorted(p for p in paths if not is_excluded(p, exclude))


def is_validation(path: str, seed: int, fraction: float) -> bool:
    """Whether a file is held out: a hash of seed and path, so stable as other files come and go."""
    digest = hashlib.sha256(f"{seed}:{path}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def fix_edit(path: str, broken_file: str, original: list[str], broken: list[str]) -> SearchReplace | None:
    """The smallest SEARCH/REPLACE that undoes the break, widened until its SEARCH is unique in the file."""
    start = 0
    while start < min(len(original), len(broken)) and original[start] == broken[start]:
        start += 1
    tail = 0
    while tail < min(len(original), len(broken)) - start and original[-1 - tail] == broken[-1 - tail]:
        tail += 1
    for context in (_CONTEXT_LINES, _CONTEXT_LINES * 2, max(len(original), len(broken))):
        low = max(0, start - context)
        search = "".join(broken[low : max(low, len(broken) - tail + context)])
        replace = "".join(original[low : max(low, len(original) - tail + context)])
        if search and broken_file.count(search) == 1:
            return SearchReplace(path, search, replace)
    return None


def _messages(root: Path, path: str, name: str, broken_function: str, reply: str) -> list[dict[str, str]]:
    system = render("system", root, instructions="", constrained=False, reasoning=False)
    context = f"{path}\n```\n{broken_function}```"
    task = f"`{name}` in {path} has a bug: it does not do what its name and callers expect. Fix it."
    user = render(
        "task", root, reasoning=False, context=context, task=task, check_output="", check_command=""
    )
    user += render("format_reminder", root, reasoning=False)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": reply},
    ]


def tasks_for_file(root: Path, path: str, rng: random.Random) -> Iterator[Task]:
    """One task per function of the file that can be broken and fixed with a unique SEARCH."""
    file = root / path
    if not file.is_file() or file.stat().st_size > _MAX_FILE_BYTES:
        return
    source = file.read_bytes()
    language = language_of(path)
    text = source.decode("utf-8", errors="replace")
    if language is None or "\r" in text:
        return
    lines = text.splitlines(keepends=True)
    tags = extract(language, source)
    functions = [d for d in tags.definitions if d.kind in ("function", "method")]
    names = sorted({d.name for d in functions})
    for definition in functions:
        original = lines[definition.line - 1 : definition.end_line]
        if not 3 <= len(original) <= _MAX_FUNCTION_LINES or not original[-1].endswith("\n"):
            continue
        result = break_function(original, rng, names)
        if result is None:
            continue
        kind, broken = result
        before, after = lines[: definition.line - 1], lines[definition.end_line :]
        edit = fix_edit(path, "".join(before + broken + after), original, broken)
        if edit is None:
            continue
        messages = _messages(root, path, definition.name, "".join(broken), render_edit(edit))
        yield Task(path, definition.name, kind, "".join(original), "".join(broken), messages)


def write_tasks(
    root: Path, seed: int, fraction: float, train: IO[str], valid: IO[str], exclude: Sequence[str] = ()
) -> tuple[int, int]:
    """Write every file's tasks to the training or validation stream; return (training, validation) counts."""
    counts = [0, 0]
    for path in tracked_files(root, exclude):
        rng = random.Random(f"{seed}:{path}")
        held_out = is_validation(path, seed, fraction)
        for task in tasks_for_file(root, path, rng):
            (valid if held_out else train).write(task.to_json() + "\n")
            counts[held_out] += 1
    return counts[0], counts[1]
