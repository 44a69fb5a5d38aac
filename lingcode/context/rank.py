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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from lingcode.context.files import is_test_path
from lingcode.context.index import FileRecord
from lingcode.context.query import Mentions, PathLookup, find_mentions
from lingcode.context.terms import terms

_DOC_PATH = re.compile(r"(^|/)(docs?|examples?|benchmarks?|changelog|changes)/", re.I)
_MAX_DEFINERS = 40  # a name defined in more files than this (get, run, __init__) says nothing about coupling
_DAMPING = 0.85


@dataclass(frozen=True)
class Ranked:
    """One file's rank: its index among the records, fused score and why it ranks."""

    index: int
    score: float
    reason: str


def name_table(records: Sequence[FileRecord]) -> tuple[dict[str, int], list[list[int]]]:
    """Name -> column id, and for each column the record indices that define it."""
    ids: dict[str, int] = {}
    definers: list[list[int]] = []
    for i, rec in enumerate(records):
        for name, *_ in rec.definitions:
            col = ids.setdefault(name, len(ids))
            if col == len(definers):
                definers.append([])
            if not definers[col] or definers[col][-1] != i:
                definers[col].append(i)
    return ids, definers


def reference_graph(
    records: Sequence[FileRecord], ids: dict[str, int], definers: list[list[int]]
) -> sparse.csr_matrix:
    """Row-stochastic file x file transition matrix (rows of files without out-edges are zero)."""
    n, m = len(records), len(ids)
    rows: list[int] = []
    cols: list[int] = []
    for i, rec in enumerate(records):
        for name in rec.references:
            col = ids.get(name)
            if col is not None:
                rows.append(i)
                cols.append(col)
    uses = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, m))
    def_rows = np.fromiter((c for c, files in enumerate(definers) for _ in files), dtype=np.int64)
    def_cols = np.fromiter((f for files in definers for f in files), dtype=np.int64)
    counts = np.array([len(f) for f in definers], dtype=np.float32)
    # specific names (few definers, long) couple files more than generic ones
    lengths = np.array([min(len(name), 16) for name in ids], dtype=np.float32)
    weight = np.where(counts <= _MAX_DEFINERS, np.sqrt(lengths / 8.0) / np.maximum(counts, 1.0), 0.0)
    defs = sparse.csr_matrix((weight[def_rows], (def_rows, def_cols)), shape=(m, n))
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


def bm25(
    conn: sqlite3.Connection, records: Sequence[FileRecord], query: str, k1: float = 1.2, b: float = 0.75
) -> np.ndarray:
    """BM25 score of every record for the query's terms, from the index's postings."""
    n = len(records)
    scores = np.zeros(n)
    if n == 0:
        return scores
    by_blob: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        if not rec.status:
            by_blob[rec.blob].append(i)
    lengths = np.array([max(rec.length, 1) for rec in records], dtype=np.float64)
    avg = lengths.mean()
    for term in set(terms(query)):
        hits = [
            (i, tf)
            for blob, tf in conn.execute("SELECT blob, tf FROM postings WHERE term = ?", (term,))
            for i in by_blob.get(blob, ())
        ]
        if not hits or len(hits) > n * 0.5:
            continue  # absent, or as common as a stopword here
        idx = np.fromiter((i for i, _ in hits), dtype=np.int64)
        tf = np.fromiter((t for _, t in hits), dtype=np.float64)
        idf = math.log(1 + (n - len(hits) + 0.5) / (len(hits) + 0.5))
        scores[idx] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[idx] / avg))
    return scores


def _symbol_scores(
    records: Sequence[FileRecord], mentions: Mentions, ids: dict[str, int], definers: list[list[int]]
) -> np.ndarray:
    scores = np.zeros(len(records))
    n = max(len(records), 2)
    for name, weight in mentions.names.items():
        files = definers[ids[name]]
        idf = math.log(n / len(files))
        for i in files:
            scores[i] += math.sqrt(weight) * idf / math.sqrt(len(files))
    return scores


def _normalise(values: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else values


def rank_files(
    conn: sqlite3.Connection,
    records: Sequence[FileRecord],
    task: str,
    named: Sequence[str] = (),
    changed: Sequence[str] = (),
) -> list[Ranked]:
    """All records, best first, with fused scores in [0, 1] and the reason each ranks."""
    n = len(records)
    if n == 0:
        return []
    paths = [r.path for r in records]
    where = {p: i for i, p in enumerate(paths)}
    ids, definers = name_table(records)
    defined = {name: len(definers[col]) for name, col in ids.items()}
    mentions = find_mentions(task, PathLookup(paths), defined) if task else Mentions()
    lexical = _normalise(bm25(conn, records, task)) if task else np.zeros(n)
    symbols = _normalise(_symbol_scores(records, mentions, ids, definers))
    mentioned = np.zeros(n)
    for i, weight in mentions.files.items():
        mentioned[i] = weight
    forced = np.zeros(n)
    for path in [*named, *changed]:
        if path in where:
            forced[where[path]] = 1.0
    direct = 0.45 * lexical + 0.35 * symbols + 0.6 * mentioned
    personal = direct + forced + (0.0 if direct.any() or forced.any() else 1.0)
    graph = _normalise(pagerank(reference_graph(records, ids, definers), personal))
    fused = direct + 0.25 * graph
    fused *= _priors(records)
    fused = _normalise(fused) * 0.9
    named_set, changed_set = set(named), set(changed)
    out = []
    for i in range(n):
        path = paths[i]
        if path in named_set:
            out.append(Ranked(i, 1.0, "named"))
        elif path in changed_set:
            out.append(Ranked(i, 0.95 + 0.05 * float(fused[i]), "in diff"))
        else:
            out.append(Ranked(i, float(fused[i]), "mentioned" if mentioned[i] else "ranked"))
    out.sort(key=lambda r: (-r.score, paths[r.index]))
    return out


def _priors(records: Sequence[FileRecord]) -> np.ndarray:
    prior = np.ones(len(records))
    for i, rec in enumerate(records):
        if is_test_path(rec.path):
            prior[i] *= 0.35
        if _DOC_PATH.search(rec.path):
            prior[i] *= 0.5
        if rec.status:
            prior[i] *= 0.3
        elif rec.language is None:
            prior[i] *= 0.6
    return prior
