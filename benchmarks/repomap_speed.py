"""`lingcode map` side by side with aider's repo map: cold, warm and one file edited, on the same trees.

Trees (each a git repository under WORK, outside the project, built once and reused): mypy's source at
a fixed commit and SymPy's at its 1.14.0 release (from git mirrors brought by the `fetch` tool:
`git --git-dir=MIRROR archive COMMIT | tar -x`, then one commit), Django 5.2.20 (its PyPI sdist: the git
mirror is too large to fetch; `pip download --no-deps --no-binary :all: django==5.2.20 -d SDISTS`) and a
synthetic tree of N small modules.

The peer runs in its own virtual environment (AIDER_VENV, created once: `aider-chat` and
`tree-sitter-language-pack<1`, which bundles its grammars) through `aider_repomap.py`. Each timing is one
fresh process, as a user runs it, the two tools alternating within each pair: cold (lingcode's index and
aider's tags cache deleted before each run), warm (nothing changed since the last run) and edited (one
file given new content before each pair, so each tool sees one changed file since its previous run).
Figures are medians over the pairs: wall seconds and CPU seconds (user + sys of the process and every
descendant, pool workers included: the benchmark is their reaper), with aider / lingcode ratios.
The machine's load average is recorded before every pair: on a shared machine CPU time is the robust
figure, wall clock varies with the neighbours.

    python benchmarks/repomap_speed.py [--work DIR] [--only mypy,sympy,...] [--pairs 3] [--synthetic N]
        [--aider-venv DIR] [--no-aider]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WORK = Path("/work/.bench/speed")
SDISTS = Path("/work/.bench/sdists")
AIDER_VENV = Path("/work/.bench/aider-venv")
AIDER_SCRIPT = Path(__file__).with_name("aider_repomap.py")
BUDGET = 4096
# (mirror brought by `fetch`, commit): fixed, so anyone rerunning maps the same bytes
MIRRORS = {
    "mypy": (Path("/work/.mirror/python+mypy/repo"), "0f068c9ec604daa09e69c92545b059f4b44f566e"),  # v1.19.0
    "sympy": (Path("/work/.mirror/sympy+sympy/repo"), "16fa855354eb7bcabd3fe10993841e03b1382692"),  # 1.14.0
}
DJANGO_SDIST = "django-5.2.20.tar.gz"
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


def from_mirror(name: str, work: Path) -> Path:
    """The mirror's fixed commit materialised and committed under work/name (once)."""
    root = work / name
    if (root / ".git").exists():
        return root
    mirror, commit = MIRRORS[name]
    root.mkdir(parents=True)
    archive = subprocess.run(
        ["git", f"--git-dir={mirror}", "archive", commit], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    _commit(root)
    return root


def from_sdist(name: str, archive: Path, work: Path) -> Path:
    """An sdist unpacked and committed under work/name (once)."""
    root = work / name
    if (root / ".git").exists():
        return root
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


def aider_python(venv: Path) -> Path:
    """aider's own interpreter, creating its virtual environment first when missing."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "aider-chat", "tree-sitter-language-pack<1"]
        subprocess.run(pip, check=True)
    return python


Timing = tuple[float, float, int]
"""Wall seconds, CPU seconds (user + sys, every descendant included) and peak RSS in MiB."""


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


def timed(command: list[str], out: Path, env: dict[str, str] | None = None) -> Timing:
    """Time one process with /usr/bin/time (run from /: `python -m` must not import the current folder).

    Its standard output (the map) goes to `out`, so the maps can be compared afterwards.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as sink:
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", *command], stdout=sink, stderr=subprocess.PIPE, env=env, cwd="/"
        )
    _reap()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stderr = result.stderr.decode(errors="replace").strip()
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr[-800:]}")
    wall, rss = stderr.splitlines()[-1].split()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(wall), cpu, int(rss) // 1024


@dataclass(frozen=True)
class Tool:
    """One repo-map program: how to run it on a tree and how to make its next run cold."""

    label: str
    command: Callable[[Path], list[str]]
    clear: Callable[[Path], None]
    env: dict[str, str] | None = None


def lingcode_tool() -> Tool:
    """`lingcode map --budget 4096` from this checkout's package (`python -m lingcode`)."""
    src = str(Path(__file__).resolve().parent.parent)

    def clear(root: Path) -> None:
        shutil.rmtree(root / ".git" / "lingcode", ignore_errors=True)  # the index (index.index_path)

    return Tool(
        "lingcode",
        lambda root: [sys.executable, "-m", "lingcode", "map", "--root", str(root), "--budget", str(BUDGET)],
        clear,
        {**os.environ, "PYTHONPATH": src},
    )


def aider_tool(python: Path, work: Path) -> Tool:
    """aider's `RepoMap.get_repo_map` over every tracked file, a 4,096-token map, tags cached under work."""

    def cache(root: Path) -> Path:
        return work / f"aider-tags-{root.name}"

    return Tool(
        "aider",
        lambda root: [str(python), str(AIDER_SCRIPT), str(root), str(cache(root)), str(BUDGET)],
        lambda root: shutil.rmtree(cache(root), ignore_errors=True),
    )


