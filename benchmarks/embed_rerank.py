"""Does the MiniLM re-rank (`context.embed`) help file localisation on SWE-bench Lite? At what cost?

For each task of the evaluation file whose repository is materialised (as benchmarks/localize.py lays
them out), rank the files for the problem statement as `lingcode context` does, then embed the top
candidates (cold: their cached vectors deleted first; then warm) and report, side by side in one run:
Acc@1/3/5 without and with the re-rank, encode throughput (passages per second) and the time the re-rank
adds per task, cold and warm.

Weights and candidate counts are tuned only across a split: the setting chosen on the even-numbered
tasks is reported on the odd ones and vice versa, beside the shipped defaults on all tasks.

    python benchmarks/embed_rerank.py [--data FILE] [--work DIR] [--limit N] [--warm-only] [--raw]

`--raw` also scores the former per-file text (path, names and the file's first 2,000 characters: one
passage per file, not cached) for comparison.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localize import DATA, MIRRORS, WORK, materialise

from lingcode.context import embed
from lingcode.context import index as idx
from lingcode.context.engine import rank_context
from lingcode.context.index import FileRecord
from lingcode.context.rank import Ranked

KS = (1, 3, 5)
POOL = 40  # candidates embedded per task: the largest count the sweep tries
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
COUNTS = (10, 20, 30, 40)
PASSAGES = (1, 2, 4)


@dataclass
class Task:
    """One task's base ranking, gold files and its candidates' passage vectors and query vector."""

    gold: set[str]
    paths: list[str]
    ranked: list[Ranked]
    slots: list[int]
    vectors: list[np.ndarray]
    query: np.ndarray
    raw_sims: np.ndarray | None = None
    timing: dict[str, float] = field(default_factory=dict)


def prepare(row: dict[str, object], root: Path, warm_only: bool, raw: bool) -> Task:
    """Rank the task's files, embed the top candidates cold then warm, and time both."""
    enc = embed.encoder()
    assert enc is not None, "the embed extra is not installed: pip install -e '.[embed]'"
    text = str(row["problem_statement"])
    records, ranked = rank_context(text, root)
    slots = embed.eligible(records, ranked, POOL)
    shipped = [i for i in slots if i < embed.CANDIDATES]
    chosen = [records[ranked[i].index] for i in slots]
    conn = idx.connect(root)
    timing: dict[str, float] = {}
    try:
        if not warm_only:
            _forget(conn, {rec.blob for rec in chosen})
        # the shipped candidate set first, timed as `rerank` pays it, cold then warm
        for phase in ("cold", "warm"):
            before, wall, cpu = enc.encoded, time.perf_counter(), time.process_time()
            embed.rerank(conn, root, records, ranked, text)
            timing[f"{phase}_wall"] = time.perf_counter() - wall
            timing[f"{phase}_cpu"] = time.process_time() - cpu
            timing[f"{phase}_passages"] = enc.encoded - before - 1  # less the query
        vectors = embed.file_vectors(conn, enc, root, chosen)  # the rest of the pool, untimed
    finally:
        conn.close()
    query = enc.encode([text])[0]
    raw_sims = _raw_sims(enc, root, chosen, query) if raw else None
    paths = [records[r.index].path for r in ranked]
    gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
    timing["shipped"] = len(shipped)
    return Task(gold, paths, ranked, slots, vectors, query, raw_sims, timing)


def _forget(conn: sqlite3.Connection, blobs: set[str]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS embeddings"
        " (blob TEXT, recipe TEXT, vecs BLOB, PRIMARY KEY (blob, recipe))"
    )
    with conn:
        conn.executemany("DELETE FROM embeddings WHERE blob = ?", ((b,) for b in blobs))


def _raw_sims(enc: embed.Encoder, root: Path, records: Sequence[FileRecord], query: np.ndarray) -> np.ndarray:
    texts = []
    for rec in records:
        try:
            body = (root / rec.path).read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError:
            body = ""
        texts.append(f"{rec.path}\n{' '.join(rec.def_names)}\n{body}")
    return np.asarray(enc.encode(texts) @ query)


def order(task: Task, weight: float, count: int, passages: int, raw: bool = False) -> list[str]:
    """The task's paths after blending with these settings."""
    keep = [k for k, slot in enumerate(task.slots) if slot < count]
    if raw and task.raw_sims is not None:
        sims = task.raw_sims[keep]
    else:
        sims = np.array([float((task.vectors[k][:passages] @ task.query).max()) for k in keep])
    ranked = embed.blend(task.ranked, [task.slots[k] for k in keep], sims, weight)
    return [task.paths[_position(task, r)] for r in ranked[: max(KS)]]


def _position(task: Task, entry: Ranked) -> int:
    return next(i for i, r in enumerate(task.ranked) if r.index == entry.index)


