"""Ranking files for a task: personalised PageRank over the reference graph, fused with lexical signals.

The graph has an edge from file A to file B, weighted by how specific the shared names are, when A uses a
name B defines. It is built with numpy array operations (uses x names joined with names x definers),
never as Python edge objects, and ranked by power iteration. Lexical retrieval is BM25 over the index's
postings (the index is incremental, so the corpus is never re-tokenised per query), plus exact matches of
paths and identifiers the task mentions. Test files and non-code files are demoted: tasks ask to change
source.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from lingcode.context.files import is_test_path
from lingcode.context.index import FileRecord
from lingcode.context.lexical import bag_bm25, content_bm25, path_words, query_weights, symbol_words
from lingcode.context.query import Mentions, PathLookup, find_mentions

_DOC_HINT = frozenset(
    {"doc", "docs", "example", "examples", "benchmark", "benchmarks", "changelog", "changes"}
)
_TEST_CUE = re.compile("test|spec")  # every test path holds one (compared lower-case, so a superset)
_DOC_CUE = re.compile("doc|exampl|bench|change")  # every _DOC_HINT word holds one: a cheap first filter
_MAX_DEFINERS = 40  # a name defined in more files than this (get, run, __init__) says nothing about coupling
_DAMPING = 0.85


@dataclass(slots=True)
class Ranked:
    """One file's rank: its index among the records, fused score and why it ranks.

    Slotted and not frozen: one is made per file on every ranking (50,000 on big trees), and a frozen
    dataclass's constructor costs several times more.
    """

    index: int
    score: float
    reason: str


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


def _symbol_scores(records: Sequence[FileRecord], mentions: Mentions, names: NameTable) -> np.ndarray:
    scores = np.zeros(len(records))
    n = max(len(records), 2)
    for name, weight in mentions.names.items():
        files = names.definers(name)
        idf = math.log(n / len(files))
        for i in files:
            scores[i] += math.sqrt(weight) * idf / math.sqrt(len(files))
    return scores


def _normalise(values: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else values


@dataclass
class Signals:
    """Per-file evidence for one task, each an array over the records."""

    lexical: np.ndarray
    """BM25 of the task over file contents, max-normalised."""
    path: np.ndarray
    """BM25 of the task over path words, max-normalised."""
    names: np.ndarray
    """BM25 of the task over the words of each file's definition names, max-normalised."""
    symbols: np.ndarray
    """Definitions of identifiers the task names exactly, idf-weighted, max-normalised."""
    mentioned: np.ndarray
    """Files the task names by path, module or traceback frame."""
    forced: np.ndarray
    """Files the user named or that are in the diff."""
    prior: np.ndarray
    """Demotion of tests, docs and unparsed files."""
    transition: Graph


@dataclass(frozen=True)
class Weights:
    """How the signals are fused."""

    lexical: float = 1.0
    path: float = 0.3
    names: float = 0.3
    symbols: float = 0.0
    mentioned: float = 0.3
    graph: float = 0.05


def signals(
    conn: sqlite3.Connection,
    records: Sequence[FileRecord],
    task: str,
    named: Sequence[str] = (),
    changed: Sequence[str] = (),
) -> Signals:
    """Compute every ranking signal of the task over the records."""
    n = len(records)
    paths = [r.path for r in records]
    where = {p: i for i, p in enumerate(paths)}
    names = name_table(records)
    mentions = Mentions()
    if task:
        counts = names.counts()
        defined = {name: int(counts[col]) for name, col in names.ids.items()}
        mentions = find_mentions(task, PathLookup(paths), defined)
    mentioned = np.zeros(n)
    for i, weight in mentions.files.items():
        mentioned[i] = weight
    forced = np.zeros(n)
    for path in [*named, *changed]:
        if path in where:
            forced[where[path]] = 1.0
    query = query_weights(task)
    nothing = np.zeros(n)
    return Signals(
        lexical=_normalise(content_bm25(conn, records, query)) if query else nothing,
        path=_normalise(bag_bm25([path_words(p) for p in paths], query)) if query else nothing,
        names=_normalise(bag_bm25([symbol_words(r) for r in records], query)) if query else nothing,
        symbols=_normalise(_symbol_scores(records, mentions, names)),
        mentioned=mentioned,
        forced=forced,
        prior=_priors(records),
        transition=reference_graph(records, names),
    )


def fuse(sig: Signals, weights: Weights = Weights()) -> np.ndarray:
    """One score per file in [0, 0.9]: direct evidence plus PageRank personalised by it, times the priors."""
    direct = (
        weights.lexical * sig.lexical
        + weights.path * sig.path
        + weights.names * sig.names
        + weights.symbols * sig.symbols
        + weights.mentioned * sig.mentioned
    )
    personal = direct + sig.forced + (0.0 if direct.any() or sig.forced.any() else 1.0)
    graph = _normalise(pagerank(sig.transition, personal))
    fused: np.ndarray = (direct + weights.graph * graph) * sig.prior
    return _normalise(fused) * 0.9


def rank_files(
    conn: sqlite3.Connection,
    records: Sequence[FileRecord],
    task: str,
    named: Sequence[str] = (),
    changed: Sequence[str] = (),
) -> list[Ranked]:
    """All records, best first, with fused scores in [0, 1] and the reason each ranks."""
    if not records:
        return []
    sig = signals(conn, records, task, named, changed)
    fused = fuse(sig)
    scores = fused.astype(np.float64)
    reasons = np.where(sig.mentioned > 0, "mentioned", "ranked").astype(object)
    where = {r.path: i for i, r in enumerate(records)} if named or changed else {}
    for path in changed:
        if path in where:
            scores[where[path]] = 0.95 + 0.05 * float(fused[where[path]])
            reasons[where[path]] = "in diff"
    for path in named:
        if path in where:
            scores[where[path]] = 1.0
            reasons[where[path]] = "named"
    # records are in path order, so a stable sort on the score breaks ties by path
    order = np.argsort(-scores, kind="stable")
    return list(map(Ranked, order.tolist(), scores[order].tolist(), reasons[order].tolist()))


def _priors(records: Sequence[FileRecord]) -> np.ndarray:
    paths = [rec.path for rec in records]
    prior = np.ones(len(records))
    if not paths:
        return prior
    # cheap cues found in one pass over all paths joined; the exact checks then run on a few paths only
    joined = "\n".join(paths).lower()
    starts = np.cumsum([0] + [len(p) + 1 for p in paths[:-1]])
    tests = _cued(_TEST_CUE, joined, starts)
    prior[[i for i in tests if is_test_path(paths[i])]] *= 0.35
    docs = _cued(_DOC_CUE, joined, starts)
    prior[[i for i in docs if _DOC_HINT.intersection(paths[i].lower().split("/")[:-1])]] *= 0.5
    prior[[i for i, rec in enumerate(records) if rec.status]] *= 0.3
    prior[[i for i, rec in enumerate(records) if not rec.status and rec.language is None]] *= 0.6
    return prior


def _cued(cue: re.Pattern[str], joined: str, starts: np.ndarray) -> list[int]:
    """Indices of the paths (joined by newlines, starting at `starts`) in which `cue` matches."""
    hits = [m.start() for m in cue.finditer(joined)]
    if not hits:
        return []
    return sorted({int(i) - 1 for i in np.searchsorted(starts, hits, side="right")})
