"""Ranking files for a task: PageRank over the reference graph (`graph.py`) fused with lexical signals.

Lexical retrieval is BM25 over the index's postings (the index is incremental, so the corpus is never
re-tokenised per query), plus exact matches of paths and identifiers the task mentions. Test files and
non-code files are demoted: tasks ask to change source. When the work tree is at hand, a second stage
(`rerank.py`) reads the top candidates and adds their best-passage and quoted-literal evidence, and a
learned linear combiner (`combine.py`) re-orders those candidates from all the signals: hand-set fusion
weights held up worse on repositories they were not chosen on (`benchmarks/localize.py --loo`).
"""

from __future__ import annotations

import math
import re
import sqlite3
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

import numpy as np

from lingcode.context.files import is_test_path
from lingcode.context.graph import Graph, NameTable, name_table, pagerank, reference_graph
from lingcode.context.index import FileRecord
from lingcode.context.lexical import (
    bag_bm25,
    content_bm25_split,
    path_words,
    query_weights,
    symbol_words,
    title_terms,
)
from lingcode.context.query import Mentions, PathLookup, find_mentions

_path_of = attrgetter("path")
_DOC_HINT = frozenset(
    {"doc", "docs", "example", "examples", "benchmark", "benchmarks", "changelog", "changes"}
)
_TEST_CUE = re.compile("test|spec")  # every test path holds one (compared lower-case, so a superset)
_DOC_CUE = re.compile("doc|exampl|bench|change")  # every _DOC_HINT word holds one: a cheap first filter


@dataclass(slots=True)
class Ranked:
    """One file's rank: its index among the records, fused score and why it ranks.

    Slotted and not frozen: one is made per file on every ranking (50,000 on big trees), and a frozen
    dataclass's constructor costs several times more.
    """

    index: int
    score: float
    reason: str


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
class PriorParts:
    """What the prior is made of, per record: is it a test file, is it a documentation file, and the
    factor for files left unparsed (0.3) or of no known language (0.6), else 1."""

    tests: np.ndarray
    docs: np.ndarray
    other: np.ndarray


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
    lexical_title: np.ndarray
    """The title terms' part of the content BM25, max-normalised on its own."""
    lexical_body: np.ndarray
    """The other terms' part of the content BM25, max-normalised on its own."""
    prior_parts: PriorParts
    passages: np.ndarray | None = field(default=None)
    """Second stage: BM25 of each candidate's best passages, max-normalised (None before that stage)."""
    literals: np.ndarray | None = field(default=None)
    """Second stage: the task's quoted text found in each candidate's string literals, max-normalised."""


@dataclass(frozen=True)
class Weights:
    """How the signals are fused."""

    lexical: float = 1.0
    path: float = 0.3
    names: float = 0.3
    symbols: float = 0.0
    mentioned: float = 0.3
    graph: float = 0.05
    passages: float = 0.5
    literals: float = 0.5


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
    for i in _locate(records, [*named, *changed]).values():
        forced[i] = 1.0
    query = query_weights(task)
    nothing = np.zeros(n)
    title, body = content_bm25_split(conn, records, query, title_terms(task)) if query else (nothing, nothing)
    tests, docs, other = _prior_factors(records, paths)
    return Signals(
        lexical=_normalise(title + body),
        path=_normalise(bag_bm25([path_words(p) for p in paths], query)) if query else nothing,
        names=_normalise(bag_bm25([symbol_words(r) for r in records], query)) if query else nothing,
        symbols=_normalise(_symbol_scores(records, mentions, names)),
        mentioned=mentioned,
        forced=forced,
        prior=tests * docs * other,
        transition=reference_graph(records, names),
        lexical_title=_normalise(title),
        lexical_body=_normalise(body),
        prior_parts=PriorParts(tests < 1, docs < 1, other),
    )


def fuse(sig: Signals, weights: Weights = Weights()) -> np.ndarray:
    """One score per file in [0, 0.9]: direct evidence plus PageRank personalised by it, times the priors."""
    return fuse_with_graph(sig, weights)[0]


def fuse_with_graph(sig: Signals, weights: Weights = Weights()) -> tuple[np.ndarray, np.ndarray]:
    """`fuse`'s scores and the max-normalised PageRank they hold (a feature of the learned combiner)."""
    direct = (
        weights.lexical * sig.lexical
        + weights.path * sig.path
        + weights.names * sig.names
        + weights.symbols * sig.symbols
        + weights.mentioned * sig.mentioned
    )
    if sig.passages is not None:
        direct = direct + weights.passages * sig.passages
    if sig.literals is not None:
        direct = direct + weights.literals * sig.literals
    personal = direct + sig.forced + (0.0 if direct.any() or sig.forced.any() else 1.0)
    graph = _normalise(pagerank(sig.transition, personal))
    fused: np.ndarray = (direct + weights.graph * graph) * sig.prior
    return _normalise(fused) * 0.9, graph


