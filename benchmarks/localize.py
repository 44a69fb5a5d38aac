"""File-level localisation benchmark of lingcode's context engine on SWE-bench Lite tasks.

For each task in the evaluation file, materialise the repository at its base commit from a local git
snapshot (outside the project), run the context engine on the problem statement only, and report
Acc@1/3/5 (all gold files in the top k) and the share of tasks whose gold files are all included in
full at 4k/8k/16k-token budgets, beside lingcode's first ranking stage alone (from the index, without
reading candidates) and a plain BM25 baseline (bm25s over whole file contents), all in the same run.
Figures are also given for the tasks at even and at odd positions, to tell tuning from overfitting, and
the median CPU seconds of one ranking with and without the second stage.

    python benchmarks/localize.py [--data FILE] [--mirrors DIR] [--work DIR] [--limit N] [--materialise-only]
    PYTHONPATH=. python benchmarks/localize.py --loo [--cache FILE] [--settings N]
    PYTHONPATH=. python benchmarks/localize.py --held-out --data OTHER.jsonl --cache FILE

`--loo` scores leave-one-repository-out instead (see `localize_loo.py`): every setting of the ranker that
was chosen by looking at tasks is re-chosen per fold on the other repositories' tasks, from cached signals.

Snapshots are expected at MIRRORS/<owner>+<name>/repo (bare git directories).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from lingcode.context.engine import Snapshot
    from lingcode.context.rank import Ranked

DATA = Path("/work/shared/eval/swebench-lite-dev.jsonl")
MIRRORS = Path("/work/.mirror")
WORK = Path("/work/.bench/swebench")
BUDGETS = (4096, 8192, 16384)
KS = (1, 3, 5)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@lingcode.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@lingcode.invalid",
}


def materialise(row: dict[str, object], mirrors: Path, work: Path) -> Path:
    """A git repository holding `repo` at `base_commit` (one commit), created once and reused."""
    repo = str(row["repo"])
    commit = str(row["base_commit"])
    target = work / f"{repo.replace('/', '+')}@{commit[:12]}"
    if (target / ".git" / "lingcode-bench-done").exists():
        return target
    snapshot = mirrors / repo.replace("/", "+") / "repo"
    target.mkdir(parents=True, exist_ok=True)
    _extract(snapshot, commit, target)
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base", "--no-verify"]):
        subprocess.run(["git", *args], cwd=target, check=True, env=env, capture_output=True)
    (target / ".git" / "lingcode-bench-done").write_text(commit)
    return target


def _extract(snapshot: Path, commit: str, target: Path) -> None:
    """Write the tree of `commit` into target; blobs the snapshot lacks (large data files) are skipped."""
    listing = subprocess.run(
        ["git", "--git-dir", str(snapshot), "ls-tree", "-r", "-z", commit], check=True, capture_output=True
    ).stdout.split(b"\0")
    entries = []
    for item in listing:
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, kind, blob = meta.split()
        if kind == b"blob" and mode != b"120000":
            entries.append((blob.decode(), path.decode("utf-8", "surrogateescape")))
    proc = subprocess.Popen(
        ["git", "--git-dir", str(snapshot), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    request = b"".join(f"{blob}\n".encode() for blob, _ in entries)
    # write from a thread: cat-file's output would fill the pipe while we still write its input
    writer = threading.Thread(target=lambda: (proc.stdin.write(request), proc.stdin.close()))  # type: ignore[union-attr]
    writer.start()
    for _blob, name in entries:
        header = proc.stdout.readline().split()
        if header[-1] == b"missing":
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    writer.join()
    proc.wait()


@dataclass
class Tally:
    """Per task: the worst rank of its gold files and whether all were in context at each budget."""

    worst: list[int] = field(default_factory=list)
    inside: dict[int, list[bool]] = field(default_factory=lambda: {b: [] for b in BUDGETS})
    whole: dict[int, list[bool]] = field(default_factory=lambda: {b: [] for b in BUDGETS})
    seconds: list[float] = field(default_factory=list)

    def add_ranking(self, ranked: Sequence[str], gold: set[str]) -> None:
        position = {path: k + 1 for k, path in enumerate(ranked)}
        self.worst.append(max(position.get(g, 10**9) for g in gold))

    def line(self, name: str, budgets: bool, part: slice = slice(None)) -> str:
        """Acc@k (and in-context shares) over the tasks in `part` (all, even or odd positions)."""
        worst = self.worst[part]

        def pct(hits: Sequence[bool]) -> float:
            return 100.0 * sum(hits) / max(len(hits), 1)

        acc = "  ".join(f"Acc@{k} {pct([w <= k for w in worst]):5.1f}" for k in KS)
        inc = ""
        if budgets and all(self.inside.values()):
            inc = "  ".join(f"in@{b // 1024}k {pct(v[part]):5.1f}" for b, v in self.inside.items())
            whole = "  ".join(f"{b // 1024}k {pct(v[part]):5.1f}" for b, v in self.whole.items())
            inc += f"  (whole files only: {whole})"
        return f"{name:<16} n={len(worst):<3} {acc}  {inc}"

    def median_seconds(self) -> float:
        """Median CPU seconds of one ranking."""
        ordered = sorted(self.seconds)
        return ordered[len(ordered) // 2] if ordered else 0.0


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")


def bm25_baseline(root: Path, files: Sequence[str], query: str) -> list[str]:
    """Plain BM25 over whole file contents (the published baseline's shape), best first."""
    import bm25s

    docs: list[list[str]] = []
    for rel in files:
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        docs.append([w.lower() for w in _WORD.findall(rel + " " + text)] or ["_"])
    retriever = bm25s.BM25()
    retriever.index(docs, show_progress=False)
    q = [w.lower() for w in _WORD.findall(query)] or ["_"]
    results, _ = retriever.retrieve([q], k=min(50, len(files)), show_progress=False)
    return [files[int(i)] for i in results[0]]


def _rank(snap: Snapshot, task: str, changed: list[str], root: Path | None, tally: Tally) -> list[Ranked]:
    from lingcode.context.rank import rank_files

    started = time.process_time()
    order = rank_files(snap.conn, snap.records, task, (), changed, root)
    tally.seconds.append(time.process_time() - started)
    return order


def run_task(
    row: dict[str, object], root: Path, eng: Tally, index_only: Tally, base: Tally
) -> tuple[list[str], list[int]]:
    """Score one task with the engine (two stages), its first stage alone and the baseline.

    The first stage alone ranks from the index (`root=None`), reading no candidate's text; both rankings
    run on the same snapshot, in alternating order, and are timed in CPU seconds.
    """
    from lingcode.context.engine import render_context, snapshot
    from lingcode.context.files import list_files
    from lingcode.context.git import changed_files

    gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
    task = str(row["problem_statement"])
    snap = snapshot(root, progress=False)
    try:
        changed = changed_files(root)
        first, second = (root, None) if len(eng.worst) % 2 else (None, root)
        orders = {
            first: _rank(snap, task, changed, first, eng if first else index_only),
            second: _rank(snap, task, changed, second, eng if second else index_only),
        }
        records = snap.records
    finally:
        snap.conn.close()
    for tally, order in ((eng, orders[root]), (index_only, orders[None])):
        tally.add_ranking([records[r.index].path for r in order], gold)
        for budget in BUDGETS:
            ctx = render_context(records, order, root, budget, task=task)
            included = {f.path for f in ctx.files if f.included}
            tally.inside[budget].append(gold <= included)
            tally.whole[budget].append(gold <= included - set(ctx.excerpted))
    ranked = [records[r.index].path for r in orders[root]]
    py_files = [p for p in list_files(root).paths if p.endswith(".py")]
    base.add_ranking(bm25_baseline(root, py_files, task), gold)
    ranks = [ranked.index(g) + 1 if g in ranked else -1 for g in sorted(gold)]
    return ranked[:5], ranks


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per task and the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", default="", help="substring of instance ids to run")
    parser.add_argument("--materialise-only", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--loo", action="store_true", help="leave-one-repository-out scoring")
    parser.add_argument("--cache", type=Path, default=Path("/work/.bench/localize-signals.pkl"))
    parser.add_argument("--settings", type=int, default=1000, help="settings each fold chooses among")
    parser.add_argument("--cache-only", action="store_true", help="with --loo: build the cache and stop")
    parser.add_argument("--held-out", action="store_true", help="score the shipped rankers, fit nothing")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if args.only in r["instance_id"]]
    if args.limit:
        rows = rows[: args.limit]
    if args.loo or args.held_out:
        from benchmarks.localize_report import run_heldout, run_loo

        roots = [materialise(row, args.mirrors, args.work) for row in rows]
        if args.held_out:
            return run_heldout(rows, roots, args.cache)
        return run_loo(rows, roots, args.cache, args.settings, args.cache_only)
    eng, index_only, base = Tally(), Tally(), Tally()
    for row in rows:
        root = materialise(row, args.mirrors, args.work)
        if args.materialise_only:
            print(f"ready {root}", flush=True)
            continue
        top, ranks = run_task(row, root, eng, index_only, base)
        if not args.quiet:
            hit = "ok " if set(row["gold_files"]) <= set(top) else "-- "
            task_id = row["instance_id"]
            print(
                f"{hit}{task_id:<32} {eng.seconds[-1]:5.2f}s rank={ranks} "
                f"gold={row['gold_files']} top={top[:3]}",
                flush=True,
            )
    if not args.materialise_only:
        _summary(eng, index_only, base)
    return 0


def _summary(eng: Tally, index_only: Tally, base: Tally) -> None:
    for name, part in (
        ("all tasks", slice(None)),
        ("even positions", slice(0, None, 2)),
        ("odd positions", slice(1, None, 2)),
    ):
        print(f"-- {name}")
        print(eng.line("lingcode", budgets=True, part=part))
        print(index_only.line("first stage only", budgets=True, part=part))
        print(base.line("bm25", budgets=False, part=part))
    after, before = eng.median_seconds(), index_only.median_seconds()
    print(
        f"median ranking CPU s: lingcode {after:.3f}, first stage only {before:.3f} "
        f"(ratio {after / max(before, 1e-9):.2f})"
    )


if __name__ == "__main__":
    sys.exit(main())
