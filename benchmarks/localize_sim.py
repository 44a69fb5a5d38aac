"""Re-running lingcode's two-stage ranking from cached signals under any setting (`localize_signals.py`).

`scores(task, setting)` mirrors `rank.fuse` and `rerank.candidate_evidence` step by step: the title factor
rescales the title half of each lexical signal, the first stage's best `candidates` files get passage BM25
(document frequencies over their passages) and literal idf (over them), and the second fusion ranks. Files
outside the cached pool get no second-stage evidence (`Outcome.uncovered` counts how often one is a
candidate, so the approximation is visible).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from benchmarks.localize_signals import TaskSignals
from lingcode.context.graph import pagerank

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Setting:
    """Every ranker setting that was chosen by looking at tasks; the defaults are the shipped ones."""

    title: float = 3.0
    path: float = 0.3
    names: float = 0.3
    symbols: float = 0.0
    mentioned: float = 0.3
    graph: float = 0.05
    passages: float = 0.5
    literals: float = 0.5
    candidates: int = 50
    second_best: float = 0.5
    test_prior: float = 0.35
    doc_prior: float = 0.5
    sentence: float = 2.0

    def label(self) -> str:
        """The setting's fields that differ from the shipped defaults, or "shipped"."""
        base = asdict(Setting())
        diff = [f"{k}={v:g}" for k, v in asdict(self).items() if base[k] != v]
        return " ".join(diff) or "shipped"


@dataclass
class Outcome:
    """One ranking: the worst rank of the gold files (1-based) and the full score array."""

    worst: int
    scores: np.ndarray
    uncovered: int


def _normalise(values: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else values


def _fuse(direct: np.ndarray, ts: TaskSignals, prior: np.ndarray, graph_weight: float) -> np.ndarray:
    personal = direct + (0.0 if direct.any() else 1.0)
    fused = direct * prior
    if graph_weight:
        fused = (direct + graph_weight * _normalise(pagerank(ts.graph, personal))) * prior
    return _normalise(fused) * 0.9


def first_direct(ts: TaskSignals, s: Setting) -> np.ndarray:
    """The first stage's direct evidence under a setting."""

    def part(key: str) -> np.ndarray:
        return _normalise(s.title * ts.title[key] + ts.body[key])

    return (
        part("lexical")
        + s.path * part("path")
        + s.names * part("names")
        + s.symbols * ts.symbols
        + s.mentioned * ts.mentioned
    )


def prior_of(ts: TaskSignals, s: Setting) -> np.ndarray:
    """Demotion of tests, docs and unparsed files under a setting."""
    return ts.other_prior * np.where(ts.tests, s.test_prior, 1.0) * np.where(ts.docs, s.doc_prior, 1.0)


def passage_evidence(ts: TaskSignals, chosen: np.ndarray, s: Setting) -> np.ndarray:
    """Best passage + second_best x second best, BM25 over the chosen files' passages (over all records)."""
    out = np.zeros(ts.n)
    keep = np.isin(ts.passage_owner, chosen)
    if not keep.any():
        return out
    n = int(keep.sum())
    avg = float(ts.passage_length[keep].mean()) or 1.0
    entry = keep[ts.tf_passage]
    rows, cols, tf = ts.tf_passage[entry], ts.tf_term[entry], ts.tf_count[entry]
    df = np.bincount(cols, minlength=len(ts.terms))
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    q = ts.term_base * np.where(ts.term_title, s.title, 1.0)
    norm = K1 * (1 - B + B * ts.passage_length[rows] / avg)
    value = q[cols] * idf[cols] * tf * (K1 + 1) / (tf + norm)
    per_passage = np.bincount(rows, value, minlength=len(ts.passage_owner))
    owners = ts.passage_owner[keep]
    values = per_passage[keep]
    order = np.lexsort((-values, owners))
    owners, values = owners[order], values[order]
    first = np.ones(len(owners), dtype=bool)
    first[1:] = owners[1:] != owners[:-1]
    second = np.zeros(len(owners), dtype=bool)
    second[1:] = ~first[1:] & first[:-1]
    out[owners[first]] += values[first]
    out[owners[second]] += s.second_best * values[second]
    return _normalise(out)


def literal_evidence(ts: TaskSignals, chosen: np.ndarray, s: Setting, prior: np.ndarray) -> np.ndarray:
    """Each chosen file's idf-weighted phrase matches (idf over the chosen files), times the prior."""
    out = np.zeros(ts.n)
    if not len(ts.phrase_sentence) or not len(chosen):
        return out
    where = np.isin(ts.pool, chosen)
    share = ts.phrase_share[:, where]
    hits = (share > 0).sum(axis=1)
    idf = np.where(hits > 0, np.log(1 + len(chosen) / np.maximum(hits, 1)), 0.0)
    weight = np.where(ts.phrase_sentence, s.sentence, 1.0)
    out[ts.pool[where]] = (share * (idf * weight)[:, None]).sum(axis=0)
    return _normalise(out * prior)


def scores(ts: TaskSignals, s: Setting) -> Outcome:
    """Both stages under a setting, and where the gold files land."""
    prior = prior_of(ts, s)
    direct = first_direct(ts, s)
    first = _fuse(direct, ts, prior, s.graph)
    order = np.argsort(-first, kind="stable")[: s.candidates]
    other = ts.other_prior
    chosen = np.array([i for i in order if other[i] > 0.3 and first[i] > 0], dtype=np.int64)
    uncovered = int((~np.isin(chosen, ts.pool)).sum())
    if len(chosen) and (s.passages or s.literals):
        direct = direct + s.passages * passage_evidence(ts, chosen, s)
        direct = direct + s.literals * literal_evidence(ts, chosen, s, prior)
        final = _fuse(direct, ts, prior, s.graph)
    else:
        final = first
    return Outcome(worst_rank(final, ts.gold, ts.gold_missing), final, uncovered)


def worst_rank(values: np.ndarray, gold: list[int], missing: int) -> int:
    """The 1-based rank of the worst-placed gold file under a stable sort (records are in path order)."""
    if missing or not gold:
        return 10**9
    order = np.argsort(-values, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(1, len(order) + 1)
    return int(position[gold].max())


def objective(worst: np.ndarray) -> float:
    """What a fold maximises over its training tasks: Acc@5 first, then Acc@3 and Acc@1, then 1/rank."""
    w = worst.astype(np.float64)
    return float(1000 * (w <= 5).mean() + 100 * (w <= 3).mean() + 10 * (w <= 1).mean() + (1.0 / w).mean())


def dcg_gain(worst: int) -> float:
    """A smooth per-task score (used only to print): 1/log2(1+rank)."""
    return 1.0 / math.log2(1 + worst)