def rank_files(
    conn: sqlite3.Connection,
    records: Sequence[FileRecord],
    task: str,
    named: Sequence[str] = (),
    changed: Sequence[str] = (),
    root: Path | None = None,
) -> list[Ranked]:
    """All records, best first, with fused scores in [0, 1] and the reason each ranks.

    `root` (the work tree) lets a ranking stage read candidate files' text; None ranks from the index alone.
    """
    if not records:
        return []
    sig = signals(conn, records, task, named, changed)
    fused, graph = fuse_with_graph(sig)
    if root is not None and task:
        # imported here: the task-free map (`lingcode map`) never runs this stage and need not load it
        from lingcode.context.rerank import candidate_evidence

        evidence = candidate_evidence(records, fused, sig.prior, root, task, query_weights(task))
        sig.passages, sig.literals = evidence.passages, evidence.literals
        fused = _combined(sig, graph, evidence.order, fuse(sig))
    scores = fused.astype(np.float64)
    reasons = np.where(sig.mentioned > 0, "mentioned", "ranked").astype(object)
    for i in _locate(records, changed).values():
        scores[i] = 0.95 + 0.05 * float(fused[i])
        reasons[i] = "in diff"
    for i in _locate(records, named).values():
        scores[i] = 1.0
        reasons[i] = "named"
    # records are in path order, so a stable sort on the score breaks ties by path
    order = np.argsort(-scores, kind="stable")
    return list(map(Ranked, order.tolist(), scores[order].tolist(), reasons[order].tolist()))


def _combined(sig: Signals, graph: np.ndarray, order: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The learned combiner's order of the second stage's candidates, above every other file."""
    from lingcode.context.combine import Columns, reorder

    assert sig.passages is not None and sig.literals is not None
    parts = sig.prior_parts
    cols = Columns(
        sig.lexical, sig.lexical_title, sig.lexical_body, sig.path, sig.names, sig.symbols, sig.mentioned,
        graph, sig.passages, sig.literals, parts.tests, parts.docs, parts.other, _normalise(second),
    )  # fmt: skip
    return reorder(cols, order)


def _locate(records: Sequence[FileRecord], wanted: Sequence[str]) -> dict[str, int]:
    """Record index of each wanted path that is a record. Records are in path order (the engine keeps them
    so), so a binary search does it: a dict of every path costs ~25 ms at 50,000 files for the few asked."""
    found: dict[str, int] = {}
    for path in wanted:
        i = bisect_left(records, path, key=_path_of)
        if i < len(records) and records[i].path == path:
            found[path] = i
    return found


def _prior_factors(
    records: Sequence[FileRecord], paths: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The prior's factors (their product is the prior): 0.35 for tests, 0.5 for docs, 0.3 unparsed /
    0.6 unknown language, else 1."""
    tests, docs, other = np.ones(len(records)), np.ones(len(records)), np.ones(len(records))
    if not paths:
        return tests, docs, other
    # cheap cues found in one pass over all paths joined; the exact checks then run on a few paths only
    joined = "\n".join(paths).lower()
    starts = np.cumsum([0] + [len(p) + 1 for p in paths[:-1]])
    tests[[i for i in _cued(_TEST_CUE, joined, starts) if is_test_path(paths[i])]] = 0.35
    cued = _cued(_DOC_CUE, joined, starts)
    docs[[i for i in cued if _DOC_HINT.intersection(paths[i].lower().split("/")[:-1])]] = 0.5
    # one pass: files left unparsed (binary, large, generated) and files of no known language
    for i in [i for i, rec in enumerate(records) if rec.status or rec.language is None]:
        other[i] = 0.3 if records[i].status else 0.6
    return tests, docs, other


def _cued(cue: re.Pattern[str], joined: str, starts: np.ndarray) -> list[int]:
    """Indices of the paths (joined by newlines, starting at `starts`) in which `cue` matches."""
    hits = [m.start() for m in cue.finditer(joined)]
    if not hits:
        return []
    return sorted({int(i) - 1 for i in np.searchsorted(starts, hits, side="right")})
