"""G17 from outside: with CI=true and stdin closed, no command prompts or waits for input; each finishes
with a documented exit code and, when it fails, says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.model.scripted import ScriptedServer
from tests.conftest import GIT_ENV, GitRepoFactory, git
from tests.loop.helpers import FILES, FIX, QUICK

DOCUMENTED = {0, 1, 2, 3, 4, 5, 6, 124, 130}
DEAD_URL = "http://127.0.0.1:9/v1"  # nothing listens: a command that tried the model fails at once


def _lingcode(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "CI": "true", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "lingcode", *args],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,  # a prompt or a wait for stdin would hang here until killed
    )


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in DOCUMENTED, result.stderr
    assert "Traceback" not in result.stderr
    if result.returncode != 0:
        assert result.stderr.strip(), "a failure says why"


@pytest.mark.parametrize(
    "args",
    [
        ("--model-url", DEAD_URL),  # the interactive session, with no terminal to draw on
        ("run", "fix it", "--model-url", DEAD_URL, "--test-cmd", QUICK),
        ("undo",),
        ("review", "--staged", "--model-url", DEAD_URL),
        ("hook", "install"),
        ("hook", "uninstall"),
    ],
    ids=["bare", "run", "undo", "review", "hook-install", "hook-uninstall"],
)
def test_nothing_prompts_or_waits(args: tuple[str, ...], make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    (root / "calc.py").write_text("def average(values):\n    return 0\n")
    git(root, "add", "calc.py")
    _one_clear_line(_lingcode(root, *args))


def test_a_full_run_and_its_undo_need_no_input(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        ran = _lingcode(root, "-c", "model.constrain=false", "run", "fix it", "--model-url", server.base_url,
                        "--test-cmd", QUICK)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    undone = _lingcode(root, "undo")
    assert undone.returncode == 0, undone.stderr
    assert git(root, "status", "--porcelain") == ""
