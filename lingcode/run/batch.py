"""`lingcode batch tasks.jsonl --jobs N`: many independent tasks at once against one model server.

Each task runs headlessly (`lingcode run --output-format json`, a child process) in its own detached
`git worktree` of HEAD under a temporary directory, so runs never see each other's edits and the user's work
tree is never touched. Several runs in flight keep a vLLM server's continuous batching busy. One JSON line
per task is written as each finishes: id, status, exit code, patch (against HEAD), usage and timings.
Worktrees are removed afterwards, also when a run fails or the batch is interrupted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lingcode.errors import ExitCode, UsageError


@dataclass(frozen=True)
class BatchTask:
    """One line of the tasks file."""

    id: str
    task: str
    test_cmd: str | None = None


def read_tasks(path: Path) -> list[BatchTask]:
    """Parse a JSONL tasks file; a bad line is a UsageError naming its number."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    tasks: list[BatchTask] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON: {exc.msg}") from None
        task = _task_from(data, f"{path}:{number}")
        if task.id in seen:
            raise UsageError(f"{path}:{number}: duplicate id {task.id!r}")
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise UsageError(f"{path}: no tasks")
    return tasks


def _task_from(data: Any, where: str) -> BatchTask:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object")
    task_id, task, test_cmd = data.get("id"), data.get("task"), data.get("test_cmd")
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not task_id:
        raise UsageError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(task, str) or not task.strip():
        raise UsageError(f"{where}: 'task' must be a non-empty string")
    if test_cmd is not None and not isinstance(test_cmd, str):
        raise UsageError(f"{where}: 'test_cmd' must be a string")
    return BatchTask(task_id, task, test_cmd)


@dataclass
class BatchRunner:
    """Runs tasks from one repository concurrently, each in its own worktree, and writes JSON lines."""

    root: Path
    base_url: str
    jobs: int = 2
    test_cmd: str | None = None
    model: str | None = None
    """Model name to request (None: the server's)."""
    timeout_s: float | None = None
    """Seconds one task may run before its process is killed (None: the run's own wall-time limit)."""
    command: Callable[[BatchTask], list[str]] | None = None
    """The child command for a task (default: this Python running `lingcode run --output-format json`)."""

    def run(self, tasks: list[BatchTask], out: TextIO) -> int:
        """Run every task and return 0 when all succeeded, else 1."""
        if self.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        self._git_lock = threading.Lock()  # `git worktree add/remove` edit shared metadata in .git
        self._out_lock = threading.Lock()
        self._started = time.monotonic()
        scratch = Path(tempfile.mkdtemp(prefix="lingcode-batch-"))
        try:
            with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="batch") as pool:
                results = list(pool.map(lambda t: self._one(t, scratch, out), tasks))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            _git(self.root, "worktree", "prune")
        return int(ExitCode.OK if all(r["exit_code"] == 0 for r in results) else ExitCode.FAILED)

    def _one(self, task: BatchTask, scratch: Path, out: TextIO) -> dict[str, Any]:
        started = time.monotonic()
        tree = scratch / _safe_name(task.id)
        result: dict[str, Any] = {"id": task.id}
        try:
            with self._git_lock:
                added = _git(self.root, "worktree", "add", "--detach", "--quiet", str(tree), "HEAD")
            if added.returncode != 0:
                raise RuntimeError(f"git worktree add failed: {added.stderr.strip()}")
            result.update(self._run_in(task, tree))
            result["patch"] = _patch(tree)
        except Exception as exc:  # one broken task must not sink the batch; it reports itself
            result.update(status="error", exit_code=int(ExitCode.INTERNAL), message=str(exc), patch="")
        finally:
            with self._git_lock:
                _git(self.root, "worktree", "remove", "--force", str(tree))
        timings = dict(result.get("timings") or {})
        # offsets from the batch's start, so a reader can see which tasks overlapped
        timings["batch_start_s"] = round(started - self._started, 3)
        timings["batch_end_s"] = round(time.monotonic() - self._started, 3)
        result["timings"] = timings
        result.setdefault("usage", {})
        with self._out_lock:
            out.write(json.dumps(result) + "\n")
            out.flush()
        return result

    def _run_in(self, task: BatchTask, tree: Path) -> dict[str, Any]:
        """Run one task in its worktree; the run's JSON result, or an error result explaining what broke."""
        env = dict(os.environ)
        env["LINGCODE_MODEL_BASE_URL"] = json.dumps(self.base_url)  # TOML string: never read as another type
        if self.model:
            env["LINGCODE_MODEL_MODEL"] = json.dumps(self.model)
        test_cmd = task.test_cmd or self.test_cmd
        if test_cmd:
            env["LINGCODE_LOOP_TEST_CMD"] = json.dumps(test_cmd)
        command = (self.command or _default_command)(task)
        try:
            done = subprocess.run(
                command,
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {
                "status": "timeout",
                "exit_code": int(ExitCode.TIMEOUT),
                "message": "task ran out of time",
            }
        data = _last_json_object(done.stdout)
        if data is None:
            lines = done.stderr.strip().splitlines() or ["no JSON result"]
            return {"status": "error", "exit_code": done.returncode or 1, "message": lines[-1]}
        data.pop("diff", None)  # the patch is taken from the worktree itself, untracked files included
        data["exit_code"] = done.returncode
        return data


def _default_command(task: BatchTask) -> list[str]:
    return [sys.executable, "-m", "lingcode", "run", "--output-format", "json", task.task]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def _patch(tree: Path) -> str:
    """Everything the run changed in its worktree, as a patch against HEAD (new files included)."""
    _git(tree, "add", "-A")  # the worktree's own index, not the user's
    return _git(tree, "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "HEAD").stdout


def _last_json_object(text: str) -> dict[str, Any] | None:
    """The last line of `text` that is a JSON object (a run may print progress lines before it)."""
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return data
    try:
        whole = json.loads(text)  # a pretty-printed object over several lines
    except json.JSONDecodeError:
        return None
    return whole if isinstance(whole, dict) else None


def _safe_name(task_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", task_id)[:60]
    return f"{cleaned}-{abs(hash(task_id)) % 10**8}"
