"""Symbol look-ups over the index: where a name is defined, and which tests exercise some files."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lingcode.context.engine import snapshot
from lingcode.context.files import is_test_path


@dataclass(frozen=True)
class SymbolHit:
    """A definition of a symbol: repo-relative path, 1-based line, kind and signature."""

    path: str
    line: int
    kind: str
    signature: str


def find_symbol(root: Path, name: str) -> list[SymbolHit]:
    """Definitions of `name` (or `Outer.name`), exact matches first, then case-insensitive ones."""
    parts = [p for p in name.strip().replace("::", ".").split(".") if p]
    if not parts:
        return []
    leaf, outer = parts[-1], parts[:-1]
    snap = snapshot(root, progress=False, terms=False)  # no ranking by words here
    try:
        records = snap.records
    finally:
        snap.conn.close()
    exact: list[tuple[int, SymbolHit]] = []
    loose: list[tuple[int, SymbolHit]] = []
    for rec in records:
        if leaf not in rec.def_names and leaf.lower() not in {n.lower() for n in rec.def_names}:
            continue
        names = set(rec.def_names)
        bonus = 0 if all(o in names for o in outer) else 1
        for def_name, kind, line, _end, signature in rec.definitions:
            if def_name == leaf:
                exact.append((bonus, SymbolHit(rec.path, line, kind, signature)))
            elif def_name.lower() == leaf.lower():
                loose.append((bonus, SymbolHit(rec.path, line, kind, signature)))
    key = lambda item: (item[0], is_test_path(item[1].path), item[1].path, item[1].line)  # noqa: E731
    return [hit for _, hit in sorted(exact, key=key)] + [hit for _, hit in sorted(loose, key=key)]


def related_tests(root: Path, changed: Sequence[str]) -> list[str]:
    """Test files most related to the changed files (shared names, test_<name> naming), best first."""
    snap = snapshot(root, progress=False, terms=False)  # no ranking by words here
    try:
        records = snap.records
    finally:
        snap.conn.close()
    changed_set = set(changed)
    provided = {name for rec in records if rec.path in changed_set for name in rec.def_names}
    # how many files define each provided name: a name many files define says little about a test
    definers: dict[str, int] = defaultdict(int)
    if provided:
        for rec in records:
            for name in provided.intersection(rec.def_names):
                definers[name] += 1
    stems = {PurePosixPath(p).stem.removeprefix("test_").removesuffix("_test") for p in changed_set}
    scores: dict[str, float] = {}
    for rec in records:
        if rec.language is None or not is_test_path(rec.path):
            continue
        score = sum(1.0 / math.sqrt(definers[n]) for n in rec.references if n in provided)
        stem = PurePosixPath(rec.path).stem.removeprefix("test_").removesuffix("_test")
        if stem in stems:
            score += 5.0
        if rec.path in changed_set:
            score += 10.0  # an edited test is the first one to run
        if score > 0:
            scores[rec.path] = score
    return sorted(scores, key=lambda p: (-scores[p], p))
