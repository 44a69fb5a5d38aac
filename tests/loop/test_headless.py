"""`lingcode run`, `lingcode undo` and `lingcode export-sft` driven through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GIT_ENV, GitRepoFactory, git
from tests.loop.helpers import CALC, FILES, FIX, NOT_FOUND, QUICK, WRONG_FIX, valid_result


def _run(root: Path, url: str, *extra: str) -> list[str]:
    return ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "fix the failing test",
            "--root", str(root), "--model-url", url, "--test-cmd", QUICK, *extra]  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = capsys.readouterr().out.strip().splitlines()
    data = valid_result(json.loads(out[-1]))
    return data


def test_json_result_and_exit_0(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url, "--output-format", "json"))
    result = _json(capsys)
    assert code == 0
    assert result["status"] == "passed"
    assert result["iterations"] == 1
    assert result["tests_passed"] is True
    assert result["files_changed"] == ["calc.py"]
    assert set(result["usage"]) >= {"prompt", "completion", "cached"}
    assert result["timings"]["total_s"] > 0
    assert result["turns"][0]["usage"]["prompt"] > 0


def test_stream_json_writes_events_then_the_result(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        assert run_cli(_run(root, server.base_url, "--output-format", "stream-json")) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    types = [line["type"] for line in lines]
    assert types[0] == "RunStarted" and types[-1] == "result"
    assert "ModelDelta" in types and "EditsApplied" in types and "CheckFinished" in types
    assert "lingcode: checks" in captured.err  # progress goes to stderr


def test_no_apply_writes_a_patch_that_git_applies(
    make_repo: GitRepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    patch = tmp_path / "fix.patch"
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url, "--no-apply", "--patch-out", str(patch)))
    assert code == 0
    assert (root / "calc.py").read_text() == CALC
    git(root, "apply", "--check", str(patch))
    git(root, "apply", str(patch))
    assert "len(values)\n" in (root / "calc.py").read_text()


@pytest.mark.parametrize(
    ("script", "extra", "code", "status"),
    [
        ([WRONG_FIX], ("--max-iterations", "1"), 1, "tests_failed"),
        ([NOT_FOUND] * 3, (), 4, "rejected"),
    ],
)
def test_exit_codes(
    make_repo: GitRepoFactory,
    capsys: pytest.CaptureFixture[str],
    script: list[str],
    extra: tuple[str, ...],
    code: int,
    status: str,
) -> None:
    root = make_repo(FILES)
    with ScriptedServer(script) as server:
        assert run_cli(_run(root, server.base_url, "--output-format", "json", *extra)) == code
    assert _json(capsys)["status"] == status


def test_model_unreachable_exits_3(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        url = server.base_url  # the port is closed once the server stops
    assert run_cli(_run(root, url, "--output-format", "json")) == 3
    assert _json(capsys)["status"] == "model_unavailable"
    assert git(root, "status", "--porcelain") == ""


def test_usage_errors_exit_2(
    make_repo: GitRepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    with ScriptedServer([FIX]) as server:
        assert run_cli(_run(plain, server.base_url)) == 2
    assert "not in a git repository" in capsys.readouterr().err
    assert run_cli(["run", "   ", "--root", str(root), "--model-url", "http://127.0.0.1:9/v1"]) == 2
    assert run_cli(["run", "x", "--root", str(root), "--no-apply", "--commit"]) == 2
    assert "cannot be used together" in capsys.readouterr().err


def test_commit_uses_a_generated_message(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX, "Fix average's divisor\n\nIt counted one value too many."]) as server:
        assert run_cli(_run(root, server.base_url, "--commit")) == 0
    assert git(root, "log", "-1", "--format=%s").strip() == "Fix average's divisor"
    assert git(root, "status", "--porcelain") == ""


def test_task_from_stdin_and_stdin_never_read_otherwise(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    env = {**os.environ, **GIT_ENV}
    with ScriptedServer([FIX, FIX]) as server:
        args = _run(root, server.base_url, "--output-format", "json")
        piped = subprocess.run(
            [sys.executable, "-m", "lingcode", *[("-" if a == "fix the failing test" else a) for a in args]],
            input="fix the failing test", capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert piped.returncode == 0, piped.stderr
        assert "fix the failing test" in server.requests[0]["messages"][1]["content"]
        git(root, "checkout", "calc.py")
        # stdin stays open and empty: a run that read it would hang until the timeout
        with subprocess.Popen(
            [sys.executable, "-m", "lingcode", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        ) as proc:
            assert proc.stdout is not None
            out = proc.stdout.read()  # returns once the run exits; stdin is still open
            assert proc.wait(timeout=120) == 0
    assert json.loads(out.decode().splitlines()[-1])["status"] == "passed"


def test_undo_restores_a_dirty_tree(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(FILES)
    (root / "calc.py").write_text(CALC + "# the user's uncommitted note\n")
    git(root, "add", "calc.py")
    (root / "calc.py").write_text(CALC + "# the user's uncommitted note\n# and an unstaged one\n")
    (root / "draft.txt").write_text("untracked draft\n")
    before = (root / "calc.py").read_bytes()
    index = (root / ".git" / "index").read_bytes()
    with ScriptedServer([FIX]) as server:
        assert run_cli(_run(root, server.base_url)) == 0
    assert (root / "calc.py").read_bytes() != before
    assert run_cli(["undo", "--root", str(root)]) == 0
    assert (root / "calc.py").read_bytes() == before
    assert (root / "draft.txt").read_text() == "untracked draft\n"
    assert (root / ".git" / "index").read_bytes() == index
    assert "restored 1 file" in capsys.readouterr().out
    assert run_cli(["undo", "--root", str(root)]) == 0
    assert "nothing to undo" in capsys.readouterr().out


def test_export_sft_writes_only_successful_runs(
    make_repo: GitRepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX, FIX]) as server:
        assert run_cli(_run(root, server.base_url, "--max-iterations", "1")) == 1
    git(root, "checkout", "calc.py")
    with ScriptedServer([FIX]) as server:
        assert run_cli(_run(root, server.base_url)) == 0
    out = tmp_path / "sft.jsonl"
    assert run_cli(["export-sft", "--root", str(root), "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 1
    roles = [m["role"] for m in lines[0]["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert lines[0]["messages"][-1]["content"] == FIX


def test_no_constrain_flag_sends_no_grammar(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    base = [
        "-c",
        "model.max_retries=0",
        "run",
        "fix the failing test",
        "--root",
        str(root),
        "--test-cmd",
        QUICK,
    ]
    with ScriptedServer([FIX, FIX]) as server:  # the scripted server takes grammars, like llama.cpp
        assert run_cli([*base, "--model-url", server.base_url]) == 0
        git(root, "checkout", "-q", "--", ".")
        assert run_cli([*base, "--model-url", server.base_url, "--no-constrain"]) == 0
        constrained, free = server.requests
    assert "grammar" in constrained
    assert "grammar" not in free
