"""Helpers for the review, hook and batch tests: running lingcode as a child process, as git runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GIT_ENV

DATA = Path(__file__).parent / "data"

# a reply in the shape the review template asks for
FINDING_REPLY = """THINK
scale now adds one; total passes 1 and expects 1 back.
END THINK
FINDINGS:
FINDING: a.py:2: error: scale returns x + 1 but its caller total expects x unchanged.
<<<<<<< SEARCH
    return x + 1
=======
    return x
>>>>>>> REPLACE
"""
CLEAN_REPLY = "THINK\nThe change is fine.\nEND THINK\nFINDINGS:\nNO FINDINGS\n"

BASE_A = "def scale(x):\n    return x\n\n\ndef total():\n    return scale(1)\n"
STAGED_A = "def scale(x):\n    return x + 1\n\n\ndef total():\n    return scale(1)\n"
UNSTAGED_LINE = "UNSTAGED_MARKER = 42\n"


def lingcode(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `python -m lingcode ARGS` in cwd, as a user (or a hook) would."""
    return subprocess.run(
        [sys.executable, "-m", "lingcode", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run git without raising, so a test can look at a failing commit's exit code and output."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stage_partially(root: Path) -> None:
    """Stage the change to scale, then add an unstaged line on top: the index and work tree now differ."""
    (root / "a.py").write_text(STAGED_A, encoding="utf-8")
    run_git(root, "add", "a.py")
    (root / "a.py").write_text(STAGED_A + UNSTAGED_LINE, encoding="utf-8")


def prompt_of(request: dict[str, object]) -> str:
    """All message text of one chat request the scripted server received."""
    messages = request["messages"]
    assert isinstance(messages, list)
    return "\n".join(str(m["content"]) for m in messages)
