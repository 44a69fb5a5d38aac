"""The third ranking step: a learned linear combiner re-orders the second stage's candidates.

Hand-set fusion weights were chosen by looking at the development tasks, and re-choosing them per held-out
repository showed how much of their figure was fit to those repositories (`benchmarks/localize.py --loo`).
A linear score over every signal, fit as a listwise softmax (the gold file against the other candidates of
its task) with L2 regularisation, holds up better out of sample. This module only applies fixed weights;
`benchmarks/localize_combiner.py` fits them, scores the fit leave-one-repository-out and prints the
weights kept here (fit on all development repositories once that estimate was taken).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = (
    "lexical",
    "lexical_title",
    "lexical_body",
    "path",
    "names",
    "symbols",
    "mentioned",
    "graph",
    "passages",
    "literals",
    "test",
    "doc",
    "log_other_prior",
    "first_rank",
    "fused",
)
"""The columns of the feature matrix, in order."""

_EVIDENCE = [FEATURES.index(name) for name in FEATURES[:10] if name != "graph"]
"""The columns that come from the task's text (PageRank and the priors are there without a task)."""

WEIGHTS = np.array(
    [-0.12, 2.73, 0.74, 0.77, 1.19, 0.61, 0.55, -1.06, 1.53, 0.33, -1.82, -0.78, 1.85, -0.52, 3.62]
)
"""Fit on all 63 SWE-bench Lite dev tasks (8 repositories) with L2 strength 0.3, the strength that a
leave-one-repository-out search over (0.3, 1, 3) chose on those tasks; see benchmarks/RESULTS.md."""


@dataclass
class Columns:
    """Per-record signal arrays the features are read from (each over all records)."""

    lexical: np.ndarray
    lexical_title: np.ndarray
    lexical_body: np.ndarray
    path: np.ndarray
    names: np.ndarray
    symbols: np.ndarray
    mentioned: np.ndarray
    graph: np.ndarray
    passages: np.ndarray
    literals: np.ndarray
    tests: np.ndarray
    docs: np.ndarray
    other_prior: np.ndarray
    fused: np.ndarray
    """The second stage's fused score, max-normalised."""


def features(cols: Columns, order: np.ndarray) -> np.ndarray:
    """The feature matrix of the candidates `order` (record indices, best first by the first stage)."""
    rank = np.arange(1, len(order) + 1, dtype=np.float64)
    picked = [
        cols.lexical,
        cols.lexical_title,
        cols.lexical_body,
        cols.path,
        cols.names,
        cols.symbols,
        cols.mentioned,
        cols.graph,
        cols.passages,
        cols.literals,
        cols.tests.astype(np.float64),
        cols.docs.astype(np.float64),
        np.log(cols.other_prior),
    ]
    matrix = np.stack([c[order] for c in picked] + [1.0 / np.log2(1.0 + rank), cols.fused[order]], axis=1)
    return matrix


def reorder(cols: Columns, order: np.ndarray, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """Scores over all records: the candidates `order` by the combiner, above every other record.

    Others keep their fused score scaled into [0, 0.45); candidates get (0.45, 0.9] by combiner score.
    When no candidate has any evidence from the task, the fused order stands: the weights were fit on
    tasks with evidence, and on none they would only reshuffle ties.
    """
    matrix = features(cols, order)
    if not matrix[:, _EVIDENCE].any():
        return _normalise(cols.fused) * 0.9
    out = _normalise(cols.fused) * 0.45 * (1 - 1e-9)
    z = matrix @ weights
    span = float(z.max() - z.min())
    out[order] = 0.45 + 0.45 * ((z - z.min()) / span if span > 0 else np.ones(len(z)))
    return out


def _normalise(values: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else values