def accuracy(
    tasks: Sequence[Task], weight: float, count: int, passages: int, raw: bool = False
) -> list[float]:
    """Acc@k in percent over the tasks."""
    hits = dict.fromkeys(KS, 0)
    for task in tasks:
        top = order(task, weight, count, passages, raw)
        for k in KS:
            hits[k] += task.gold <= set(top[:k])
    return [100.0 * hits[k] / max(len(tasks), 1) for k in KS]


def tune(tasks: Sequence[Task]) -> tuple[float, int, int]:
    """The setting with the best Acc@5, then Acc@1, then Acc@3 on these tasks (ties: the smallest cost)."""
    settings = [(w, c, p) for w in WEIGHTS for c in COUNTS for p in PASSAGES]

    def key(s: tuple[float, int, int]) -> tuple[float, float, float, int, int, float]:
        a1, a3, a5 = accuracy(tasks, *s)
        return (a5, a1, a3, -s[1], -s[2], -s[0])

    return max(settings, key=key)


def report(tasks: list[Task]) -> None:
    """Print accuracy without/with the re-rank, the split-tuned figures and the timings."""
    fmt = "  ".join(f"Acc@{k} {{:5.1f}}" for k in KS)
    print(f"tasks: {len(tasks)}")
    print(f"{'no re-rank':<44} " + fmt.format(*accuracy(tasks, 0.0, 0, 1)))
    shipped = (embed.WEIGHT, embed.CANDIDATES, embed.MAX_PASSAGES)
    label = "re-rank, shipped w={} c={} p={}".format(*shipped)
    print(f"{label:<44} " + fmt.format(*accuracy(tasks, *shipped)))
    if tasks[0].raw_sims is not None:
        label = f"former text, w={embed.WEIGHT} c={embed.CANDIDATES}"
        print(f"{label:<44} " + fmt.format(*accuracy(tasks, embed.WEIGHT, embed.CANDIDATES, 1, raw=True)))
    halves = (tasks[0::2], tasks[1::2])
    held = dict.fromkeys(KS, 0.0)
    for name, (fit, test) in (("even->odd", halves), ("odd->even", halves[::-1])):
        best = tune(fit)
        base, tuned = accuracy(test, 0.0, 0, 1), accuracy(test, *best)
        print(
            f"{name}: tuned w={best[0]} c={best[1]} p={best[2]} on {len(fit)}; on the other {len(test)}: "
            + "  ".join(f"Acc@{k} {b:5.1f} -> {t:5.1f}" for k, b, t in zip(KS, base, tuned, strict=True))
        )
        for k, t in zip(KS, tuned, strict=True):
            held[k] += t * len(test) / len(tasks)
    print(f"{'held-out, both halves pooled':<44} " + fmt.format(*held.values()))
    _timings(tasks)


def _timings(tasks: Sequence[Task]) -> None:
    for phase in ("cold", "warm"):
        walls = [t.timing[f"{phase}_wall"] for t in tasks]
        cpus = [t.timing[f"{phase}_cpu"] for t in tasks]
        done = sum(t.timing[f"{phase}_passages"] for t in tasks)
        rate = done / max(sum(walls), 1e-9)
        print(
            f"{phase}: added per task median {statistics.median(walls):.2f} s wall"
            f" ({statistics.median(cpus):.2f} s CPU), max {max(walls):.2f} s;"
            f" {done:.0f} passages encoded, {rate:.1f} passages/s wall (incl. SQLite and file reads)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on the materialised tasks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--warm-only", action="store_true", help="keep cached vectors (no cold timing)")
    parser.add_argument("--raw", action="store_true", help="also score the former first-2000-chars text")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if (args.work / _dirname(r) / ".git" / "lingcode-bench-done").exists()]
    if args.limit:
        rows = rows[: args.limit]
    started = time.perf_counter()
    enc = embed.encoder()
    print(f"model load (import + weights): {time.perf_counter() - started:.1f} s", flush=True)
    assert enc is not None, "the embed extra is not installed: pip install -e '.[embed]'"
    tasks = []
    for i, row in enumerate(rows):
        task = prepare(row, materialise(row, MIRRORS, args.work), args.warm_only, args.raw)
        tasks.append(task)
        t = task.timing
        print(
            f"{i:2d} {row['instance_id']:<34} cold {t['cold_wall']:5.2f}s/{t['cold_passages']:3.0f}"
            f"  warm {t['warm_wall']:4.2f}s",
            flush=True,
        )
    report(tasks)
    return 0


def _dirname(row: dict[str, str]) -> str:
    return f"{row['repo'].replace('/', '+')}@{row['base_commit'][:12]}"


if __name__ == "__main__":
    raise SystemExit(main())
