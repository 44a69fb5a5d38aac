"""The leave-one-repository-out report of `benchmarks/localize.py --loo`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.localize_loo import Cached, acc_line, build_cache, choose, folds, score_table, settings_list
from benchmarks.localize_sim import Setting, scores

BUDGETS = (4096, 8192, 16384)


def in_context(cached: Cached, root: Path, task: str, setting: Setting, gold: set[str]) -> list[bool]:
    """Whether every gold file is in the rendered context at each budget, ranked under `setting`."""
    from lingcode.context.engine import render_context, snapshot
    from lingcode.context.rank import Ranked

    values = scores(cached.signals, setting).scores
    order = np.argsort(-values, kind="stable")
    snap = snapshot(root, progress=False)
    try:
        records = snap.records
        ranked = [Ranked(int(i), float(values[i]), "ranked") for i in order]
        out = []
        for budget in BUDGETS:
            ctx = render_context(records, ranked, root, budget, task=task)
            out.append(gold <= {f.path for f in ctx.files if f.included})
        return out
    finally:
        snap.conn.close()


def _pct(hits: Sequence[bool] | np.ndarray) -> str:
    return " / ".join(f"{100 * v:5.1f}" for v in np.asarray(hits, dtype=float).mean(axis=0))


def run_loo(
    rows: Sequence[dict[str, object]], roots: Sequence[Path], cache_path: Path, samples: int, cache_only: bool
) -> int:
    """Build the signal cache, then score and print the folds."""
    by_id = build_cache(rows, roots, cache_path)
    if cache_only:
        return 0
    cache = [by_id[str(r["instance_id"])] for r in rows]
    repos = [str(r["repo"]) for r in rows]
    settings = settings_list(samples)
    started = time.process_time()
    table = score_table(cache, settings)
    print(
        f"{len(settings)} settings x {len(cache)} tasks scored in {time.process_time() - started:.0f} s CPU"
    )
    engine = np.array([c.engine_worst for c in cache])
    mismatch = int((table[:, 0] != engine).sum())
    print(f"simulation vs engine (shipped setting): {mismatch} of {len(cache)} tasks differ")
    held, chosen = folds(repos, table)
    everything = choose(table, np.ones(len(cache), dtype=bool))
    bm25 = np.array([c.bm25_worst for c in cache])
    print("\n-- Acc@1 / 3 / 5 per held-out repository")
    print(
        f"{'repository':<20} {'n':>3}  {'BM25':<19}  {'shipped (in-sample)':<19}  {'LOO':<19}  fold's setting"
    )
    repo_array = np.array(repos)
    for repo in sorted(set(repos)):
        m = repo_array == repo
        print(
            f"{repo:<20} {int(m.sum()):>3}  {acc_line(bm25[m]):<19}  {acc_line(table[m, 0]):<19}  "
            f"{acc_line(held[m]):<19}  {settings[chosen[repo]].label()}"
        )
    print(
        f"{'pooled':<20} {len(cache):>3}  {acc_line(bm25):<19}  "
        f"{acc_line(table[:, 0]):<19}  {acc_line(held):<19}"
    )
    print(
        f"fit on all repositories (in-sample {acc_line(table[:, everything])}): "
        f"{settings[everything].label()}"
    )
    _contexts(rows, roots, cache, settings, chosen, everything, repo_array)
    seconds = sorted(c.engine_seconds for c in cache)
    print(f"median engine ranking CPU s (shipped code): {seconds[len(seconds) // 2]:.3f}")
    return 0


def _contexts(
    rows: Sequence[dict[str, object]],
    roots: Sequence[Path],
    cache: Sequence[Cached],
    settings: Sequence[Setting],
    chosen: dict[str, int],
    everything: int,
    repo_array: np.ndarray,
) -> None:
    loo, shipped, fitted = [], [], []
    for row, root, item in zip(rows, roots, cache, strict=True):
        gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
        task = str(row["problem_statement"])
        loo.append(in_context(item, root, task, settings[chosen[str(row["repo"])]], gold))
        shipped.append(in_context(item, root, task, settings[0], gold))
        fitted.append(in_context(item, root, task, settings[everything], gold))
    print("\n-- all gold in context @4k / 8k / 16k (excerpts count)")
    print(f"{'repository':<20} {'n':>3}  {'shipped (in-sample)':<21}  {'LOO':<21}")
    loo_a, shipped_a = np.array(loo), np.array(shipped)
    for repo in sorted(set(repo_array.tolist())):
        m = repo_array == repo
        print(f"{repo:<20} {int(m.sum()):>3}  {_pct(shipped_a[m]):<21}  {_pct(loo_a[m]):<21}")
    print(f"{'pooled':<20} {len(cache):>3}  {_pct(shipped_a):<21}  {_pct(loo_a):<21}")
    print(f"fit on all repositories (in-sample): {_pct(fitted)}")
