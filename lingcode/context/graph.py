"""The file reference graph and personalised PageRank over it, with numpy arrays only.

The graph has an edge from file A to file B, weighted by how specific the shared names are, when A uses a
name B defines. It is built with numpy array operations (uses x names joined with names x definers),
never as Python edge objects (and without scipy, whose import alone costs ~0.15 s per process), and
ranked by power iteration. Both come from the records' reference index (`refindex.py`): kept between runs
and patched for changed files when the records carry one, built from the records' names otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lingcode.context.index import FileRecord
from lingcode.context.refindex import Records, RefIndex, build

_MAX_DEFINERS = 40  # a name defined in more files than this (get, run, __init__) says nothing about coupling
_DAMPING = 0.85
_GRID = float(2**24)  # edge weight terms are multiples of 1/_GRID: exact float sums up to 2**29


@dataclass
class NameTable:
    """Every name of a reference index and which files define it, as compressed rows (names x files, 0/1)."""

    refs: RefIndex
    indptr: np.ndarray
    """Name id c's definers are `indices[indptr[c]:indptr[c + 1]]`, in file order."""
    indices: np.ndarray
    _ids: dict[str, int] | None = field(default=None, repr=False)

    @property
    def ids(self) -> dict[str, int]:
        """Name -> id of the names at least one file defines (built on first use: a map needs none)."""
        if self._ids is None:
            defined = np.flatnonzero(self.counts()).tolist()
            self._ids = dict(zip(map(self.refs.vocab.__getitem__, defined), defined, strict=True))
        return self._ids

    def definers(self, name: str) -> np.ndarray:
        """Record indices of the files that define `name`."""
        col = self.ids[name]
        found: np.ndarray = self.indices[self.indptr[col] : self.indptr[col + 1]]
        return found

    def counts(self) -> np.ndarray:
        """How many files define each name, by name id."""
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


def _refs_of(records: Sequence[FileRecord]) -> RefIndex:
    """The records' reference index: the one they carry when the index kept it, else a fresh build."""
    refs = records.refs if isinstance(records, Records) else None
    return refs if refs is not None and len(refs.records) == len(records) else build(records)


def name_table(records: Sequence[FileRecord]) -> NameTable:
    """Name id -> the files defining it, from the records' reference index (kept between calls)."""
    refs = _refs_of(records)
    table: NameTable | None = refs.cache.get("names")
    if table is None:
        n, width = len(refs.records), max(len(refs.records), 1)
        pairs = np.sort(refs.def_name * width + refs.def_file)  # by name, then file
        indptr = np.zeros(len(refs.name_len) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(refs.def_name, minlength=len(refs.name_len)))
        table = refs.cache["names"] = NameTable(refs, indptr, pairs % width if n else pairs)
    return table


def reference_graph(records: Sequence[FileRecord], names: NameTable) -> Graph:
    """Row-stochastic file x file transition edges: A -> B when A uses a specific name B defines.

    Edge weights are sums over shared names; each term is rounded to a multiple of 2**-24 so that the
    float sums are exact whatever order the names come in (a patched index numbers new names last).
    """
    refs = names.refs
    n = len(refs.records)
    counts = names.counts()
    # specific names (few definers, long) couple files more than generic ones
    lengths = np.minimum(refs.name_len, 16).astype(np.float64)
    weight = np.where(counts <= _MAX_DEFINERS, np.sqrt(lengths / 8.0) / np.maximum(counts, 1), 0.0)
    keep = weight[refs.use_name] * counts[refs.use_name] > 0
    user, name = refs.use_file[keep], refs.use_name[keep]
    fan = counts[name]
    first = np.repeat(names.indptr[name] - (np.cumsum(fan) - fan), fan)
    target = names.indices[first + np.arange(int(fan.sum()))]
    source = np.repeat(user, fan)
    share = np.repeat(np.round(refs.use_times[keep] * weight[name] * _GRID) / _GRID, fan)
    loop = source != target
    edges, where = _distinct(source[loop] * max(n, 1) + target[loop])
    total = np.bincount(where, share[loop], minlength=len(edges))
    source, target = edges // max(n, 1), edges % max(n, 1)
    out = np.bincount(source, total, minlength=n)
    return Graph(n, source, target, total / out[source])


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and each key's index among them (np.unique would import numpy.ma: ~10 ms)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    where = np.empty(len(keys), dtype=np.int64)
    where[order] = np.cumsum(starts) - 1
    return ordered[starts], where


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
