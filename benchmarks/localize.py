"""File-level localisation benchmark of lingcode's context engine on SWE-bench Lite tasks.

For each task in the evaluation file, materialise the repository at its base commit from a local git
snapshot (outside the project), run the context engine on the problem statement only, and report
Acc@1/3/5 (all gold files in the top k) and the share of tasks whose gold files are all included in
full at 4k/8k/16k-token budgets, beside a plain BM25 baseline (bm25s over whole file contents) computed
in the same run.

    python benchmarks/localize.py [--data FILE] [--mirrors DIR] [--work DIR] [--limit N] [--materialise-only]

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
    """Hits per k and per budget, over the tasks seen."""

    n: int = 0
    at_k: dict[int, int] = field(default_factory=lambda: dict.fromkeys(KS, 0))
    in_budget: dict[int, int] = field(default_factory=lambda: dict.fromkeys(BUDGETS, 0))
    in_budget_whole: dict[int, int] = field(default_factory=lambda: dict.fromkeys(BUDGETS, 0))

    def add_ranking(self, ranked: Sequence[str], gold: set[str]) -> None:
        self.n += 1
        for k in KS:
            self.at_k[k] += gold <= set(ranked[:k])

    def line(self, name: str, budgets: bool) -> str:
        def pct(x: int) -> float:
            return 100.0 * x / max(self.n, 1)

        acc = "  ".join(f"Acc@{k} {pct(v):5.1f}" for k, v in self.at_k.items())
        inc = ""
        if budgets:
            inc = "  ".join(f"in@{b // 1024}k {pct(v):5.1f}" for b, v in self.in_budget.items())
            whole = "  ".join(f"{b // 1024}k {pct(v):5.1f}" for b, v in self.in_budget_whole.items())
            inc += f"  (whole files only: {whole})"
        return f"{name:<10} n={self.n:<3} {acc}  {inc}"


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


def run_task(
    row: dict[str, object], root: Path, eng: Tally, base: Tally
) -> tuple[list[str], list[int], float]:
    """Score one task with engine and baseline; return the top files, the gold ranks and the seconds."""
    from lingcode.context.engine import rank_context, render_context
    from lingcode.context.files import list_files

    gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
    task = str(row["problem_statement"])
    started = time.perf_counter()
    records, order = rank_context(task, root)
    ranked = [records[r.index].path for r in order]
    for budget in BUDGETS:
        ctx = render_context(records, order, root, budget, task=task)
        included = {f.path for f in ctx.files if f.included}
        eng.in_budget[budget] += gold <= included
        eng.in_budget_whole[budget] += gold <= included - set(ctx.excerpted)
    seconds = time.perf_counter() - started
    eng.add_ranking(ranked, gold)
    py_files = [p for p in list_files(root).paths if p.endswith(".py")]
    base.add_ranking(bm25_baseline(root, py_files, task), gold)
    ranks = [ranked.index(g) + 1 if g in ranked else -1 for g in sorted(gold)]
    return ranked[:5], ranks, seconds


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
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if args.only in r["instance_id"]]
    if args.limit:
        rows = rows[: args.limit]
    eng, base = Tally(), Tally()
    for row in rows:
        root = materialise(row, args.mirrors, args.work)
        if args.materialise_only:
            print(f"ready {root}", flush=True)
            continue
        top, ranks, seconds = run_task(row, root, eng, base)
        if not args.quiet:
            hit = "ok " if set(row["gold_files"]) <= set(top) else "-- "
            task_id = row["instance_id"]
            print(
                f"{hit}{task_id:<32} {seconds:5.1f}s rank={ranks} gold={row['gold_files']} top={top[:3]}",
                flush=True,
            )
    if not args.materialise_only:
        print(eng.line("lingcode", budgets=True))
        print(base.line("bm25", budgets=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
