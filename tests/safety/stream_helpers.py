"""Shared pieces of the G8/G9 tests: the real `lingcode run` in a subprocess, a user's dirty work tree, and
byte-for-byte snapshots of it.

The subprocess is the point: a traceback, a stray prompt or a partial write shows up exactly as a user would
see it, and nothing of lingcode's runs in the test's own process except the scripted server.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingcode.loop.trajectory import runs_dir
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, QUICK

USER_EDIT = "def average(values):\n    return sum(values) / (len(values) + 1)\n\n\n# the user's own note\n"
"""calc.py with an uncommitted change of the user's: the bug is still there for the model to fix."""

UNTRACKED: dict[str, str | bytes] = {
    "notes/todo.txt": "the user's own untracked notes\n",
    "data.bin": b"\x00\xff\x00 raw bytes",
}

Snapshot = dict[str, tuple[bytes, int]]
"""Every file outside .git: repository-relative path -> (its bytes, its mode bits)."""


@dataclass(frozen=True)
class Run:
    """One finished `lingcode run` process."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The JSON result (--output-format json prints it as the last stdout line)."""
        data: dict[str, Any] = json.loads(self.stdout.strip().splitlines()[-1])
        return data


def dirty_repo(make_repo: GitRepoFactory) -> Path:
    """The calc repository with a failing test, an uncommitted edit and untracked files of the user's."""
    root = make_repo(FILES)
    (root / "calc.py").write_text(USER_EDIT, encoding="utf-8")
    for rel, content in UNTRACKED.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def snapshot(root: Path) -> Snapshot:
    """The work tree's bytes and modes (not .git, where lingcode's own log and checkpoint live)."""
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or path.is_dir():
            continue
        found[rel.as_posix()] = (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
    return found


def lingcode_run(root: Path, base_url: str, *config: str, timeout: float = 60.0) -> Run:
    """`lingcode run` on the calc task in a subprocess with a JSON result; `config` is extra `-c` values."""
    settings = [arg for value in ("model.constrain=false", *config) for arg in ("-c", value)]
    argv = [sys.executable, "-m", "lingcode", *settings, "run", "fix the failing test", "--root", str(root),
            "--model-url", base_url, "--test-cmd", QUICK, "--output-format", "json"]  # fmt: skip
    done = subprocess.run(
        argv,
        env={**os.environ, "CI": "true"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_reported_cleanly(run: Run) -> None:
    """No traceback and no internal error; the run's last stderr words are lingcode's own lines."""
    for text in (run.stdout, run.stderr):
        assert "Traceback" not in text, text
        assert "internal error" not in text, text
    assert all(line.startswith("lingcode: ") for line in run.stderr.splitlines()), run.stderr


def run_log(root: Path) -> list[dict[str, Any]]:
    """The records of the repository's one run log."""
    logs = sorted(runs_dir(root).glob("*.jsonl"))
    assert len(logs) == 1, logs
    return [json.loads(line) for line in logs[0].read_text(encoding="utf-8").splitlines()]


def log_size(root: Path) -> int:
    """Bytes of every run log of the repository together."""
    return sum(path.stat().st_size for path in runs_dir(root).glob("*.jsonl"))