MODES = ("cold", "warm", "edited")
Results = dict[tuple[str, str], list[Timing]]
"""(mode, tool label) -> one timing per pair."""


def edit_target(root: Path) -> Path:
    """The file edited between pairs: the first tracked Python file of some size, in path order."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True, text=True).stdout
    return next(root / p for p in sorted(listed.splitlines()) if (root / p).stat().st_size > 100)


def run_pairs(tools: list[Tool], root: Path, pairs: int, maps: Path) -> tuple[Results, list[float]]:
    """Every mode's pairs, the tools alternating (who goes first alternates too); load before each pair."""
    results: Results = {(mode, tool.label): [] for mode in MODES for tool in tools}
    loads: list[float] = []

    def one(mode: str, tool: Tool) -> None:
        out = maps / f"{root.name}-{tool.label}-{mode}.txt"
        results[mode, tool.label].append(timed(tool.command(root), out, tool.env))

    target = edit_target(root)
    original = target.read_bytes()
    try:
        for mode in MODES:
            for n in range(pairs):
                loads.append(os.getloadavg()[0])
                if mode == "edited":
                    # new content each pair: each tool sees one changed file since its own last run
                    target.write_bytes(original + f"\n\ndef bench_added_{n}(x):\n    return x\n".encode())
                for tool in tools if n % 2 == 0 else tools[::-1]:
                    if mode == "cold":
                        tool.clear(root)
                    one(mode, tool)
    finally:
        target.write_bytes(original)
        # the restored file is stat-dirty to git until its index is refreshed: leave the tree clean
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=root, capture_output=True)
    return results, loads


def median(timings: list[Timing]) -> Timing:
    """Per-field medians (wall, CPU, peak MiB) of some runs."""
    return (
        statistics.median(t[0] for t in timings),
        statistics.median(t[1] for t in timings),
        int(statistics.median(t[2] for t in timings)),
    )


def map_size(path: Path) -> str:
    """A map's size: characters, an estimate of tokens (4 characters each) and files listed."""
    text = path.read_text(encoding="utf-8", errors="replace")
    files = sum(
        1 for line in text.splitlines() if line and not line[0].isspace() and line.rstrip().endswith(":")
    )
    return f"{len(text):,} chars (~{len(text) // 4:,} tokens), {files:,} files"


def report(
    name: str, root: Path, tools: list[Tool], results: Results, loads: list[float], maps: Path
) -> None:
    """Markdown rows for one tree: medians per mode and tool, with aider / lingcode ratios."""
    files = len(
        subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.splitlines()
    )
    labels = [tool.label for tool in tools]
    for mode in MODES:
        cells = [median(results[mode, label]) for label in labels]
        row = f"| {name} | {files:,} | {mode} | " + " | ".join(f"{c[0]:.2f} / {c[1]:.2f}" for c in cells)
        if len(cells) == 2:
            ours, peer = cells
            row += f" | {peer[0] / max(ours[0], 0.01):.1f}x / {peer[1] / max(ours[1], 0.01):.1f}x"
        row += " | " + " / ".join(str(c[2]) for c in cells)
        print(f"{row} | {min(loads):.1f}-{max(loads):.1f} |", flush=True)
    for label in labels:
        print(f"<!-- {name} {label} map: {map_size(maps / f'{root.name}-{label}-cold.txt')} -->", flush=True)


def trees(args: argparse.Namespace) -> list[tuple[str, Callable[[], Path]]]:
    """The selected trees, each built (once) when its turn comes."""
    every: list[tuple[str, Callable[[], Path]]] = [
        ("mypy", lambda: from_mirror("mypy", args.work)),
        ("django", lambda: from_sdist("django", args.sdists / DJANGO_SDIST, args.work)),
        ("sympy", lambda: from_mirror("sympy", args.work)),
        ("synthetic", lambda: synthetic(args.synthetic, args.work)),
    ]
    chosen = set(args.only.split(",")) if args.only else {name for name, _ in every}
    return [(name, build) for name, build in every if name in chosen]


def main(argv: list[str] | None = None) -> int:
    """Build the trees and print one markdown row per tree and mode."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--sdists", type=Path, default=SDISTS)
    parser.add_argument("--only", default="", help="comma-separated trees: mypy,django,sympy,synthetic")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=50_000)
    parser.add_argument("--aider-venv", type=Path, default=AIDER_VENV)
    parser.add_argument("--no-aider", action="store_true", help="time lingcode alone")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    maps = args.work / "maps"
    maps.mkdir(exist_ok=True)
    adopt_orphans()
    tools = [lingcode_tool()]
    if not args.no_aider:
        tools.append(aider_tool(aider_python(args.aider_venv), args.work))
    head = " | ".join(f"{t.label} (wall / CPU s)" for t in tools)
    ratio = " | aider / lingcode (wall / CPU)" if len(tools) == 2 else ""
    print(f"| tree | files | run | {head}{ratio} | peak MiB | load |")
    print("|---" * (5 + len(tools) + (len(tools) == 2)) + "|", flush=True)
    for name, build in trees(args):
        root = build()
        results, loads = run_pairs(tools, root, args.pairs, maps)
        report(name, root, tools, results, loads, maps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
