"""Fitting lingcode's learned combiner (`lingcode/context/combine.py`) inside leave-one-repository-out folds.

Each task's candidates (the first stage's best `CANDIDATES`) get the combiner's features from the cached
signals, computed exactly as the engine computes them. A fold fits the weights on the training tasks by
L2-regularised listwise softmax (maximise the log-probability of the gold files among their task's
candidates), with the L2 strength chosen by an inner leave-one-repository-out over the training
repositories only; it then scores the held-out repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.localize_signals import TaskSignals
from benchmarks.localize_sim import (
    Setting,
    _normalise,
    first_direct,
    literal_evidence,
    objective,
    passage_evidence,
    prior_of,
    scores,
    worst_rank,
)
from lingcode.context.combine import Columns, features
from lingcode.context.graph import pagerank
from lingcode.context.rerank import CANDIDATES

STRENGTHS = (0.3, 1.0, 3.0)


@dataclass
class Candidates:
    """One task's candidates (record indices, first-stage order), their features and the fused scores."""

    order: np.ndarray
    matrix: np.ndarray
    columns: Columns
    gold: np.ndarray
    """Per candidate: is it a gold file."""
    signals: TaskSignals


SHIPPED = Setting()


def columns(ts: TaskSignals, s: Setting = SHIPPED) -> tuple[Columns, np.ndarray]:
    """The combiner's columns from cached signals under the shipped setting, and the candidate order."""
    prior = prior_of(ts, s)
    direct = first_direct(ts, s)
    graph = _normalise(pagerank(ts.graph, direct + (0.0 if direct.any() else 1.0)))
    first = (direct + s.graph * graph) * prior
    order = np.argsort(-first, kind="stable")[:CANDIDATES]
    chosen = np.array([i for i in order if ts.other_prior[i] > 0.3 and first[i] > 0], dtype=np.int64)
    cols = Columns(
        lexical=_normalise(s.title * ts.title["lexical"] + ts.body["lexical"]),
        lexical_title=_normalise(ts.title["lexical"].copy()),
        lexical_body=_normalise(ts.body["lexical"].copy()),
        path=_normalise(s.title * ts.title["path"] + ts.body["path"]),
        names=_normalise(s.title * ts.title["names"] + ts.body["names"]),
        symbols=ts.symbols,
        mentioned=ts.mentioned,
        graph=graph,
        passages=passage_evidence(ts, chosen, s),
        literals=literal_evidence(ts, chosen, s, prior),
        tests=ts.tests,
        docs=ts.docs,
        other_prior=ts.other_prior,
        fused=_normalise(scores(ts, s).scores),
    )
    return cols, order


def candidates(ts: TaskSignals) -> Candidates:
    """A task's candidates with their feature matrix."""
    cols, order = columns(ts)
    return Candidates(order, features(cols, order), cols, np.isin(order, ts.gold), ts)


def fit(tasks: Sequence[Candidates], strength: float) -> np.ndarray:
    """Weights maximising the gold files' softmax log-probability over the tasks, minus strength/2 |w|^2."""
    from scipy.optimize import minimize

    usable = [t for t in tasks if t.gold.any()]
    width = tasks[0].matrix.shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = 0.5 * strength * float(w @ w), strength * w
        for t in usable:
            z = t.matrix @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            value -= float(np.log(p[t.gold] + 1e-12).sum())
            grad = grad - (t.matrix[t.gold].sum(axis=0) - t.gold.sum() * (p @ t.matrix))
        return value, grad

    start = np.zeros(width)
    start[-1] = 5.0  # start from the second stage's own order
    return np.asarray(minimize(loss, start, jac=True, method="L-BFGS-B").x)


def final_scores(t: Candidates, w: np.ndarray) -> np.ndarray:
    """Scores over all records with the candidates re-ordered by weights `w` (as `combine.reorder`)."""
    from lingcode.context.combine import reorder

    return reorder(t.columns, t.order, w)


def worst(t: Candidates, w: np.ndarray) -> int:
    """The task's worst gold rank under weights `w`."""
    return worst_rank(final_scores(t, w), t.signals.gold, t.signals.gold_missing)


def loo(tasks: Sequence[Candidates], repos: np.ndarray, strength: float) -> np.ndarray:
    """Leave-one-repository-out worst ranks at a fixed strength."""
    held = np.zeros(len(tasks), dtype=np.int64)
    for repo in sorted(set(repos.tolist())):
        test = repos == repo
        w = fit([t for t, m in zip(tasks, test, strict=True) if not m], strength)
        held[test] = [worst(t, w) for t, m in zip(tasks, test, strict=True) if m]
    return held


def choose_strength(tasks: Sequence[Candidates], repos: np.ndarray) -> float:
    """The strength whose leave-one-repository-out objective over these tasks is best."""
    values = [objective(loo(tasks, repos, s)) for s in STRENGTHS]
    return STRENGTHS[int(np.argmax(values))]


def nested_loo(
    tasks: Sequence[Candidates], repos: np.ndarray
) -> tuple[np.ndarray, dict[str, tuple[float, np.ndarray]]]:
    """Outer folds by repository; each chooses its strength by an inner LOO over its training repositories."""
    held = np.zeros(len(tasks), dtype=np.int64)
    chosen: dict[str, tuple[float, np.ndarray]] = {}
    for repo in sorted(set(repos.tolist())):
        test = repos == repo
        train = [t for t, m in zip(tasks, test, strict=True) if not m]
        strength = choose_strength(train, repos[~test])
        w = fit(train, strength)
        chosen[repo] = (strength, w)
        held[test] = [worst(t, w) for t, m in zip(tasks, test, strict=True) if m]
    return held, chosen


def stacked_loo(
    signals: Sequence[TaskSignals], repos: np.ndarray, settings: Sequence[Setting], chosen: dict[str, int]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """LOO with every upstream setting re-chosen too: each fold computes the features under the setting its
    grid search chose (`chosen`, by repository), then fits the combiner on its training tasks as above."""
    held = np.zeros(len(signals), dtype=np.int64)
    weights: dict[str, np.ndarray] = {}
    for repo in sorted(set(repos.tolist())):
        setting = settings[chosen[repo]]
        tasks = []
        for ts in signals:
            cols, order = columns(ts, setting)
            tasks.append(Candidates(order, features(cols, order), cols, np.isin(order, ts.gold), ts))
        test = repos == repo
        train = [t for t, m in zip(tasks, test, strict=True) if not m]
        w = fit(train, choose_strength(train, repos[~test]))
        weights[repo] = w
        held[test] = [worst(t, w) for t, m in zip(tasks, test, strict=True) if m]
    return held, weights
