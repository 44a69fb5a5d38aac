"""Speed of `lingcode map`: cold (index cleared), warm (nothing changed) and incremental (one file edited).

Trees: the Django and SymPy sources from their PyPI sdists (fetch them first with
`pip download --no-deps --no-binary :all: django sympy -d SDISTS`) and a synthetic tree of N files.
Each tree becomes a git repository under WORK (outside the project). Every timing is one `lingcode map`
process: wall clock, CPU seconds (user + sys of it and every descendant, pool workers included) and
its peak resident memory (from /usr/bin/time).

`--baseline-src DIR` also times the lingcode package found in DIR (e.g. an older checkout's files), its
runs interleaved with the installed one's, for before/after figures from one run on a noisy machine.
`--aider-python PY` adds the peer: aider's repo map (`aider_repomap.py`, run by PY, the python of a separate
virtual environment with aider-chat installed) over the same tree, cold and warm, with the cold ratio.

    python benchmarks/repomap_speed.py [--sdists DIR] [--work DIR] [--synthetic N] [--only NAME]
        [--baseline-src DIR] [--aider-python PY]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

SDISTS = Path("/work/.bench/sdists")
WORK = Path("/work/.bench/speed")
LINGCODE = Path(sys.executable).with_name("lingcode")
AIDER_SCRIPT = Path(__file__).with_name("aider_repomap.py")
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


@dataclass(frozen=True)
class Runner:
    """One way to run `lingcode map`: the installed console script, or another source tree's package."""

    label: str
    command: list[str]
    env: dict[str, str] | None = None


def runner(src: Path | None) -> Runner:
    """The installed `lingcode`, or `python -m lingcode` importing the package from `src` (before/after)."""
    if src is None:
        return Runner("lingcode", [str(LINGCODE)])
    return Runner(
        f"lingcode from {src}", [sys.executable, "-m", "lingcode"], {**os.environ, "PYTHONPATH": str(src)}
    )


Timing = tuple[float, float, int]
"""Wall seconds, CPU seconds (user + sys, waited-for children included) and peak RSS in MiB."""


def adopt_orphans() -> None:
    """Make this process the reaper of its descendants' orphans (Linux), so their CPU time is counted.

    A cold `lingcode map` parses in pool workers started by a forkserver, which outlives the process
    /usr/bin/time waits for: without this their CPU would be missing from the figures.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap(deadline: float = 5.0) -> None:
    """Wait for adopted orphans (a forkserver exits once its parent has) to count their CPU time."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def timed(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """Time one process with /usr/bin/time (run from /: `python -m` must not import the current folder).

    CPU is every descendant's user + sys (see `adopt_orphans`); peak memory is the largest process's.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", *command], capture_output=True, text=True, env=env, cwd="/"
    )
    _reap()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.strip()[-800:]}")
    wall, _user, _system, rss = result.stderr.strip().splitlines()[-1].split()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(wall), cpu, int(rss) // 1024


def map_once(run: Runner, root: Path, *extra: str) -> Timing:
    """One `lingcode map --budget 4096` of the tree."""
    return timed([*run.command, "map", "--root", str(root), "--budget", "4096", *extra], run.env)


def best(timings: list[Timing]) -> Timing:
    """The fastest run by wall clock."""
    return min(timings, key=lambda t: t[0])


def cell(t: Timing) -> str:
    """A table cell: wall s / CPU s."""
    return f"{t[0]:.2f} / {t[1]:.2f}"


def measure(name: str, root: Path, runners: list[Runner]) -> tuple[list[str], Timing]:
    """Cold, warm and incremental timings of each runner on one tree, interleaved; rows and the first cold."""
    files = len(
        subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.splitlines()
    )
    cold: dict[str, Timing] = {}
    for run in reversed(runners):  # the first runner's index is then the one left for its later runs
        map_once(run, root, "--clear-cache")
        cold[run.label] = map_once(run, root)
    warm: dict[str, list[Timing]] = {run.label: [] for run in runners}
    incremental: dict[str, list[Timing]] = {run.label: [] for run in runners}
    for _ in range(3):
        for run in runners:
            warm[run.label].append(map_once(run, root))
    target = next(p for p in sorted(root.rglob("*.py")) if ".git" not in p.parts and p.stat().st_size > 100)
    original = target.read_text(encoding="utf-8")
    try:
        for n in range(3):
            for k, run in enumerate(runners):
                # a new content each time: no run can answer from a map cached by an earlier one
                target.write_text(original + f"\n\ndef lingcode_bench_added_{n}_{k}():\n    return 1\n")
                incremental[run.label].append(map_once(run, root))
    finally:
        target.write_text(original, encoding="utf-8")
    rows = []
    for run in runners:
        times = (cold[run.label], best(warm[run.label]), best(incremental[run.label]))
        peak = max(t[2] for t in (*times, *warm[run.label], *incremental[run.label]))
        rows.append(f"| {name} | {run.label} | {files} | {' | '.join(map(cell, times))} | {peak} |")
    return rows, cold[runners[0].label]


def aider_row(name: str, root: Path, python: Path, work: Path, ours: Timing) -> str:
    """aider's repo map over the same tree: cold (tags cache cleared) and warm (cache kept), with ratios."""
    cache = work / f"aider-tags-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    command = [str(python), str(AIDER_SCRIPT), str(root), str(cache)]
    cold = timed(command)
    warm = best([timed(command) for _ in range(2)])
    ratio = f"cold {cold[0] / ours[0]:.1f}x wall, {cold[1] / max(ours[1], 0.01):.1f}x CPU"
    return f"| {name} | aider (peer; {ratio}) | | {cell(cold)} | {cell(warm)} | | {max(cold[2], warm[2])} |"


def main(argv: list[str] | None = None) -> int:
    """Build the trees and print one markdown table row per tree and runner."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdists", type=Path, default=SDISTS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--synthetic", type=int, default=50_000)
    parser.add_argument("--only", default="")
    parser.add_argument("--baseline-src", type=Path, help="also time the lingcode package in this folder")
    parser.add_argument("--aider-python", type=Path, help="python of a venv with aider-chat: add its column")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    adopt_orphans()
    runners = [runner(None)] + ([runner(args.baseline_src)] if args.baseline_src else [])
    print(
        "| tree | runner | files | cold (wall / CPU s) | warm (best of 3) | incremental (best of 3) | MiB |"
    )
    print("|---|---|---|---|---|---|---|", flush=True)
    for name in ("django", "sympy", "synthetic"):
        if args.only not in ("", name) or (name == "synthetic" and not args.synthetic):
            continue
        if name == "synthetic":
            root = synthetic(args.synthetic, args.work)
        else:
            root = from_sdist(name, args.sdists, args.work)
        rows, ours = measure(name, root, runners)
        print("\n".join(rows), flush=True)
        if args.aider_python:
            print(aider_row(name, root, args.aider_python, args.work, ours), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
