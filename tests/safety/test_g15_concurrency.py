"""G15 from outside: a second run in a repository that one is working in refuses in one line, before it asks
the model or touches a file; a stale `.git/index.lock` (a crashed git's) is never deleted by `run` or
`run --commit`, and a commit it blocks is reported in one line that names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lingcode.model.scripted import ScriptedReply, ScriptedServer
from tests.conftest import GIT_ENV, GitRepoFactory, git
from tests.loop.helpers import FILES, FIX, QUICK

FIXED = "def average(values):\n    return sum(values) / len(values)\n"
STALE = b"left by a git that crashed\n"


def _command(url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lingcode", "-c", "model.max_retries=0", "-c", "model.constrain=false",
            "run", "fix average", "--model-url", url, "--test-cmd", QUICK, *extra]  # fmt: skip


def _run(root: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "CI": "true"}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_a_second_run_refuses_in_one_line_while_the_first_works(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    lock = root / ".git" / "lingcode" / "run.lock"
    with ScriptedServer([ScriptedReply(FIX, delay_s=4.0)]) as server:
        env = {**os.environ, **GIT_ENV, "CI": "true"}
        args = _command(server.base_url, "--output-format", "json")
        pipe = subprocess.PIPE
        first = subprocess.Popen(args, cwd=root, env=env, stdout=pipe, stderr=pipe, text=True)
        try:
            _wait_for(lock)
            second = _run(root, _command(server.base_url))
            undo = _run(root, [sys.executable, "-m", "lingcode", "undo"])
            out, err = first.communicate(timeout=120)
        finally:
            first.kill()
        requests = len(server.requests)
    assert first.returncode == 0, err
    for refused in (second, undo):
        assert refused.returncode == 2, refused.stderr
        lines = _error_lines(refused.stderr)
        assert len(lines) == 1 and f"another lingcode run (pid {first.pid})" in lines[0], refused.stderr
        assert "Traceback" not in refused.stderr
    assert requests == 1  # the second run never asked the model
    assert (root / "calc.py").read_text() == FIXED  # the first run's edit, once, and undo did not revert it
    assert json.loads(out)["status"] == "passed"
    assert not lock.exists()  # the first run released its lock


def test_a_stale_index_lock_survives_run_and_a_blocked_commit_says_so(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    index_lock = root / ".git" / "index.lock"
    index_lock.write_bytes(STALE)
    head = git(root, "rev-parse", "HEAD")
    with ScriptedServer([FIX, "fix: average divides by len\n"]) as server:
        done = _run(root, _command(server.base_url, "--commit", "--output-format", "json"))
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "commit_failed"
    assert "index.lock" in result["message"] and "remove it yourself" in result["message"]
    assert "Traceback" not in done.stderr
    assert index_lock.read_bytes() == STALE  # never deleted, never rewritten
    assert git(root, "rev-parse", "HEAD") == head
    assert (root / "calc.py").read_text() == FIXED  # the passing edit stays, for the user to commit


def test_a_run_without_commit_leaves_a_stale_index_lock_alone(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    index_lock = root / ".git" / "index.lock"
    index_lock.write_bytes(STALE)
    with ScriptedServer([FIX]) as server:
        done = _run(root, _command(server.base_url))
    assert done.returncode == 0, done.stderr
    assert index_lock.read_bytes() == STALE
    assert (root / "calc.py").read_text() == FIXED
