"""Find where an edit's old lines sit in a file: a cascade of ever looser comparisons that stops at the first
level with exactly one place, and refuses (NoMatch) when the lines are absent or fit several places.

Levels, in order: exact; ignoring trailing whitespace; ignoring indentation as long as the shift is uniform
(this also absorbs tabs versus spaces); elision lines (`...`, `# ... existing code ...`) standing for
unchanged lines; blank-line differences; for diff hunks one or two context lines missing; and finally a fuzzy
match accepted only when it is unique, close and clearly better than the runner-up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from lingcode.edit.blanks import map_blank_lines

ELISION_RE = re.compile(r"^\s*(?:\.\.\.|…|(?:#|//|/\*|--|<!--|;)\s*(?:\.\.\.|…).*)\s*$")
FUZZY_MIN_SCORE = 90.0
FUZZY_MIN_MARGIN = 1.0
MAX_GAP = 2

Key = Callable[[str], str]


def _same(line: str) -> str:
    return line


def _rstrip(line: str) -> str:
    return line.rstrip()


def _strip(line: str) -> str:
    return line.strip()


def is_elision(line: str) -> bool:
    """Whether a line is a model's placeholder for 'unchanged lines here'."""
    return bool(ELISION_RE.match(line))


@dataclass(frozen=True)
class Indent:
    """How to move the replacement's indentation to the file's: add `delta` columns, write tabs or spaces."""

    delta: int
    tabs: bool
    width: int

    def apply(self, line: str) -> str:
        """The line re-indented for the file."""
        body = line.lstrip(" \t")
        if not body:
            return line.rstrip(" \t")
        columns = max(0, indent_width(line, self.width) + self.delta)
        if self.tabs:
            return "\t" * (columns // self.width) + " " * (columns % self.width) + body
        return " " * columns + body


@dataclass(frozen=True)
class Located:
    """Where old lines matched: file lines [start, end), the file line of each old line (None for an elision
    marker or a skipped line), the file ranges each elision marker stands for, and any re-indentation."""

    start: int
    end: int
    level: str
    mapping: tuple[int | None, ...]
    elided: tuple[tuple[int, int], ...] = ()
    indent: Indent | None = None


class NoMatch(Exception):
    """The old lines are absent or ambiguous; `near` is a file line range worth showing the model."""

    def __init__(self, kind: Literal["absent", "ambiguous"], near: tuple[int, int] | None, places: list[int]):
        super().__init__(kind)
        self.kind = kind
        self.near = near
        self.places = places


def indent_width(line: str, tab: int) -> int:
    """Columns of leading whitespace, tabs counted as `tab` columns."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += tab
        else:
            break
    return width


def _indent_style(lines: list[str], old: list[str]) -> tuple[bool, int]:
    """(file indents with tabs, columns per indentation level to try first): the file's own step for
    space-indented files, 4 for tab-indented ones (the model's usual spaces per tab)."""
    tabs = sum(1 for line in lines if line.startswith("\t"))
    spaces = sum(1 for line in lines if line.startswith(" "))
    if tabs > spaces:
        return True, 4
    steps: Counter[int] = Counter()
    previous = 0
    for line in lines:
        if line.strip() and not line.startswith("\t"):
            width = len(line) - len(line.lstrip(" "))
            if width > previous:
                steps[width - previous] += 1
            previous = width
    ranked = sorted(steps.items(), key=lambda item: (-item[1], item[0]))
    return False, next((step for step, _ in ranked if step in (2, 3, 4, 8)), 4)


@dataclass
class _View:
    """File lines seen through a key, optionally skipping blank lines; `index` maps view to file positions."""

    keys: list[str]
    index: list[int]
    starts: dict[str, list[int]]

    @classmethod
    def build(cls, lines: list[str], key: Key, skip_blank: bool) -> _View:
        index = [i for i, line in enumerate(lines) if not (skip_blank and not line.strip())]
        keys = [key(lines[i]) for i in index]
        starts: dict[str, list[int]] = {}
        for pos, value in enumerate(keys):
            starts.setdefault(value, []).append(pos)
        return cls(keys, index, starts)

    def find(self, segment: list[str], after: int = 0) -> list[int]:
        if not segment:
            return [after]
        size = len(segment)
        return [
            pos
            for pos in self.starts.get(segment[0], [])
            if pos >= after and self.keys[pos : pos + size] == segment
        ]


class Matcher:
    """Locates old lines in one file's lines (build one per file state)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._views: dict[tuple[str, bool], _View] = {}

    def view(self, name: str, key: Key, skip_blank: bool = False) -> _View:
        cached = self._views.get((name, skip_blank))
        if cached is None:
            cached = self._views[(name, skip_blank)] = _View.build(self.lines, key, skip_blank)
        return cached

    def locate(self, old: list[str], *, hint: int | None = None, gaps: bool = False) -> Located:
        """Run the cascade; raise NoMatch when no level finds exactly one place."""
        tabs, width = _indent_style(self.lines, old)
        has_elision = any(is_elision(line) for line in old)
        attempts: list[tuple[str, Key, bool, bool]] = [
            ("exact", _same, False, False),
            ("trailing whitespace", _rstrip, False, False),
            ("indentation", _strip, False, False),
        ]
        if has_elision:
            attempts += [(f"elision ({name})", key, True, False) for name, key, _, _ in attempts]
        attempts.append(("blank lines", _strip, has_elision, True))
        for level, key, elide, skip_blank in attempts:
            found = self._chains(old, level, key, elide, skip_blank, (tabs, width))
            if found:
                return _pick(found, hint)
        if gaps and not has_elision:
            found = self._gapped(old, (tabs, width))
            if found:
                return _pick(found, hint)
        if not has_elision:
            fuzzy = self._fuzzy(old)
            if fuzzy is not None:
                return fuzzy
        raise NoMatch("absent", self.nearest(old), [])

    def _chains(
        self, old: list[str], level: str, key: Key, elide: bool, skip_blank: bool, style: tuple[bool, int]
    ) -> list[Located]:
        """Every place where the old lines (split at elision markers when `elide`) match in order."""
        view = self.view(key.__name__, key, skip_blank)
        segments: list[list[int]] = [[]]
        markers: list[int] = []  # for each elision marker, how many segments came before it
        for i, line in enumerate(old):
            if elide and is_elision(line):
                markers.append(len(segments))
                segments.append([])
            elif not (skip_blank and not line.strip()):
                segments[-1].append(i)
        kept = [(n, segment) for n, segment in enumerate(segments) if segment]
        if not kept:
            return []
        results: list[Located] = []
        for first in view.find([key(old[i]) for i in kept[0][1]]):
            positions = [first]
            for _, segment in kept[1:]:
                found = view.find(
                    [key(old[i]) for i in segment], positions[-1] + len(kept[len(positions) - 1][1])
                )
                if not found:
                    break
                positions.append(found[0])
            if len(positions) < len(kept):
                continue
            mapping: list[int | None] = [None] * len(old)
            for (_, segment), pos in zip(kept, positions, strict=True):
                for offset, i in enumerate(segment):
                    mapping[i] = view.index[pos + offset]
            if skip_blank:
                map_blank_lines(old, mapping, self.lines)
            located = self._finish(old, mapping, kept, markers, level, key is _strip, style)
            if located is not None:
                results.append(located)
        return _unique(results)

    def _finish(
        self,
        old: list[str],
        mapping: list[int | None],
        kept: list[tuple[int, list[int]]],
        markers: list[int],
        level: str,
        loose: bool,
        style: tuple[bool, int],
    ) -> Located | None:
        """A Located for one chain: the elided file range of each marker and the uniform re-indentation."""
        indent = _uniform_indent(old, mapping, self.lines, style) if loose else None
        if loose and indent is None:
            return None
        placed = [index for index in mapping if index is not None]
        start, end = min(placed), max(placed) + 1
        elided: list[tuple[int, int]] = []
        for before in markers:
            prev = [segment for n, segment in kept if n < before]
            nxt = [segment for n, segment in kept if n >= before]
            if not prev or not nxt:
                edge = start if not prev else end
                elided.append((edge, edge))
                continue
            low, high = mapping[prev[-1][-1]], mapping[nxt[0][0]]
            assert low is not None and high is not None
            elided.append((low + 1, high) if not elided or elided[-1][1] <= low else (high, high))
        return Located(start, end, level, tuple(mapping), tuple(elided), indent)

    def _gapped(self, old: list[str], style: tuple[bool, int]) -> list[Located]:
        """Places where the old lines match with one run of up to MAX_GAP file lines missing from them."""
        view = self.view("indentation", _strip)
        keys = [line.strip() for line in old]
        results: list[Located] = []
        for split in range(1, len(old)):
            for first in view.find(keys[:split]):
                for gap in range(1, MAX_GAP + 1):
                    tail = first + split + gap
                    if view.keys[tail : tail + len(old) - split] != keys[split:]:
                        continue
                    mapping = [*range(first, first + split), *range(tail, tail + len(old) - split)]
                    indent = _uniform_indent(old, list(mapping), self.lines, style)
                    if indent is not None:
                        results.append(
                            Located(first, mapping[-1] + 1, "missing context", tuple(mapping), (), indent)
                        )
        return _unique(results)

    def _fuzzy(self, old: list[str]) -> Located | None:
        """The single window clearly most similar to the old lines, if it is similar enough."""
        scored = self._scored_windows(old)
        if not scored:
            return None
        best_score, best = scored[0]
        size = len(old)
        runner_up = max((score for score, start in scored[1:] if abs(start - best) >= size), default=0.0)
        # clearly better: the runner-up needs at least twice the edits (plus a point) to match
        if best_score < FUZZY_MIN_SCORE or 100 - runner_up < 2 * (100 - best_score) + FUZZY_MIN_MARGIN:
            return None
        end = min(best + size, len(self.lines))
        mapping: list[int | None] = [*range(best, end)] + [None] * (size - (end - best))
        indent = _uniform_indent(old, mapping, self.lines, _indent_style(self.lines, old))
        return Located(best, end, "fuzzy", tuple(mapping), (), indent)

    def _scored_windows(self, old: list[str]) -> list[tuple[float, int]]:
        """(similarity, start) of windows the size of `old` sharing a line with it, best first."""
        view = self.view("indentation", _strip)
        votes: Counter[int] = Counter()
        for j, line in enumerate(old):
            key = line.strip()
            if len(key) > 3:
                for pos in view.starts.get(key, []):
                    if pos - j >= 0:
                        votes[pos - j] += 1
        target = "\n".join(line.strip() for line in old)
        scored = []
        for start, _ in votes.most_common(64):
            window = "\n".join(line.strip() for line in self.lines[start : start + len(old)])
            scored.append((fuzz.ratio(target, window), start))
        return sorted(scored, reverse=True)

    def nearest(self, old: list[str]) -> tuple[int, int] | None:
        """The file lines most like the old ones, to show the model when nothing matched."""
        scored = self._scored_windows(old)
        if scored:
            start = scored[0][1]
            return start, min(start + max(len(old), 1), len(self.lines))
        wanted = next((line.strip() for line in old if line.strip() and not is_elision(line)), "")
        if not wanted or not self.lines:
            return None
        best = max(range(len(self.lines)), key=lambda i: fuzz.ratio(wanted, self.lines[i].strip()))
        return best, min(best + max(len(old), 1), len(self.lines))


def _uniform_indent(
    old: list[str], mapping: list[int | None], lines: list[str], style: tuple[bool, int]
) -> Indent | None:
    """The indentation shift that maps every old line onto its file line, trying the likely tab widths."""
    tabs, preferred = style
    for width in dict.fromkeys((preferred, 4, 2, 8, 3)):
        deltas = {
            indent_width(lines[index], width) - indent_width(old[i], width)
            for i, index in enumerate(mapping)
            if index is not None and old[i].strip()
        }
        if len(deltas) == 1:
            return Indent(deltas.pop(), tabs, width)
    return None


def _unique(found: list[Located]) -> list[Located]:
    seen: dict[tuple[int, int, tuple[int | None, ...]], Located] = {}
    for item in found:
        seen.setdefault((item.start, item.end, item.mapping), item)
    return list(seen.values())


def _pick(found: list[Located], hint: int | None) -> Located:
    """The one candidate; with a line-number hint, the one clearly nearest; else NoMatch."""
    if len(found) == 1:
        return found[0]
    places = sorted(item.start for item in found)
    if hint is not None:
        ranked = sorted(found, key=lambda item: abs(item.start - hint))
        if abs(ranked[0].start - hint) < abs(ranked[1].start - hint):
            return ranked[0]
    raise NoMatch("ambiguous", None, places)
