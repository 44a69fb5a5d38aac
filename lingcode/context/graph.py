"""The file reference graph and personalised PageRank over it, with numpy arrays only.

The graph has an edge from file A to file B, weighted by how specific the shared names are, when A uses a
name B defines. It is built with numpy array operations (uses x names joined with names x definers),
never as Python edge objects (and without scipy, whose import alone costs ~0.15 s per process), and
ranked by power iteration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from lingcode.context.index import FileRecord

_MAX_DEFINERS = 40  # a name defined in more files than this (get, run, __init__) says nothing about coupling
_DAMPING = 0.85


@dataclass
class NameTable:
    """Every defined name, and which files define it, as compressed rows (names x files, 0/1)."""

    ids: dict[str, int]
    indptr: np.ndarray
    """Name id c's definers are `indices[indptr[c]:indptr[c + 1]]`."""
    indices: np.ndarray

    def definers(self, name: str) -> np.ndarray:
        """Record indices of the files that define `name`."""
        col = self.ids[name]
        found: np.ndarray = self.indices[self.indptr[col] : self.indptr[col + 1]]
        return found

    def counts(self) -> np.ndarray:
        """How many files define each name, by column id."""
        return np.diff(self.indptr)


@dataclass
class Graph:
    """The row-stochastic file x file transition matrix as weighted edges (numpy only: no scipy import)."""

    size: int
    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    """Each edge's share of its source's out-weight."""

    def step(self, rank: np.ndarray) -> np.ndarray:
        """The transposed matrix times `rank`: the rank each file receives over its in-edges."""
        received: np.ndarray = np.bincount(self.target, self.weight * rank[self.source], minlength=self.size)
        return received

    def dangling(self) -> np.ndarray:
        """Files without out-edges."""
        dangling: np.ndarray = np.bincount(self.source, minlength=self.size) == 0
        return dangling


def _joined(texts: list[str]) -> tuple[list[str], list[int]]:
    """All newline-joined names of every file as one list, and how many each file has (one split in all)."""
    sizes = [text.count("\n") + 1 if text else 0 for text in texts]
    whole = "\n".join(filter(None, texts))
    return (whole.split("\n") if whole else []), sizes


def name_table(records: Sequence[FileRecord]) -> NameTable:
    """Name -> column id and the definers of each name, built from flat arrays (no per-edge objects)."""
    n = len(records)
    every, sizes = _joined([rec.names_text for rec in records])
    # C-level loops (dict.fromkeys, map): at 50,000 files a Python loop per name costs a good part of a second
    ids: dict[str, int] = dict(zip(dict.fromkeys(every), range(len(every)), strict=False))
    cols = np.fromiter(map(ids.__getitem__, every), dtype=np.int64, count=len(every))
    owners = np.repeat(np.arange(n, dtype=np.int64), sizes)
    # a name defined twice in one file still has one definer there; sorted by name, then file
    pairs = np.unique(cols * max(n, 1) + owners)
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(pairs // max(n, 1), minlength=len(ids)))
    return NameTable(ids, indptr, pairs % max(n, 1))


def reference_graph(records: Sequence[FileRecord], names: NameTable) -> Graph:
    """Row-stochastic file x file transition edges: A -> B when A uses a specific name B defines."""
    n, m = len(records), max(len(names.ids), 1)
    refs, sizes = _joined([rec.refs_text for rec in records])
    cols = np.fromiter(map(names.ids.get, refs, repeat(-1)), dtype=np.int64, count=len(refs))
    rows = np.repeat(np.arange(n, dtype=np.int64), sizes)
    counts = names.counts()
    # specific names (few definers, long) couple files more than generic ones
    lengths = np.minimum(np.fromiter(map(len, names.ids), dtype=np.float64, count=len(names.ids)), 16.0)
    weight = np.where(counts <= _MAX_DEFINERS, np.sqrt(lengths / 8.0) / np.maximum(counts, 1), 0.0)
    keep = cols >= 0
    keep[keep] = weight[cols[keep]] > 0
    # one entry per (file, name) used, with how many times; then one edge per definer of the name
    uses, times = np.unique(rows[keep] * m + cols[keep], return_counts=True)
    user, name = uses // m, uses % m
    fan = counts[name]
    first = np.repeat(names.indptr[name] - (np.cumsum(fan) - fan), fan)
    target = names.indices[first + np.arange(int(fan.sum()))]
    source = np.repeat(user, fan)
    share = np.repeat(times * weight[name], fan)
    loop = source != target
    edges, where = np.unique(source[loop] * max(n, 1) + target[loop], return_inverse=True)
    total = np.bincount(where, share[loop], minlength=len(edges))
    source, target = edges // max(n, 1), edges % max(n, 1)
    out = np.bincount(source, total, minlength=n)
    return Graph(n, source, target, total / out[source])


def pagerank(transition: Graph, personal: np.ndarray | None, iterations: int = 40) -> np.ndarray:
    """Personalised PageRank by power iteration; dangling files hand their rank to the personalisation."""
    n = transition.size
    if n == 0:
        return np.zeros(0)
    p = personal if personal is not None and personal.sum() > 0 else np.ones(n)
    p = p / p.sum()
    dangling = transition.dangling()
    rank: np.ndarray = p.copy()
    for _ in range(iterations):
        new: np.ndarray = _DAMPING * (transition.step(rank) + rank[dangling].sum() * p) + (1 - _DAMPING) * p
        done = float(np.abs(new - rank).sum()) < 1e-6
        rank = new
        if done:
            break
    return rank
