"""Benchmark the pre-commit hook's own overhead: everything but the model's time.

A large repository is generated (default 5,000 Python files in 50 packages), committed and its git index
warmed; lingcode's hook is installed as `lingcode hook install` installs it. Then for commits
touching 1 and 50 files, the installed hook script is run exactly as git runs it (cwd at the root,
GIT_INDEX_FILE unset) against a scripted model server that answers at once, so the measured time is the
hook's: shell, interpreter start, imports, reading the staged diff, related-code search, prompt rendering,
the HTTP round trips and writing the result. Target: <= 300 ms.

Two settings of Python's bytecode cache are measured. "installed": lingcode's modules are compiled once, as
pip does when it installs a package (the hook runs with PYTHONPYCACHEPREFIX in the scratch directory, so
the source tree is left alone). "environment": the environment as it is; with PYTHONDONTWRITEBYTECODE set
(as in lingcode's development sandbox) an editable checkout is compiled from source on every run. Each
setting has its own XDG_CACHE_HOME in the scratch directory, warmed by the first run like a user's cache.

    .venv/bin/python benchmarks/hook.py [--files 5000] [--repeat 7] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lingcode.model.scripted import ScriptedServer
from lingcode.run import hook

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@lingcode.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@lingcode.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
CLEAN = "THINK\nfine\nEND THINK\nFINDINGS:\nNO FINDINGS\n"


def module_text(index: int, total: int) -> str:
    """A plausible module: three functions, one calling into another module."""
    other = (index * 7 + 3) % total
    return (
        f'"""Module {index}."""\n\n'
        f"from pkg{other // 100}.mod{other} import compute_{other}\n\n\n"
        f"def compute_{index}(value):\n"
        f'    """Scale a value."""\n'
        f"    total = value * {index % 13 + 1}\n"
        f"    for step in range(3):\n"
        f"        total += step\n"
        f"    return total\n\n\n"
        f"def combine_{index}(a, b):\n"
        f"    return compute_{index}(a) + compute_{other}(b)\n\n\n"
        f"class Holder{index}:\n"
        f"    def __init__(self, value):\n"
        f"        self.value = value\n\n"
        f"    def doubled(self):\n"
        f"        return combine_{index}(self.value, self.value)\n"
    )


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, env={**os.environ, **GIT_ENV}, capture_output=True)


def make_repo(root: Path, files: int) -> None:
    """Generate and commit the repository."""
    for i in range(files):
        path = root / f"pkg{i // 100}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_text(i, files), encoding="utf-8")
    for package in {i // 100 for i in range(files)}:
        (root / f"pkg{package}" / "__init__.py").write_text("", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "generated")


def stage_change(root: Path, count: int, files: int, round_no: int) -> None:
    """Change the body of `count` functions spread over the repository and stage them."""
    paths = []
    for k in range(count):
        i = (k * (files // max(count, 1))) % files
        path = root / f"pkg{i // 100}" / f"mod{i}.py"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("total += step", f"total += step * {round_no + 2}", 1), encoding="utf-8")
        paths.append(str(path.relative_to(root)))
    git(root, "add", *paths)


def time_hook(root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the hook's processes) of one hook run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    script = str(hook.hooks_dir(root) / "pre-commit")
    done = subprocess.run([script], cwd=root, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or done.stderr:
        raise SystemExit(f"hook failed ({done.returncode}): {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


IMPORTS = (
    "lingcode.cli",
    "lingcode.config",
    "httpx",
    "lingcode.model.client",
    "lingcode.prompts",
    "lingcode.context.secrets",
    "lingcode.run.review",
)
"""What the hook imports, each measured alone in a fresh interpreter (shared dependencies count in each).
Bare `httpx` loads its optional command-line client too; the hook's (through lingcode.model) does not."""


def time_import(module: str, repeat: int) -> float:
    """Median CPU seconds of a fresh interpreter importing `module`."""
    runs = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        # run from this folder: `python -c` puts its working directory first on sys.path, which in the
        # repository root would shadow a PYTHONPATH pointing at another copy of lingcode
        here = Path(__file__).resolve().parent
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True, cwd=here)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(runs)


def time_command(args: list[str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="Write a markdown report here.")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lingcode-hook-bench-"))
    try:
        rows = run(scratch, args.files, args.repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    python_start = time_command([sys.executable, "-c", "pass"], args.repeat)
    imports = [(name, time_import(name, args.repeat)) for name in IMPORTS]
    report = render(rows, args.files, args.repeat, python_start, imports)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")


Row = tuple[str, int, float, float, float]
"""Bytecode setting, files in the commit, median wall seconds, min wall seconds, median CPU seconds."""


def run(scratch: Path, files: int, repeat: int) -> list[Row]:
    """Generate the repository, install the hook, and time it on commits of 1 and 50 files."""
    root = scratch / "repo"
    root.mkdir()
    make_repo(root, files)
    hook.install(root, python=sys.executable)
    git(root, "status", "--porcelain")  # warm the git index (stat info)
    rows: list[Row] = []
    base = {**os.environ, **GIT_ENV}
    base.pop("GIT_INDEX_FILE", None)
    installed = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
    settings = {
        "installed": {**installed, "PYTHONPYCACHEPREFIX": str(scratch / "pycache")},
        "environment": base,
    }
    with ScriptedServer([]) as server:
        for round_no, count in enumerate((1, 50)):
            stage_change(root, count, files, round_no)
            for name, env in settings.items():
                env = {
                    **env,
                    "LINGCODE_MODEL_BASE_URL": server.base_url,
                    "XDG_CACHE_HOME": str(scratch / name),
                }
                server.add(CLEAN)
                time_hook(root, env)  # warm-up: the OS caches the files this commit reads
                walls, cpus = [], []
                for _ in range(repeat):
                    server.add(CLEAN)
                    wall, cpu = time_hook(root, env)
                    walls.append(wall)
                    cpus.append(cpu)
                rows.append((name, count, statistics.median(walls), min(walls), statistics.median(cpus)))
            git(root, "commit", "-q", "--no-verify", "-m", f"round {round_no}")
    return rows


def render(
    rows: list[Row], files: int, repeat: int, python_start: float, imports: list[tuple[str, float]]
) -> str:
    """The markdown report."""
    lines = [
        "# Pre-commit hook overhead",
        "",
        f"`benchmarks/hook.py --files {files} --repeat {repeat}`: a generated repository of {files} Python "
        "files, warm git index, the installed hook script run as git runs it, against a scripted server "
        "answering at once (so this is lingcode's time, not the model's). Target: <= 300 ms.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; bare "
        f"interpreter start (`python -c pass`): {python_start * 1000:.0f} ms; load average while measuring: "
        f"{os.getloadavg()[0]:.1f} (CPU time is less affected by other load than wall time); "
        f"PYTHONDONTWRITEBYTECODE {'set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'unset'}.",
        "",
        "| bytecode | files in commit | wall, median | wall, min | CPU (user+sys), median |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, count, median, low, cpu in rows:
        lines.append(
            f"| {name} | {count} | {median * 1000:.0f} ms | {low * 1000:.0f} ms | {cpu * 1000:.0f} ms |"
        )
    lines += ["", "CPU time of a fresh interpreter importing one module (dependencies included):", ""]
    lines += ["| module | CPU, median |", "|---|---:|"]
    lines += [f"| `{name}` | {cpu * 1000:.0f} ms |" for name, cpu in imports]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
