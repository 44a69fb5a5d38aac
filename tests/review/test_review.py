"""`lingcode review` end to end: a real git repository, the CLI as a child process, a real scripted server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedReply, ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.review.helpers import (
    BASE_A,
    CLEAN_REPLY,
    DATA,
    FINDING_REPLY,
    STAGED_A,
    UNSTAGED_LINE,
    lingcode,
    prompt_of,
    stage_partially,
)


@pytest.fixture
def repo(make_repo: GitRepoFactory) -> Path:
    return make_repo({"a.py": BASE_A, "b.py": "from a import total\n\nprint(total())\n"})


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_staged_review_sees_only_staged_lines(repo: Path) -> None:
    stage_partially(repo)
    # a caller with unstaged edits: the prompt must quote its staged line, not the work tree's
    (repo / "b.py").write_text("from a import total\n\nprint(total())  # UNSTAGED_MARKER\n", encoding="utf-8")
    with ScriptedServer([FINDING_REPLY]) as server:
        done = lingcode("review", "--staged", "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 1, done.stderr  # an error finding at the default --fail-on error
    prompt = prompt_of(server.requests[0])
    assert "return x + 1" in prompt
    assert "UNSTAGED_MARKER" not in prompt
    assert "b.py:3: print(total())" in prompt  # a caller of the touched function, from the context search
    assert "a.py:2: error: scale returns x + 1 but its caller total expects x unchanged." in done.stdout
    # a review changes nothing: the index and the work tree are as they were
    assert git(repo, "show", ":a.py") == STAGED_A
    assert (repo / "a.py").read_text(encoding="utf-8") == STAGED_A + UNSTAGED_LINE


def test_context_has_definitions_of_called_functions_but_no_unstaged_files(
    make_repo: GitRepoFactory,
) -> None:
    repo = make_repo({
        "a.py": BASE_A,
        "limits.py": "def clamp_value(v, lo, hi):\n    return max(lo, min(v, hi))\n",
        "dirty.py": "def clamp_value(v):\n    return v\n",
    })  # fmt: skip
    (repo / "a.py").write_text(
        BASE_A.replace("return x\n", "return clamp_value(x, 0, 9)\n", 1), encoding="utf-8"
    )
    git(repo, "add", "a.py")
    (repo / "dirty.py").write_text("def clamp_value(v):\n    return v  # UNSTAGED_MARKER\n", encoding="utf-8")
    with ScriptedServer([CLEAN_REPLY]) as server:
        done = lingcode("review", "--staged", "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 0, done.stderr
    prompt = prompt_of(server.requests[0])
    assert "limits.py:1: def clamp_value(v, lo, hi)" in prompt
    assert "dirty.py" not in prompt  # its work-tree content is not what will be committed


def test_json_output_and_fail_on(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([FINDING_REPLY, FINDING_REPLY]) as server:
        never = lingcode("review", "--staged", "--format", "json", "--fail-on", "never",
                         "--model-url", server.base_url, cwd=repo)  # fmt: skip
        info = lingcode("review", "--staged", "--format", "json", "--fail-on", "info",
                        "--model-url", server.base_url, cwd=repo)  # fmt: skip
    assert never.returncode == 0, never.stderr
    assert info.returncode == 1
    data = json.loads(never.stdout)
    assert data["status"] == "ok"
    assert data["files"] == ["a.py"]
    assert data["findings"][0]["file"] == "a.py"
    assert data["findings"][0]["line"] == 2
    assert data["findings"][0]["severity"] == "error"
    assert "return x + 1" in data["findings"][0]["suggestion"]
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}


def test_sarif_output_validates(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([FINDING_REPLY]) as server:
        done = lingcode("review", "--staged", "--format", "sarif", "--model-url", server.base_url, cwd=repo)
    log = json.loads(done.stdout)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.py"
    assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == (
        "    return x\n"
    )


def test_no_findings_is_quiet(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([CLEAN_REPLY]) as server:
        done = lingcode("review", "--staged", "--model-url", server.base_url, cwd=repo)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert len(server.requests) == 1


def test_nothing_staged_asks_nothing(repo: Path) -> None:
    with ScriptedServer([]) as server:
        done = lingcode("review", "--staged", "--model-url", server.base_url, cwd=repo)
    assert (done.returncode, done.stdout) == (0, "")
    assert server.requests == []


def test_base_reviews_the_branch_not_the_work_tree(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "c.py").write_text("def helper():\n    return 3\n", encoding="utf-8")
    git(repo, "add", "c.py")
    git(repo, "commit", "-q", "-m", "add h")
    (repo / "a.py").write_text(BASE_A + UNSTAGED_LINE, encoding="utf-8")
    reply = "FINDINGS:\nFINDING: c.py:2: warning: helper returns a magic number.\n"
    with ScriptedServer([reply]) as server:
        done = lingcode(
            "review", "--base", "main", "--format", "json", "--model-url", server.base_url, cwd=repo
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"] == ["c.py"]
    prompt = prompt_of(server.requests[0])
    assert "return 3" in prompt and "UNSTAGED_MARKER" not in prompt


def test_paths_review_whole_files(repo: Path) -> None:
    reply = "FINDINGS:\nFINDING: b.py:3: info: prints at import time\n"
    with ScriptedServer([reply]) as server:
        done = lingcode("review", "b.py", "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 0
    assert "b.py:3: info: prints at import time" in done.stdout
    assert "print(total())" in prompt_of(server.requests[0])


def test_fix_applies_the_suggested_edit(repo: Path) -> None:
    (repo / "a.py").write_text(STAGED_A, encoding="utf-8")
    with ScriptedServer([FINDING_REPLY]) as server:
        done = lingcode(
            "review", "a.py", "--fix", "--fail-on", "never", "--model-url", server.base_url, cwd=repo
        )
    assert done.returncode == 0, done.stderr
    assert (repo / "a.py").read_text(encoding="utf-8") == BASE_A


def test_patch_out_writes_a_patch_and_leaves_files_alone(repo: Path, tmp_path: Path) -> None:
    (repo / "a.py").write_text(STAGED_A, encoding="utf-8")
    patch = tmp_path / "fix.patch"
    with ScriptedServer([FINDING_REPLY]) as server:
        done = lingcode("review", "a.py", "--patch-out", str(patch), "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 1
    assert (repo / "a.py").read_text(encoding="utf-8") == STAGED_A
    assert "-    return x + 1" in patch.read_text(encoding="utf-8")
    git(repo, "apply", "--check", str(patch))  # a patch git itself accepts


def test_server_down_outside_hook_mode_is_an_error(repo: Path) -> None:
    stage_partially(repo)
    done = lingcode(
        "-c", "model.max_retries=0", "review", "--staged", "--model-url", closed_port_url(), cwd=repo
    )
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "configured", "code"),
    [((), "false", 0), (("--fail-closed",), "false", 3), ((), "true", 3), (("--fail-open",), "true", 0)],
)
def test_hook_mode_server_down(repo: Path, extra: tuple[str, ...], configured: str, code: int) -> None:
    stage_partially(repo)
    done = lingcode("review", "--hook", "--staged", *extra, "--model-url", closed_port_url(), cwd=repo,
                    env={"LINGCODE_REVIEW_FAIL_CLOSED": configured})  # fmt: skip
    assert done.returncode == code
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()  # one warning line, no traceback
    assert line.startswith("lingcode: review skipped:")
    assert ("blocked" in line) is (code == 3)


@pytest.mark.parametrize(("extra", "code"), [((), 0), (("--fail-closed",), 3)])
def test_hook_mode_over_budget(repo: Path, extra: tuple[str, ...], code: int) -> None:
    stage_partially(repo)
    with ScriptedServer([ScriptedReply(FINDING_REPLY, delay_s=20)]) as server:
        started = time.monotonic()
        done = lingcode("review", "--hook", "--staged", "--budget", "1", *extra,
                        "--model-url", server.base_url, cwd=repo)  # fmt: skip
        took = time.monotonic() - started
    assert done.returncode == code
    assert took < 8  # the budget, plus interpreter start, not the server's 20 s
    assert "budget" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert len(server.requests) == 1


def test_budget_outside_hook_mode_is_a_timeout(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([ScriptedReply(FINDING_REPLY, delay_s=20)]) as server:
        done = lingcode("review", "--staged", "--budget", "1", "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 124
    assert "budget" in done.stderr


def test_hook_mode_without_a_server_fails_open_and_says_how_to_start_one(repo: Path) -> None:
    stage_partially(repo)
    done = lingcode("review", "--hook", "--staged", cwd=repo)
    assert done.returncode == 0
    assert "lingcode serve" in done.stderr


def test_hook_recursion_guard(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([FINDING_REPLY]) as server:
        done = lingcode("review", "--hook", "--staged", "--model-url", server.base_url, cwd=repo,
                        env={"LINGCODE_HOOK_ACTIVE": "1"})  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert server.requests == []


def test_hook_requires_staged(repo: Path) -> None:
    done = lingcode("review", "--hook", cwd=repo)
    assert done.returncode == 2


def test_hook_mode_reuses_a_running_embedded_server(repo: Path, tmp_path: Path) -> None:
    """With no URL configured, the hook uses the server `lingcode serve --detach` recorded; it starts none.

    The stand-in is the scripted server in its own process, with `llama_cpp.server` on its command line,
    which is how lingcode recognises its embedded server's process.
    """
    from lingcode.model.embedded import ServerState, write_state

    script = tmp_path / "script.json"
    script.write_text(json.dumps([FINDING_REPLY]), encoding="utf-8")
    code = "import sys; from lingcode.model.scripted import main; sys.exit(main(sys.argv[2:]))"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "llama_cpp.server", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        write_state(ServerState(pid=child.pid, port=int(url.split(":")[2].split("/")[0]), model_path="m.gguf",
                                base_url=url, n_ctx=4096))  # fmt: skip
        stage_partially(repo)
        done = lingcode("review", "--hook", "--staged", cwd=repo)
    finally:
        child.terminate()
        child.wait(timeout=10)
        child.stdout.close()  # type: ignore[union-attr]
    assert done.returncode == 1, done.stderr
    assert "a.py:2: error: scale returns x + 1" in done.stdout


def test_changes_beyond_the_context_budget_are_named_not_shown(repo: Path) -> None:
    stage_partially(repo)
    (repo / "z.py").write_text("".join(f"VALUE_{i} = {i}\n" for i in range(200)), encoding="utf-8")
    git(repo, "add", "z.py")
    reply = "FINDINGS:\nFINDING: z.py:3: error: not shown, so not reviewed\nFINDING: a.py:2: info: seen\n"
    with ScriptedServer([reply]) as server:
        done = lingcode("-c", "context.budget=200", "review", "--staged", "--format", "json",
                        "--model-url", server.base_url, cwd=repo)  # fmt: skip
    prompt = prompt_of(server.requests[0])
    assert "=== a.py" in prompt and "=== z.py" not in prompt
    assert "Also changed, but not shown here: z.py." in prompt
    assert [f["file"] for f in json.loads(done.stdout)["findings"]] == ["a.py"]


def test_a_reply_cut_off_while_reasoning_is_not_a_silent_pass(repo: Path) -> None:
    stage_partially(repo)
    with ScriptedServer([ScriptedReply("THINK\nscale now adds one, so", finish_reason="length")]) as server:
        done = lingcode("review", "--hook", "--staged", "--model-url", server.base_url, cwd=repo)
    assert done.returncode == 0 and done.stdout == ""
    assert "cut off" in done.stderr


def test_outside_a_git_repository_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(["review", "--staged", "--root", str(tmp_path), "--model-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "not in a git repository" in err
