"""lingcode under the real pre-commit framework, in temporary repositories (no network: a `repo: local` hook
built from this repository's own `.pre-commit-hooks.yaml`)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from lingcode.model.scripted import ScriptedReply, ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.review.helpers import (
    BASE_A,
    CLEAN_REPLY,
    FINDING_REPLY,
    UNSTAGED_LINE,
    lingcode,
    run_git,
    stage_partially,
)

MANIFEST = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
PY_B = "def unrelated_b():\n    return 'b'\n"


def test_manifest_is_valid_for_pre_commit() -> None:
    (hook,) = load_manifest(str(MANIFEST))
    assert hook["id"] == "lingcode-review"
    assert hook["language"] == "python"
    assert hook["entry"] == "lingcode review --hook --staged"
    assert hook["pass_filenames"] is True


def local_config(files: str) -> str:
    """A .pre-commit-config.yaml running our manifest's hook with this Python (no install, no network)."""
    (hook,) = load_manifest(str(MANIFEST))
    entry = hook["entry"].replace("lingcode", f"{shlex.quote(sys.executable)} -m lingcode", 1)
    local: dict[str, Any] = {
        "id": hook["id"],
        "name": hook["name"],
        "entry": entry,
        "language": "system",  # `python` would pip-install lingcode into a fresh virtualenv
        "pass_filenames": hook["pass_filenames"],
        "require_serial": hook["require_serial"],
        "types": hook["types"],
        "files": files,
    }
    text: str = yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]})
    return text


@pytest.fixture
def repo(make_repo: GitRepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    root = make_repo({"a.py": BASE_A, "b.py": PY_B, ".pre-commit-config.yaml": local_config(r"^a\.py$")})
    done = run_git(root, "status")  # a fresh index before pre-commit reads it
    assert done.returncode == 0
    installed = pre_commit_cli(root, "install")
    assert installed.returncode == 0, installed.stderr
    return root


def pre_commit_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=root, capture_output=True, text=True, check=False
    )


def commit(root: Path, url: str, **env: str) -> Any:
    return run_git(root, "commit", "-q", "-m", "change", env={"LINGCODE_MODEL_BASE_URL": url, **env})


def stage_both(root: Path) -> None:
    """a.py partially staged (a staged and an unstaged change), b.py staged but not matched by `files`."""
    stage_partially(root)
    (root / "b.py").write_text(PY_B.replace("'b'", "'B_STAGED'"), encoding="utf-8")
    git(root, "add", "b.py")


def test_partially_staged_file_reviewed_as_staged_and_only_passed_files(repo: Path) -> None:
    stage_both(repo)
    with ScriptedServer([FINDING_REPLY]) as server:
        done = commit(repo, server.base_url)
    assert done.returncode != 0  # the error finding blocks the commit
    assert "scale returns x + 1" in done.stdout + done.stderr
    (request,) = server.requests
    prompt = str(request["messages"])
    assert "return x + 1" in prompt
    assert "UNSTAGED_MARKER" not in prompt  # review sees only staged lines
    assert "B_STAGED" not in prompt and "=== b.py" not in prompt  # pre-commit passed only a.py
    # pre-commit stashed and restored the unstaged line; lingcode touched nothing
    assert (repo / "a.py").read_text(encoding="utf-8").endswith(UNSTAGED_LINE)


def test_clean_review_lets_the_commit_through(repo: Path) -> None:
    stage_both(repo)
    with ScriptedServer([CLEAN_REPLY]) as server:
        done = commit(repo, server.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.requests) == 1
    assert git(repo, "show", "HEAD:b.py").endswith("return 'B_STAGED'\n")


@pytest.mark.parametrize(("fail_closed", "passes"), [("false", True), ("true", False)])
def test_server_down(repo: Path, fail_closed: str, passes: bool) -> None:
    stage_both(repo)
    done = commit(repo, "http://127.0.0.1:9/v1", LINGCODE_REVIEW_FAIL_CLOSED=fail_closed)
    assert (done.returncode == 0) is passes, done.stdout + done.stderr


def test_over_budget_fails_open(repo: Path) -> None:
    stage_both(repo)
    with ScriptedServer([ScriptedReply(FINDING_REPLY, delay_s=15)]) as server:
        done = commit(repo, server.base_url, LINGCODE_REVIEW_HOOK_BUDGET="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.requests) == 1


def test_lingcode_hook_chains_the_pre_commit_framework_hook(repo: Path) -> None:
    assert "running" in lingcode("hook", "install", cwd=repo).stdout
    stage_both(repo)
    with ScriptedServer([CLEAN_REPLY, CLEAN_REPLY]) as server:
        done = commit(repo, server.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.requests) == 2  # once through pre-commit's hook, once through lingcode's own
    assert lingcode("hook", "uninstall", cwd=repo).returncode == 0
    assert "pre-commit" in (repo / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
