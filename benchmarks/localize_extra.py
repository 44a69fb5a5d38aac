"""Build a held-out task file from SWE-bench Lite rows of repositories outside the development set.

Reads SWE-bench Lite test rows committed in a public repository's snapshot (fetched with the `fetch` tool;
the default is bupatianhei666/swe-reflexion's `data/swe_bench_lite.jsonl`, 274 rows), keeps the repositories
named with `--repos` whose own snapshot is present under MIRRORS, takes every `--every`-th task of each in
instance-id order (fixed before any was scored), and writes rows in the development file's shape: only
`problem_statement` is ever input; `gold_files` are the files the gold patch changes.

    python benchmarks/localize_extra.py --repos sympy/sympy --every 3 --out /work/.bench/extra.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

SOURCE = Path("/work/.mirror/bupatianhei666+swe-reflexion/repo")
MIRRORS = Path("/work/.mirror")
_DIFF = re.compile(r"^diff --git a/(\S+) b/", re.M)


def gold_files(patch: str) -> list[str]:
    """The paths a unified diff changes, in order."""
    return list(dict.fromkeys(_DIFF.findall(patch)))


def main(argv: list[str] | None = None) -> int:
    """Write the selected rows; print how many per repository."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--path", default="data/swe_bench_lite.jsonl")
    parser.add_argument("--repos", nargs="+", required=True)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    text = subprocess.run(
        ["git", "--git-dir", str(args.source), "show", f"HEAD:{args.path}"], check=True, capture_output=True
    ).stdout.decode()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    out = []
    for repo in args.repos:
        if not (MIRRORS / repo.replace("/", "+") / "repo").exists():
            print(f"skipped {repo}: no snapshot", file=sys.stderr)
            continue
        mine = sorted((r for r in rows if r["repo"] == repo), key=lambda r: r["instance_id"])
        for r in mine[:: args.every]:
            out.append(
                {
                    "instance_id": r["instance_id"],
                    "repo": repo,
                    "base_commit": r["base_commit"],
                    "problem_statement": r["problem_statement"],
                    "gold_files": gold_files(r["patch"]),
                }
            )
        print(f"{repo}: {len(mine[:: args.every])} of {len(mine)} tasks")
    args.out.write_text("".join(json.dumps(r) + "\n" for r in out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
