"""How close the cold map's scan ranking (`context/scan.py`) comes to the ranking from a full parse.

On each tree (built by `repomap_speed.py` under WORK), both rankings are computed in one process over the
same files: the full parse's records (tree-sitter tags of every file, as after `lingcode context`) and the
scan's (patterns only), each through the same `rank_files`. Printed per tree: the share of the full
ranking's top k files that are in the scan's top k (k = 10, 30, 100), where the full ranking's first
file sits in the scan's, and definition names found by both over those found by the parse (recall) and
by the scan (precision), over all files.

    PYTHONPATH=. python benchmarks/scan_agreement.py [--work DIR] [--only mypy,django,sympy]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lingcode.context.engine import snapshot
from lingcode.context.rank import rank_files
from lingcode.context.scan import scan_file, scan_records

WORK = Path("/work/.bench/speed")


def agreement(root: Path) -> str:
    snap = snapshot(root, progress=False)
    try:
        full = snap.records
        scans = {}
        for rec in full:
            got = scan_file(str(root), rec.path, rec.blob, 1 << 20)
            if got is not None:
                scans[got[0]] = got[1]
        scanned = scan_records({r.path: r.blob for r in full}, scans)
        full_order = [full[r.index].path for r in rank_files(snap.conn, full, "", (), snap.changed)]
        scan_order = [scanned[r.index].path for r in rank_files(snap.conn, scanned, "", (), snap.changed)]
    finally:
        snap.conn.close()
    cells = []
    for k in (10, 30, 100):
        cells.append(f"{len(set(full_order[:k]) & set(scan_order[:k])) / k:.0%}")
    first = scan_order.index(full_order[0]) + 1
    by_path = {r.path: r for r in scanned}
    parsed = {(r.path, n) for r in full for n in r.def_names}
    found = {(p, n) for p, r in by_path.items() for n in r.def_names}
    both = len(parsed & found)
    recall = both / max(len(parsed), 1)
    precision = both / max(len(found), 1)
    return f"| {root.name} | {len(full):,} | {' / '.join(cells)} | {first} | {recall:.1%} | {precision:.1%} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--only", default="mypy,django,sympy")
    args = parser.parse_args()
    print("| tree | files | top 10 / 30 / 100 shared | full's first in the scan's | def recall | precision |")
    print("|---|---|---|---|---|---|")
    for name in args.only.split(","):
        root = args.work / name
        if not (root / ".git").exists():
            print(f"{root}: not built (run benchmarks/repomap_speed.py first)", file=sys.stderr)
            return 2
        print(agreement(root), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
