"""Aids for small models: whether to ask for reasoning, and where a constrained reply may edit.

A 270M model shown four files edits whichever it meets first (the embedded model rewrote examples/calc's
README.md and pytest.ini, unchanged, in every demo run), even when the failing test names the function at
fault. Under constrained decoding the grammar can hold every SEARCH to the definitions that the failing
output calls, so the model's one choice left is the new code. Models under 1B parameters get both aids by
default; larger ones choose for themselves.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping

from lingcode.context.tags import extract, language_of

__all__ = ["Focus", "failure_focus", "is_small_model", "replace_lines", "wants_focus", "wants_reasoning"]

MAX_FOCUS = 3
"""Most definitions a focused reply may edit: the ones the failing output names most often."""
REPLACE_SLACK = 8
"""Lines a focused REPLACE may have beyond its longest function: room for a fix, none for a ramble."""

# a parameter count under a billion in a model's name: 270m, 135m, 0.5b (not 1.5b, 7b, or q4_k_m)
_SMALL_MODEL = re.compile(r"(?<![\w.])(\d{1,3}m|0\.\d+b)(?![a-z0-9])")
# a name called (`average([2, 4, 6])`) or a frame (`calc.py:13: in average`, `File "x.py", line 3, in f`)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(|\bin ([A-Za-z_]\w*)\s*$", re.M)
_EDITABLE_KINDS = frozenset({"function", "method"})


def is_small_model(model_name: str) -> bool:
    """Whether the served name says the model has under 1B parameters (gemma-3-270m, smollm-135m, 0.5b)."""
    return _SMALL_MODEL.search(model_name.lower()) is not None


def wants_reasoning(setting: str, model_name: str) -> bool:
    """Whether to ask for a reasoning section: model.reasoning; auto is off for models under 1B parameters.

    Judged by the served name (the embedded gemma-3-270m-q4_k_m, a 135m or 0.5b model): the reasoning of
    such a model is noise that costs most of its reply time and then steers its edits."""
    if setting != "auto":
        return setting == "on"
    return not is_small_model(model_name)


def wants_focus(setting: str, model_name: str) -> bool:
    """Whether constrained replies are held to the failing definitions: model.focus; auto is on for models
    under 1B parameters (a larger model finds the place itself, and may need to edit elsewhere)."""
    if setting != "auto":
        return setting == "on"
    return is_small_model(model_name)


def failure_focus(files: Mapping[str, str], failing: str) -> dict[str, list[tuple[int, int]]]:
    """Line ranges (1-based, inclusive) of the functions and methods in `files` (path -> text) that the
    failing output calls or shows as frames, most named first, at most MAX_FOCUS; empty when it names none.

    Only names defined exactly once across `files` count: `__init__` or `run` in five classes says nothing
    about which one is at fault."""
    return _pick(_definitions(files), _called(failing))


def _called(failing: str) -> Counter[str]:
    return Counter(call or frame for call, frame in _CALLED.findall(failing))


def _definitions(files: Mapping[str, str]) -> list[tuple[str, int, int, str]]:
    """(path, first line, last line, name) of every function and method in `files`."""
    found = []
    for path, text in files.items():
        language = language_of(path)
        if language is None:
            continue
        for definition in extract(language, text.encode("utf-8", "replace")).definitions:
            if definition.kind in _EDITABLE_KINDS:
                found.append((path, definition.line, definition.end_line, definition.name))
    return found


def _pick(
    definitions: list[tuple[str, int, int, str]], named: Counter[str]
) -> dict[str, list[tuple[int, int]]]:
    hits = [hit for hit in definitions if hit[3] in named]
    defined = Counter(name for *_, name in hits)
    unique = [hit for hit in hits if defined[hit[3]] == 1]
    unique.sort(key=lambda hit: -named[hit[3]])  # stable: ties keep the files' order
    focus: dict[str, list[tuple[int, int]]] = {}
    for path, start, end, _ in unique[:MAX_FOCUS]:
        focus.setdefault(path, []).append((start, end))
    return focus


def replace_lines(focus: Mapping[str, list[tuple[int, int]]]) -> int:
    """Most lines a REPLACE may hold under `focus`: the longest focused definition plus REPLACE_SLACK (a
    small model that loses its place otherwise writes the rest of the conversation into the file)."""
    return max(end - start + 1 for ranges in focus.values() for start, end in ranges) + REPLACE_SLACK


class Focus:
    """The focus of one task across its rounds: read from the latest failing output, or from the last one
    that named a definition (a broken edit's syntax error names no function, yet the fault is still there)."""

    def __init__(self) -> None:
        self._named: Counter[str] = Counter()
        """The names called by the last failing output that named a definition."""
        self._last: dict[str, list[tuple[int, int]]] = {}

    def windows(
        self, files: Mapping[str, str], failing: str, say: Callable[[str], object]
    ) -> dict[str, list[tuple[int, int]]]:
        """The focus for `files` now (see failure_focus); `say` hears of each new place once."""
        definitions = _definitions(files)  # parsed once a turn, whichever output the focus comes from
        named = _called(failing)
        found = _pick(definitions, named)
        if found:
            self._named = named
        elif self._named:
            found = _pick(definitions, self._named)
        if found and found != self._last:
            where = ", ".join(f"{p}:{a}-{b}" for p, ranges in found.items() for a, b in ranges)
            say(f"edits held to what the failing output calls: {where} (model.focus)")
        self._last = found
        return found
