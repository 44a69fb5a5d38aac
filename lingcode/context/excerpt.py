"""Excerpts of files too large to send whole: the definitions a task points at, verbatim, the rest elided.

A file's leaf definitions (functions, methods, constants: definitions holding no other definition) are
scored by how many of the task's terms they contain, with a bonus when the task names them. The best
ones go in verbatim, in file order, each under the signature lines of the classes that enclose it, with
`⋮` where lines are left out, while the excerpt fits the room it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lingcode.context.index import Def
from lingcode.context.terms import terms
from lingcode.context.tokens import TokenCounter

_MIN_SCORE = 2.0


@dataclass(frozen=True)
class Excerpt:
    """An excerpt's text and what it holds: 1-based inclusive line ranges and the definitions chosen."""

    text: str
    lines: list[tuple[int, int]]
    symbols: list[str]


def _leaves(defs: Sequence[Def]) -> list[Def]:
    out = []
    for d in defs:
        inner = any(
            o is not d and d[2] <= o[2] and o[3] <= d[3] and (o[2], o[3]) != (d[2], d[3]) for o in defs
        )
        if not inner:
            out.append(d)
    return out


def _score(unit: Def, lines: list[str], task_terms: set[str], task_words: set[str]) -> float:
    body = "".join(lines[unit[2] - 1 : unit[3]])
    found = task_terms.intersection(terms(body))
    return len(found) + (6.0 if unit[0] in task_words else 0.0)


def excerpt(
    path: str,
    text: str,
    defs: Sequence[Def],
    task: str,
    room: int,
    count: TokenCounter,
) -> str | None:
    """A fenced excerpt of `text` within `room` tokens, or None when nothing in it matches the task."""
    found = excerpt_of(path, text, defs, task, room, count)
    return found.text if found is not None else None


def excerpt_of(
    path: str,
    text: str,
    defs: Sequence[Def],
    task: str,
    room: int,
    count: TokenCounter,
) -> Excerpt | None:
    """The excerpt (see `excerpt`) with the line ranges and definition names it holds."""
    if not defs or not task:
        return None
    lines = text.splitlines(keepends=True)
    task_terms = set(terms(task))
    task_words = set(task.replace(".", " ").replace("(", " ").split())
    scored = sorted(
        ((s, d) for d in _leaves(defs) if (s := _score(d, lines, task_terms, task_words)) >= _MIN_SCORE),
        key=lambda item: (-item[0], item[1][2]),
    )
    if not scored:
        return None
    printable = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    head = f"### {printable} (excerpt: the parts that match the task; ⋮ marks lines left out)\n```\n"
    tail = "```\n\n"
    chosen: list[Def] = []
    used = count(head) + count(tail)
    for _score_value, unit in scored:
        cost = count("".join(lines[unit[2] - 1 : unit[3]])) + count("⋮\n") + 10
        if used + cost > room:
            continue
        chosen.append(unit)
        used += cost
    # the per-definition costs leave out the enclosing class lines and elision marks: when the assembled
    # text is still over, drop the weakest definitions (chosen best first) until it fits
    while chosen:
        result, shown = _assemble(head, tail, lines, defs, chosen)
        if count(result) <= room:
            return Excerpt(result, _ranges(shown), [unit[0] for unit in sorted(chosen, key=lambda d: d[2])])
        chosen.pop()
    return None


def _ranges(numbers: set[int]) -> list[tuple[int, int]]:
    """0-based line numbers as 1-based inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number:
            runs[-1] = (runs[-1][0], number + 1)
        else:
            runs.append((number + 1, number + 1))
    return runs


def _assemble(
    head: str, tail: str, lines: list[str], defs: Sequence[Def], chosen: Sequence[Def]
) -> tuple[str, set[int]]:
    """The chosen definitions verbatim in file order, under their enclosing classes' signature lines,
    and the 0-based numbers of the lines shown."""
    shown: set[int] = set()
    for unit in chosen:
        shown.update(range(unit[2] - 1, unit[3]))
        for outer in defs:  # the signature lines of enclosing classes keep the excerpt readable
            if outer[2] < unit[2] and unit[3] <= outer[3]:
                shown.add(outer[2] - 1)
    body: list[str] = []
    previous = -1
    for number in sorted(shown):
        if number != previous + 1:
            body.append("⋮\n")
        body.append(lines[number] if lines[number].endswith("\n") else lines[number] + "\n")
        previous = number
    if previous < len(lines) - 1:
        body.append("⋮\n")
    return head + "".join(body) + tail, shown
