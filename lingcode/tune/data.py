"""Training tasks made from the repository's own functions, without any model.

Each task takes one real function, breaks it (lingcode.tune.breakage), shows the broken file the way a
run's context shows files (among the file's other functions, sometimes after another file), asks for the fix
in one of the phrasings users write, and answers with the SEARCH/REPLACE block that restores it, in the reply
format lingcode's prompts teach. The split into training and validation is by file, so no validation file is
ever trained on, nor shown beside a training task.
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

from lingcode.context.render import FULL_HEADER, MAP_HEADER, full_entry
from lingcode.context.tags import extract, language_of
from lingcode.edit.render import render_edit
from lingcode.edit.types import SearchReplace
from lingcode.errors import UsageError
from lingcode.prompts import render
from lingcode.tune.breakage import break_function
from lingcode.tune.focus import shared_ends

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
    start, tail = shared_ends(original, broken)
    for context in (_CONTEXT_LINES, _CONTEXT_LINES * 2, max(len(original), len(broken))):
        low = max(0, start - context)
        search = "".join(broken[low : max(low, len(broken) - tail + context)])
        replace = "".join(original[low : max(low, len(original) - tail + context)])
        if search and broken_file.count(search) == 1:
            return SearchReplace(path, search, replace)
    return None


# How a fix request names the function: the phrasings users write, so the model learns to find the named
# function among the others shown rather than to edit whatever comes first.
_TASKS = (
    "`{name}` in {path} has a bug: it does not do what its name and callers expect. Fix it.",
    "Fix the bug in {name}.",
    "{name}() gives the wrong result. Find the mistake and fix it.",
    "test_{name} fails. Fix the code in {path}, not the test.",
    "The tests for {name} in {path} fail; fix the bug.",
    "There is a bug in {path}: {name} is broken. Fix it.",
)
_FILE_CHARS = 1600  # of the broken file shown: whole when it fits, else the lines around the function
_OTHER_CHARS = 500  # of another file shown before it, as the ranking often puts a test or caller first


def file_window(lines: Sequence[str], start: int, end: int, limit: int = _FILE_CHARS) -> str:
    """The whole file when it fits `limit` characters, else lines [start, end) widened while they fit."""
    if sum(map(len, lines)) <= limit:
        return "".join(lines)
    low, high = start, end
    size = sum(len(line) for line in lines[low:high])
    grew = True
    while grew:
        grew = False
        if low > 0 and size + len(lines[low - 1]) <= limit:
            low, size, grew = low - 1, size + len(lines[low - 1]), True
        if high < len(lines) and size + len(lines[high]) <= limit:
            high, size, grew = high + 1, size + len(lines[high]), True
    return "".join(lines[low:high])


def _other_file(root: Path, others: Sequence[str], rng: random.Random) -> str:
    """The head of another tracked file, rendered as context shows files; '' when none is readable."""
    if not others:
        return ""
    path = rng.choice(list(others))
    try:
        text = (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    head = "".join(text.splitlines(keepends=True)[:40])[:_OTHER_CHARS]
    return full_entry(path, head[: head.rfind("\n") + 1] if "\n" in head else head)


def _messages(
    root: Path, path: str, name: str, shown_text: str, reply: str, rng: random.Random, other: str
) -> list[dict[str, str]]:
    """The chat a real run would send: the file among the context's files, a task naming the function.

    The reminder of the format ends the user turn only in free decoding; half the samples have it, so the
    adapter answers in the format with and without it (constrained runs send none).
    """
    system = render("system", root, instructions="", constrained=False, reasoning=False)
    context = FULL_HEADER + other + full_entry(path, shown_text) + MAP_HEADER
    task = rng.choice(_TASKS).format(name=name, path=path)
    user = render(
        "task", root, reasoning=False, context=context, task=task, check_output="", check_command=""
    )
    if rng.random() < 0.5:
        user += render("format_reminder", root, reasoning=False)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": reply},
    ]


def tasks_for_file(root: Path, path: str, rng: random.Random, others: Sequence[str] = ()) -> Iterator[Task]:
    """One task per function of the file that can be broken and fixed with a unique SEARCH.

    `others` are paths another file's head may be shown from, before the broken file (half the tasks).
    """
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
        window = file_window(before + broken + after, len(before), len(before) + len(broken))
        other = _other_file(root, others, rng) if rng.random() < 0.5 else ""
        messages = _messages(root, path, definition.name, window, render_edit(edit), rng, other)
        yield Task(path, definition.name, kind, "".join(original), "".join(broken), messages)


def write_tasks(
    root: Path, seed: int, fraction: float, train: IO[str], valid: IO[str], exclude: Sequence[str] = ()
) -> tuple[int, int]:
    """Write every file's tasks to the training or validation stream; return (training, validation) counts."""
    counts = [0, 0]
    split = {path: is_validation(path, seed, fraction) for path in tracked_files(root, exclude)}
    sides = {side: [p for p, held in split.items() if held == side] for side in (False, True)}
    for path, held_out in split.items():
        rng = random.Random(f"{seed}:{path}")
        # another file shown beside a task comes from the same side of the split, so none leaks across
        others = [p for p in sides[held_out] if p != path]
        for task in tasks_for_file(root, path, rng, others):
            (valid if held_out else train).write(task.to_json() + "\n")
            counts[held_out] += 1
    return counts[0], counts[1]
