"""lingcode's own overhead per loop iteration: everything except model time and check time.

Against the scripted server replaying fixed replies, on a small repository and on a generated 10,000-file one
(index warm: one run first). Each measured run makes N edit rounds: N-1 edits that leave the check failing,
then the fix. Overhead = wall time - model time (the client's streamed call) - check time, measured by the
loop itself over its edit rounds (timings `overhead_per_iteration_s`); one-time setup (lock, checkpoint,
context, first check, final diff) is reported separately.

    .venv/bin/python benchmarks/loop.py [--files 10000] [--rounds 6] [--repeat 3] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lingcode.config import Config, LoopConfig, ModelConfig
from lingcode.loop.agent import Agent
from lingcode.loop.outcomes import RunResult
from lingcode.model import ModelClient
from lingcode.model.scripted import ScriptedServer

CALC = "def average(values):\n    return sum(values) / (len(values) + 1)\n"
TEST = "from calc import average\n\n\ndef test_average():\n    assert average([2, 4, 6]) == 4\n"
# a stand-in named pytest: lingcode narrows it to related tests like the real one, but it runs in milliseconds
FAKE_PYTEST = (
    "#!/bin/sh\ngrep -q 'len(values)$' calc.py || { echo 'FAILED test_calc.py::test_average'; exit 1; }\n"
)
ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env={**os.environ, **ENV})


def make_repo(root: Path, extra_files: int) -> Path:
    """A repository with the calc bug and `extra_files` generated Python modules."""
    root.mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST)
    (root / "pytest").write_text(FAKE_PYTEST)
    (root / "pytest").chmod(0o755)
    for i in range(extra_files):
        path = root / f"pkg{i // 100:03d}" / f"mod{i:05d}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            f'"""Generated module {i}."""\n\n\ndef helper_{i}(x):\n    return x + {i}\n\n\n'
            f"class Thing{i}:\n    def value(self):\n        return helper_{i}({i % 7})\n"
        )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def replies(rounds: int) -> list[str]:
    """rounds-1 comment edits that keep the check failing, then the fix."""
    out: list[str] = []
    for n in range(rounds - 1):
        old = "def average(values):\n" if n == 0 else f"# attempt {n - 1}\ndef average(values):\n"
        out.append(
            f"<think>\nTry {n}.\n</think>\ncalc.py\n<<<<<<< SEARCH\n{old}=======\n"
            f"# attempt {n}\ndef average(values):\n>>>>>>> REPLACE\n"
        )
    out.append(
        "<think>\nDivide by len.\n</think>\ncalc.py\n<<<<<<< SEARCH\n"
        "    return sum(values) / (len(values) + 1)\n=======\n"
        "    return sum(values) / len(values)\n>>>>>>> REPLACE\n"
    )
    return out


def run(root: Path, rounds: int, constrain: bool) -> RunResult:
    config = Config(
        model=ModelConfig(constrain=constrain, max_retries=0),
        loop=LoopConfig(test_cmd="./pytest -q", max_iterations=rounds, repeat_limit=rounds + 2),
    )
    with (
        ScriptedServer(replies(rounds), chunk_chars=16) as server,
        ModelClient(config.model, server.base_url) as client,
    ):
        result = Agent(config, client, root, lambda event: None).run("fix the failing test")
    git(root, "reset", "-q", "--hard")
    if result.status != "passed" or result.iterations != rounds:
        raise SystemExit(
            f"unexpected run: {result.status} after {result.iterations} rounds: {result.message}"
        )
    return result


def measure(root: Path, rounds: int, repeat: int, constrain: bool) -> dict[str, float]:
    """Median per-round overhead, one-time setup and context-build time over `repeat` runs."""
    run(root, 1, constrain)  # warm: the index is built and cached on disk
    runs = [run(root, rounds, constrain) for _ in range(repeat)]
    return {
        "per_iteration_ms": statistics.median(r.timings["overhead_per_iteration_s"] for r in runs) * 1000,
        "setup_ms": statistics.median(r.timings["overhead_s"] - r.timings["loop_overhead_s"] for r in runs)
        * 1000,
        "context_ms": statistics.median(r.timings["context_s"] for r in runs) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, files in (("small (3 files)", 0), (f"large ({args.files + 3} files)", args.files)):
            started = time.monotonic()
            root = make_repo(Path(tmp) / f"repo{files}", files)
            for constrain in (False, True):
                m = measure(root, args.rounds, args.repeat, constrain)
                mode = "grammar" if constrain else "free"
                cells = [
                    label,
                    mode,
                    f"{m['per_iteration_ms']:.1f}",
                    f"{m['setup_ms']:.0f}",
                    f"{m['context_ms']:.0f}",
                ]
                rows.append("| " + " | ".join(cells) + " |")
                print(rows[-1], file=sys.stderr)
            print(f"{label}: {time.monotonic() - started:.0f}s", file=sys.stderr)
    table = "\n".join(
        [
            "| repository | decoding | overhead per iteration (ms) | one-time setup (ms) | context (ms) |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    report = (
        f"# Loop overhead (benchmarks/loop.py)\n\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {args.rounds} rounds per run, median of {args.repeat}; "
        "index warm. Target: <= 100 ms per iteration.\n\n" + table + "\n"
    )
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
