"""G11 from outside: a hanging test command and its hanging child are killed, as a group, at the limit."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, FIX


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie awaiting its parent counts as gone: it runs nothing
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_hanging_check_and_its_child_are_killed_at_the_limit(
    make_repo: GitRepoFactory, tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    # the child detaches from the shell's wait but stays in the shell's process group
    hang = f"sleep 300 & echo $! > {pidfile}; sleep 300"
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "-c", "loop.test_timeout=1",
                "-c", "loop.max_iterations=1", "run", "fix the failing test", "--root", str(root),
                "--model-url", server.base_url, "--test-cmd", hang]  # fmt: skip
        code = run_cli(args)
    assert code != 0  # a check that timed out never counts as passed
    child = int(pidfile.read_text().strip())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), f"child {child} outlived the check"


def test_fifty_megabytes_of_check_output_are_capped_before_the_model(
    make_repo: GitRepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "requests.jsonl"
    flood = f"{sys.executable} -c \"import sys; [print('x' * 1023) for _ in range(51200)]; sys.exit(1)\""
    root = make_repo(FILES)
    with ScriptedServer([FIX, FIX, FIX], log_path=log) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "-c", "loop.max_iterations=2",
                "run", "fix the failing test", "--root", str(root), "--model-url", server.base_url,
                "--test-cmd", flood]  # fmt: skip
        run_cli(args)
    bodies = [json.loads(line)["body"] for line in log.read_text(encoding="utf-8").splitlines()]
    chats = [b for b in bodies if isinstance(b, dict) and "messages" in b]
    assert len(chats) >= 2  # the check's output had a chance to reach the model
    assert "x" * 1000 in json.dumps(chats[-1])  # it did reach it, trimmed
    assert max(len(json.dumps(b)) for b in chats) < 1_000_000
    run_logs = [p for p in (root / ".git" / "lingcode" / "runs").rglob("*") if p.is_file()]
    assert run_logs  # the trajectory was written, so the size bound below means something
    assert all(p.stat().st_size < 5_000_000 for p in run_logs)
