"""`lingcode hook install|uninstall|status` and real `git commit`s through the installed hook."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.review.helpers import BASE_A, CLEAN_REPLY, FINDING_REPLY, lingcode, run_git, stage_partially

OLD_HOOK = "#!/bin/sh\necho old hook ran >&2\ntouch old-hook-ran\nexit ${OLD_HOOK_EXIT:-0}\n"


@pytest.fixture
def repo(make_repo: GitRepoFactory) -> Path:
    return make_repo({"a.py": BASE_A})


def listing(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in a directory with its bytes and permission bits."""
    if not directory.exists():
        return {}
    return {p.name: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in directory.iterdir()}


def commit(repo: Path, url: str | None, **env: str) -> tuple[int, str]:
    """Run `git commit` (which runs the hook) and return its exit code and stderr."""
    config = {"LINGCODE_MODEL_BASE_URL": url} if url else {}
    done = run_git(repo, "commit", "-q", "-m", "change", env={**config, **env})
    return done.returncode, done.stderr


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_install_status_uninstall_leave_nothing_behind(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    before = listing(hooks)
    assert "not installed" in lingcode("hook", "status", cwd=repo).stdout
    assert lingcode("hook", "install", cwd=repo).returncode == 0
    assert "installed:" in lingcode("hook", "status", cwd=repo).stdout
    assert stat.S_IMODE((hooks / "pre-commit").stat().st_mode) & 0o111
    assert lingcode("hook", "install", cwd=repo).returncode == 0  # installing twice is harmless
    assert lingcode("hook", "uninstall", cwd=repo).returncode == 0
    assert listing(hooks) == before


def test_real_commit_blocked_by_an_error_finding(repo: Path) -> None:
    lingcode("hook", "install", cwd=repo)
    stage_partially(repo)
    before = head(repo)
    with ScriptedServer([FINDING_REPLY]) as server:
        code, stderr = commit(repo, server.base_url)
    assert code != 0 and head(repo) == before, stderr
    assert "UNSTAGED_MARKER" not in str(server.requests[0]["messages"])
    with ScriptedServer([CLEAN_REPLY]) as server:
        code, stderr = commit(repo, server.base_url)
    assert code == 0 and head(repo) != before
    assert stderr == ""  # quiet when there is nothing to say


def test_real_commit_with_server_down_fails_open(repo: Path) -> None:
    lingcode("hook", "install", cwd=repo)
    stage_partially(repo)
    code, stderr = commit(repo, "http://127.0.0.1:9/v1")
    assert code == 0
    assert stderr.startswith("lingcode: review skipped:")
    (repo / "a.py").write_text(BASE_A + "# more\n", encoding="utf-8")
    git(repo, "add", "a.py")
    before = head(repo)
    code, stderr = commit(repo, "http://127.0.0.1:9/v1", LINGCODE_REVIEW_FAIL_CLOSED="true")
    assert code != 0 and head(repo) == before  # blocked when failing closed
    assert "blocked" in stderr


def test_existing_hook_is_chained_and_restored(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text(OLD_HOOK, encoding="utf-8")
    (hooks / "pre-commit").chmod(0o750)
    before = listing(hooks)
    assert "running" in lingcode("hook", "install", cwd=repo).stdout
    stage_partially(repo)
    with ScriptedServer([CLEAN_REPLY]) as server:
        code, stderr = commit(repo, server.base_url)
    assert code == 0 and "old hook ran" in stderr
    assert (repo / "old-hook-ran").exists() and len(server.requests) == 1
    (repo / "old-hook-ran").unlink()
    assert lingcode("hook", "uninstall", cwd=repo).returncode == 0
    assert listing(hooks) == before  # the old hook's bytes and mode, under its own name


def test_failing_chained_hook_stops_the_commit_before_the_review(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text(OLD_HOOK, encoding="utf-8")
    (hooks / "pre-commit").chmod(0o755)
    lingcode("hook", "install", cwd=repo)
    stage_partially(repo)
    before = head(repo)
    with ScriptedServer([CLEAN_REPLY]) as server:
        code, stderr = commit(repo, server.base_url, OLD_HOOK_EXIT="7")
    assert code != 0 and head(repo) == before
    assert "old hook ran" in stderr and server.requests == []


def test_core_hooks_path_is_respected(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "tools/hooks")
    assert lingcode("hook", "install", cwd=repo).returncode == 0
    assert (repo / "tools" / "hooks" / "pre-commit").is_file()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    stage_partially(repo)
    with ScriptedServer([CLEAN_REPLY]) as server:
        code, _ = commit(repo, server.base_url)
    assert code == 0 and len(server.requests) == 1
    lingcode("hook", "uninstall", cwd=repo)
    assert not (repo / "tools").exists()  # install created the directory, so uninstall removes it


def test_uninstall_leaves_a_foreign_hook_alone(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(OLD_HOOK, encoding="utf-8")
    done = lingcode("hook", "uninstall", cwd=repo)
    assert done.returncode == 0
    assert "another tool's hook" in done.stdout
    assert hook.read_text(encoding="utf-8") == OLD_HOOK


def test_install_refuses_to_overwrite_a_leftover_chained_hook(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text(OLD_HOOK, encoding="utf-8")
    (hooks / "pre-commit.lingcode-chained").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    before = listing(hooks)
    done = lingcode("hook", "install", cwd=repo)
    assert done.returncode == 2 and "already exists" in done.stderr
    assert listing(hooks) == before


def test_commit_all_reviews_what_git_is_about_to_commit(repo: Path) -> None:
    # `git commit -a` stages into a temporary index named by GIT_INDEX_FILE; the hook must read that one
    lingcode("hook", "install", cwd=repo)
    (repo / "a.py").write_text(BASE_A.replace("return x\n", "return x * 1000\n", 1), encoding="utf-8")
    with ScriptedServer([CLEAN_REPLY]) as server:
        done = run_git(
            repo, "commit", "-q", "-a", "-m", "all", env={"LINGCODE_MODEL_BASE_URL": server.base_url}
        )
    assert done.returncode == 0, done.stderr
    assert "return x * 1000" in str(server.requests[0]["messages"])
