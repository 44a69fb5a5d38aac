"""Leave-one-repository-out scoring of lingcode's localisation (`benchmarks/localize.py --loo`).

1. Per task, cache every ranking signal (`localize_signals.py`), the plain BM25 baseline's gold rank and the
   engine's own gold rank (to check that the simulation reproduces the engine).
2. Score a fixed list of settings (the shipped one and a seeded random sample over every setting that was
   chosen by looking at tasks) on every task from the cache (`localize_sim.py`): a tasks x settings table.
3. For each repository, choose the setting that maximises `objective` on the other repositories' tasks and
   score it on the held-out one; pooled, these are the leave-one-repository-out figures.
4. Render the held-out tasks' contexts (4k/8k/16k) with their fold's setting, and the shipped setting's
   (in-sample) beside them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from benchmarks.localize_signals import TaskSignals, compute, load, save
from benchmarks.localize_sim import Setting, objective, scores

GRID: dict[str, tuple[float, ...]] = {
    "title": (1.0, 1.5, 2.0, 3.0, 4.0),
    "path": (0.0, 0.15, 0.3, 0.6),
    "names": (0.0, 0.15, 0.3, 0.6),
    "symbols": (0.0, 0.1, 0.3),
    "mentioned": (0.15, 0.3, 0.6),
    "graph": (0.0, 0.05, 0.15),
    "passages": (0.0, 0.25, 0.5, 1.0),
    "literals": (0.0, 0.25, 0.5, 1.0),
    "candidates": (30, 50, 100),
    "second_best": (0.25, 0.5, 1.0),
    "test_prior": (0.2, 0.35, 0.6),
    "doc_prior": (0.3, 0.5, 1.0),
}


@dataclass
class Cached:
    """One task's signals and the ranks of its gold files by the baseline and by the engine itself."""

    signals: TaskSignals
    bm25_worst: int
    engine_worst: int
    engine_seconds: float


def settings_list(samples: int, seed: int = 12) -> list[Setting]:
    """The shipped setting, each one-field change of it, then a seeded random sample of the grid."""
    out = [Setting()]
    for name, values in GRID.items():
        out.extend(replace(Setting(), **{name: v}) for v in values if getattr(Setting(), name) != v)
    rng = random.Random(seed)
    seen = set(out)
    while len(out) < samples:
        pick = Setting(**{name: rng.choice(values) for name, values in GRID.items()})  # type: ignore[arg-type]
        if pick not in seen:
            seen.add(pick)
            out.append(pick)
    return out


def build_cache(rows: Sequence[dict[str, object]], roots: Sequence[Path], path: Path) -> dict[str, Cached]:
    """Compute (or load) every task's cached signals; the cache is saved after each new task."""
    from benchmarks.localize import bm25_baseline
    from lingcode.context.engine import snapshot
    from lingcode.context.files import list_files
    from lingcode.context.rank import rank_files

    cache: dict[str, Cached] = load(path)  # type: ignore[assignment]
    for row, root in zip(rows, roots, strict=True):
        task_id, task = str(row["instance_id"]), str(row["problem_statement"])
        if task_id in cache:
            continue
        gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
        snap = snapshot(root, progress=False)
        try:
            records = snap.records
            started = time.process_time()
            order = rank_files(snap.conn, records, task, (), (), root)
            seconds = time.process_time() - started
            ranked = [records[r.index].path for r in order]
            engine_worst = max((ranked.index(g) + 1 if g in ranked else 10**9) for g in gold)
            sig = compute(task_id, str(row["repo"]), task, gold, snap.conn, records, root)
        finally:
            snap.conn.close()
        py_files = [p for p in list_files(root).paths if p.endswith(".py")]
        base = bm25_baseline(root, py_files, task)
        bm25_worst = max((base.index(g) + 1 if g in base else 10**9) for g in gold)
        cache[task_id] = Cached(sig, bm25_worst, engine_worst, seconds)
        save(path, cache)  # type: ignore[arg-type]
        print(f"cached {task_id} engine rank {engine_worst} bm25 {bm25_worst} ({seconds:.2f}s)", flush=True)
    return cache


def score_table(cache: Sequence[Cached], settings: Sequence[Setting]) -> np.ndarray:
    """tasks x settings: the worst gold rank of each task under each setting."""
    table = np.zeros((len(cache), len(settings)), dtype=np.int64)
    for t, item in enumerate(cache):
        for k, s in enumerate(settings):
            table[t, k] = scores(item.signals, s).worst
    return table


def choose(table: np.ndarray, train: np.ndarray) -> int:
    """The setting (column) with the best objective on the training tasks; the earliest wins ties."""
    values = [objective(table[train, k]) for k in range(table.shape[1])]
    return int(np.argmax(values))


def folds(repos: Sequence[str], table: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Each task's worst rank under the setting chosen without its repository, and each fold's choice."""
    held = np.zeros(len(repos), dtype=np.int64)
    chosen: dict[str, int] = {}
    repo_array = np.array(repos)
    for repo in sorted(set(repos)):
        test = repo_array == repo
        k = choose(table, ~test)
        chosen[repo] = k
        held[test] = table[test, k]
    return held, chosen


def acc_line(worst: Sequence[int] | np.ndarray) -> str:
    """Acc@1/3/5 of a list of worst gold ranks."""
    w = np.asarray(worst)
    return " / ".join(f"{100 * (w <= k).mean():5.1f}" for k in (1, 3, 5))


def setting_fields() -> list[str]:
    """The names of every tunable field (for printing)."""
    return [f.name for f in fields(Setting)]
