"""CPU seconds of one two-stage ranking (`rank_files` with the work tree), for the code on PYTHONPATH.

Runs every `--every`-th dev task, times `rank_files` three times per task on one snapshot and keeps the
least (CPU, `time.process_time`), and prints the median and mean over tasks. Run it alternately with two
source trees on PYTHONPATH to compare them (e.g. one extracted with `git archive COMMIT lingcode`).

    PYTHONPATH=SRC python benchmarks/localize_cpu.py --label before
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.localize import DATA, MIRRORS, WORK, materialise


def main(argv: list[str] | None = None) -> int:
    """Print the median and mean of the per-task least CPU seconds."""
    from lingcode.context import rank
    from lingcode.context.engine import snapshot

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="")
    parser.add_argument("--every", type=int, default=3)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()][:: args.every]
    per_task = []
    for row in rows:
        root = materialise(row, MIRRORS, WORK)
        snap = snapshot(root, progress=False)
        try:
            best = float("inf")
            for _ in range(3):
                started = time.process_time()
                rank.rank_files(snap.conn, snap.records, str(row["problem_statement"]), (), (), root)
                best = min(best, time.process_time() - started)
        finally:
            snap.conn.close()
        per_task.append(best)
    per_task.sort()
    print(
        f"{args.label} tasks {len(per_task)} median CPU s {per_task[len(per_task) // 2]:.3f} "
        f"mean {sum(per_task) / len(per_task):.3f} ({rank.__file__})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
