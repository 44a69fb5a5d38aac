"""Ranking files for a task: personalised PageRank over the reference graph, fused with lexical signals.

The graph has an edge from file A to file B, weighted by how specific the shared names are, when A uses a
name B defines. It is built as sparse matrices (uses x names times names x definers), never as Python
edge objects, and ranked by power iteration. Lexical retrieval is BM25 over the index's postings (the
index is incremental, so the corpus is never re-tokenised per query), plus exact matches of paths and
identifiers the task mentions. Test files and non-code files are demoted: tasks ask to change source.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from scipy import sparse

from lingcode.context.files import is_test_path
from lingcode.context.index import FileRecord
from lingcode.context.lexical import bag_bm25, content_bm25, path_words, query_weights, symbol_words
from lingcode.context.query import Mentions, PathLookup, find_mentions

_DOC_HINT = frozenset(
    {"doc", "docs", "example", "examples", "benchmark", "benchmarks", "changelog", "changes"}
)
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
    """Every defined name, and which files define it, as a sparse names x files 0/1 matrix."""

    ids: dict[str, int]
    defines: sparse.csr_matrix

    def definers(self, name: str) -> np.ndarray:
        """Record indices of the files that define `name`."""
        col = self.ids[name]
        found: np.ndarray = self.defines.indices[self.defines.indptr[col] : self.defines.indptr[col + 1]]
        return found

    def counts(self) -> np.ndarray:
        """How many files define each name, by column id."""
        return np.diff(self.defines.indptr)


def _joined(texts: list[str]) -> tuple[list[str], list[int]]:
    """All newline-joined names of every file as one list, and how many each file has (one split in all)."""
    sizes = [text.count("\n") + 1 if text else 0 for text in texts]
    whole = "\n".join(filter(None, texts))
    return (whole.split("\n") if whole else []), sizes


def name_table(records: Sequence[FileRecord]) -> NameTable:
    """Name -> column id and the definers matrix, built from flat arrays (no per-edge objects)."""
    every, sizes = _joined([rec.names_text for rec in records])
    # C-level loops (dict.fromkeys, map): at 50,000 files a Python loop per name costs a good part of a second
    ids: dict[str, int] = dict(zip(dict.fromkeys(every), range(len(every)), strict=False))
    cols = list(map(ids.__getitem__, every))
    owners = np.repeat(np.arange(len(records)), sizes)
    matrix = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (np.asarray(cols, dtype=np.int64), owners)),
        shape=(len(ids), len(records)),
    )
    matrix.data[:] = 1.0  # a name defined twice in one file still has one definer there
    return NameTable(ids, matrix)


def reference_graph(records: Sequence[FileRecord], names: NameTable) -> sparse.csr_matrix:
    """Row-stochastic file x file transition matrix (rows of files without out-edges are zero)."""
    n, m = len(records), len(names.ids)
    get = names.ids.get
    refs, sizes = _joined([rec.refs_text for rec in records])
    cols = np.fromiter(map(get, refs, repeat(-1)), dtype=np.int64, count=len(refs))
    rows = np.repeat(np.arange(n), sizes)
    keep = cols >= 0
    uses = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])), shape=(n, m)
    )
    counts = names.counts().astype(np.float32)
    # specific names (few definers, long) couple files more than generic ones
    lengths = np.minimum(np.fromiter(map(len, names.ids), dtype=np.float32, count=m), 16.0)
    weight = np.where(counts <= _MAX_DEFINERS, np.sqrt(lengths / 8.0) / np.maximum(counts, 1.0), 0.0)
    defs = sparse.diags(weight.astype(np.float32)) @ names.defines
    graph = (uses @ defs).tocsr()
    graph.setdiag(0)
    graph.eliminate_zeros()
    out = np.asarray(graph.sum(axis=1)).ravel()
    scale = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    return sparse.diags(scale) @ graph


def pagerank(transition: sparse.csr_matrix, personal: np.ndarray | None, iterations: int = 40) -> np.ndarray:
    """Personalised PageRank by power iteration; dangling files hand their rank to the personalisation."""
    n = transition.shape[0]
    if n == 0:
        return np.zeros(0)
    p = personal if personal is not None and personal.sum() > 0 else np.ones(n)
    p = p / p.sum()
    dangling = np.asarray(transition.sum(axis=1)).ravel() == 0
    walk = transition.T.tocsr()
    rank: np.ndarray = p.copy()
    for _ in range(iterations):
        new: np.ndarray = _DAMPING * (walk @ rank + rank[dangling].sum() * p) + (1 - _DAMPING) * p
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
    transition: sparse.csr_matrix


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
    # a substring test first: the regular expressions then run on a few paths, not on all of them
    prior[[i for i, p in enumerate(paths) if ("test" in p or "spec" in p) and is_test_path(p)]] *= 0.35
    lowered = [p.lower() for p in paths]
    prior[
        [i for i, p in enumerate(lowered) if _DOC_CUE.search(p) and _DOC_HINT.intersection(p.split("/")[:-1])]
    ] *= 0.5
    prior[[i for i, rec in enumerate(records) if rec.status]] *= 0.3
    prior[[i for i, rec in enumerate(records) if not rec.status and rec.language is None]] *= 0.6
    return prior
