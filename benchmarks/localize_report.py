"""The leave-one-repository-out report of `benchmarks/localize.py --loo`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.localize_combiner import (
    Candidates,
    candidates,
    choose_strength,
    final_scores,
    fit,
    nested_loo,
    stacked_loo,
    worst,
)
from benchmarks.localize_loo import Cached, acc_line, build_cache, choose, folds, score_table, settings_list
from benchmarks.localize_sim import Setting, scores
from lingcode.context.combine import WEIGHTS

BUDGETS = (4096, 8192, 16384)


def in_context(values: np.ndarray, root: Path, task: str, gold: set[str]) -> list[bool]:
    """Whether every gold file is in the rendered context at each budget, ranked by `values`."""
    from lingcode.context.engine import render_context, snapshot
    from lingcode.context.rank import Ranked

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
    cands, weights = _combiner_section(cache, repo_array, settings, chosen)
    values = {
        "grid, shipped setting (in-sample)": [scores(c.signals, settings[0]).scores for c in cache],
        "grid, LOO": [
            scores(c.signals, settings[chosen[r]]).scores for c, r in zip(cache, repos, strict=True)
        ],
        "grid, fit on all (in-sample)": [scores(c.signals, settings[everything]).scores for c in cache],
        "combiner, shipped weights (in-sample)": [final_scores(t, WEIGHTS) for t in cands],
        "combiner, LOO": [final_scores(t, weights[r][1]) for t, r in zip(cands, repos, strict=True)],
    }
    _contexts(rows, roots, values, repo_array)
    seconds = sorted(c.engine_seconds for c in cache)
    print(f"median engine ranking CPU s (shipped code): {seconds[len(seconds) // 2]:.3f}")
    return 0


def _combiner_section(
    cache: Sequence[Cached], repo_array: np.ndarray, settings: Sequence[Setting], chosen: dict[str, int]
) -> tuple[list[Candidates], dict[str, tuple[float, np.ndarray]]]:
    """Print the combiner's LOO (nested and stacked) and its fit on all tasks; return candidates and folds."""
    cands = [candidates(c.signals) for c in cache]
    combined, weights = nested_loo(cands, repo_array)
    strength = choose_strength(cands, repo_array)
    final = fit(cands, strength)
    shipped_combiner = np.array([worst(t, WEIGHTS) for t in cands])
    engine = np.array([c.engine_worst for c in cache])
    mismatch = int((shipped_combiner != engine).sum())
    print(f"simulation vs engine (shipped code, combiner on): {mismatch} of {len(cache)} tasks differ")
    print("\n-- learned combiner (lingcode/context/combine.py), Acc@1 / 3 / 5")
    print(
        f"{'repository':<20} {'n':>3}  {'shipped weights (in-sample)':<27}  "
        f"{'LOO (nested L2 choice)':<22}  L2"
    )
    for repo in sorted(set(repo_array.tolist())):
        m = repo_array == repo
        print(
            f"{repo:<20} {int(m.sum()):>3}  {acc_line(shipped_combiner[m]):<27}  "
            f"{acc_line(combined[m]):<22}  {weights[repo][0]:g}"
        )
    print(f"{'pooled':<20} {len(cache):>3}  {acc_line(shipped_combiner):<27}  {acc_line(combined):<22}")
    stacked, _ = stacked_loo([c.signals for c in cache], repo_array, settings, chosen)
    print(f"{'pooled, stacked':<20} {len(cache):>3}  {'':<27}  {acc_line(stacked):<22}")
    print("  (stacked: each fold also re-chooses every upstream setting, its grid choice above)")
    print(f"fit on all repositories: L2 {strength:g}, weights {np.round(final, 2).tolist()}")
    print(f"  (in-sample {acc_line([worst(t, final) for t in cands])})")
    return cands, weights


def _contexts(
    rows: Sequence[dict[str, object]],
    roots: Sequence[Path],
    values: dict[str, list[np.ndarray]],
    repo_array: np.ndarray,
) -> None:
    hits: dict[str, list[list[bool]]] = {name: [] for name in values}
    for t, (row, root) in enumerate(zip(rows, roots, strict=True)):
        gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
        task = str(row["problem_statement"])
        for name, per_task in values.items():
            hits[name].append(in_context(per_task[t], root, task, gold))
    print("\n-- all gold in context @4k / 8k / 16k (excerpts count), per held-out repository")
    names = list(values)
    print(f"{'repository':<20} {'n':>3}  " + "  ".join(f"{n[:21]:<21}" for n in names))
    arrays = {n: np.array(h) for n, h in hits.items()}
    for repo in [*sorted(set(repo_array.tolist())), "pooled"]:
        m = repo_array == repo if repo != "pooled" else np.ones(len(repo_array), dtype=bool)
        print(f"{repo:<20} {int(m.sum()):>3}  " + "  ".join(f"{_pct(arrays[n][m]):<21}" for n in names))


def run_heldout(rows: Sequence[dict[str, object]], roots: Sequence[Path], cache_path: Path) -> int:
    """Score the shipped rankers, unchanged, on tasks never used for any choice (e.g. other repositories)."""
    from benchmarks.localize_sim import Setting

    by_id = build_cache(rows, roots, cache_path)
    cache = [by_id[str(r["instance_id"])] for r in rows]
    repo_array = np.array([str(r["repo"]) for r in rows])
    cands = [candidates(c.signals) for c in cache]
    combined = np.array([worst(t, WEIGHTS) for t in cands])
    hand = np.array([scores(c.signals, Setting()).worst for c in cache])
    bm25 = np.array([c.bm25_worst for c in cache])
    engine = np.array([c.engine_worst for c in cache])
    print(f"simulation vs engine: {int((combined != engine).sum())} of {len(cache)} tasks differ")
    print("\n-- held-out tasks (no setting chosen on them), Acc@1 / 3 / 5")
    print(
        f"{'repository':<20} {'n':>3}  {'BM25':<19}  "
        f"{'hand weights (before)':<21}  {'combiner (shipped)':<19}"
    )
    for repo in [*sorted(set(repo_array.tolist())), "pooled"]:
        m = repo_array == repo if repo != "pooled" else np.ones(len(cache), dtype=bool)
        print(
            f"{repo:<20} {int(m.sum()):>3}  {acc_line(bm25[m]):<19}  {acc_line(hand[m]):<21}  "
            f"{acc_line(combined[m]):<19}"
        )
    values = {
        "hand weights (before)": [scores(c.signals, Setting()).scores for c in cache],
        "combiner (shipped)": [final_scores(t, WEIGHTS) for t in cands],
    }
    _contexts(rows, roots, values, repo_array)
    seconds = sorted(c.engine_seconds for c in cache)
    print(f"median engine ranking CPU s (shipped code): {seconds[len(seconds) // 2]:.3f}")
    return 0
