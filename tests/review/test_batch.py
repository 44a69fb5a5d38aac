"""`lingcode batch`: several workers, each task in its own worktree, against one scripted server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lingcode.errors import UsageError
from lingcode.model.scripted import ScriptedReply, ScriptedServer
from lingcode.run.batch import read_tasks
from tests.conftest import GitRepoFactory, git
from tests.review.helpers import lingcode

CALC = "def add(a, b):\n    return a - b\n"
FIX = (
    "THINK\nProblem: add subtracts.\nEND THINK\n"
    "calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
)
CHECK = "python3 -c 'import calc; assert calc.add(2, 3) == 5'"


@pytest.mark.slow
def test_batch_runs_tasks_concurrently_in_worktrees(make_repo: GitRepoFactory, tmp_path: Path) -> None:
    repo = make_repo({"calc.py": CALC})
    tasks = tmp_path / "tasks.jsonl"
    lines = [
        {"id": "t1", "task": "add(2, 3) should be 5"},
        {"id": "t2", "task": "fix add", "test_cmd": CHECK},
        {"id": "t3", "task": "add is wrong"},
    ]
    tasks.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # the model takes a while on every reply, so two workers must overlap in time
    script = [ScriptedReply(FIX, delay_s=1.5) for _ in lines]
    with ScriptedServer(script) as server:
        args = ["batch", str(tasks), "--jobs", "2", "--test-cmd", CHECK, "--model-url", server.base_url]
        done = lingcode(*args, cwd=repo, env={"TMPDIR": str(scratch)}, timeout=120)
    assert done.returncode == 0, done.stderr
    results = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(results) == {"t1", "t2", "t3"}
    for result in results.values():
        assert (result["status"], result["exit_code"]) == ("passed", 0), result
        assert "+    return a + b" in result["patch"]
        assert result["usage"]["prompt"] > 0
    assert len(server.requests) == 3
    spans = sorted((r["timings"]["batch_start_s"], r["timings"]["batch_end_s"]) for r in results.values())
    assert spans[1][0] < spans[0][1]  # the second task started before the first ended
    # the user's tree, index and worktree list are untouched; the temporary worktrees are gone
    assert (repo / "calc.py").read_text(encoding="utf-8") == CALC
    assert git(repo, "status", "--porcelain") == ""
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": "a", "task": "x"}\nnot json\n', ":2: not JSON"),
        ('{"id": "a", "task": "x"}\n{"id": "a", "task": "y"}\n', "duplicate id"),
        ('{"task": "x"}\n', "'id'"),
        ('{"id": "a", "task": ""}\n', "'task'"),
        ('{"id": "a", "task": "x", "test_cmd": 3}\n', "'test_cmd'"),
        ("\n", "no tasks"),
    ],
)
def test_bad_tasks_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_tasks(path)
