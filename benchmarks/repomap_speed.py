"""Speed of `lingcode map`: cold (index cleared), warm (nothing changed) and incremental (one file edited).

Trees: the Django and SymPy sources from their PyPI sdists (fetch them first with
`pip download --no-deps --no-binary :all: django sympy -d SDISTS`) and a synthetic tree of N files.
Each tree becomes a git repository under WORK (outside the project). Every timing is one `lingcode map`
process, wall clock, with its peak resident memory from /usr/bin/time.

    python benchmarks/repomap_speed.py [--sdists DIR] [--work DIR] [--synthetic N] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from pathlib import Path

SDISTS = Path("/work/.bench/sdists")
WORK = Path("/work/.bench/speed")
LINGCODE = Path(sys.executable).with_name("lingcode")
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@x.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@x.invalid",
}


def _commit(root: Path) -> None:
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base", "--no-verify"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, capture_output=True)


def from_sdist(name: str, sdists: Path, work: Path) -> Path:
    """The sdist of `name` unpacked and committed under work/name (once)."""
    root = work / name
    if (root / ".git").exists():
        return root
    archive = next(
        p for p in sdists.iterdir() if p.name.lower().startswith(name) and p.name.endswith(".tar.gz")
    )
    root.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    _commit(root)
    return root


def synthetic(count: int, work: Path) -> Path:
    """A tree of `count` small Python modules in nested packages that import each other."""
    root = work / f"synthetic{count}"
    if (root / ".git").exists():
        return root
    for i in range(count):
        pkg = root / f"pkg{i // 1000}" / f"sub{(i // 50) % 20}"
        pkg.mkdir(parents=True, exist_ok=True)
        dep = (i * 7919) % count
        (pkg / f"mod{i}.py").write_text(
            f'"""Module {i}."""\n\nLIMIT_{i} = {i}\n\n\nclass Widget{i}:\n    def run_{i}(self, x):\n'
            f"        return helper_{dep}(x) + LIMIT_{i}\n\n\ndef helper_{i}(x):\n    return x * {i % 7}\n"
        )
    _commit(root)
    return root


def timed(root: Path, *extra: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys, children included) and peak RSS (MiB) of one `lingcode map`."""
    result = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%e %U %S %M",
            str(LINGCODE),
            "map",
            "--root",
            str(root),
            "--budget",
            "4096",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"lingcode map failed on {root}: {result.stderr.strip()[-500:]}")
    wall, user, system, rss = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss) // 1024


def measure(name: str, root: Path) -> str:
    """Cold, warm and incremental timings of one tree, as a table row (wall s / CPU s)."""
    files = len(
        subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.splitlines()
    )
    subprocess.run(
        [str(LINGCODE), "map", "--root", str(root), "--clear-cache"], capture_output=True, check=True
    )
    cold = timed(root)
    warm = min((timed(root) for _ in range(3)), key=lambda t: t[0])
    target = next(p for p in sorted(root.rglob("*.py")) if ".git" not in p.parts and p.stat().st_size > 100)
    original = target.read_text(encoding="utf-8")
    runs = []
    try:
        for n in range(3):
            target.write_text(
                original + f"\n\ndef lingcode_bench_added_{n}():\n    return 1\n", encoding="utf-8"
            )
            runs.append(timed(root))
    finally:
        target.write_text(original, encoding="utf-8")
    incremental = min(runs, key=lambda t: t[0])
    peak = max(cold[2], warm[2], incremental[2])
    cells = " | ".join(f"{t[0]:.2f} / {t[1]:.2f}" for t in (cold, warm, incremental))
    return f"| {name} | {files} | {cells} | {peak} |"


def main(argv: list[str] | None = None) -> int:
    """Build the trees and print one markdown table row per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdists", type=Path, default=SDISTS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--synthetic", type=int, default=50_000)
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print("| tree | files | cold (wall / CPU s) | warm (best of 3) | incremental (best of 3) | peak MiB |")
    print("|---|---|---|---|---|---|", flush=True)
    for name in ("django", "sympy"):
        if args.only in ("", name):
            print(measure(name, from_sdist(name, args.sdists, args.work)), flush=True)
    if args.only in ("", "synthetic") and args.synthetic:
        print(measure(f"synthetic-{args.synthetic}", synthetic(args.synthetic, args.work)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
