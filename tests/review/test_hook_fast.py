"""The hook's command line runs without click, and does exactly what the click command does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.commands.hook_fast import HookCall, parse
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.review.helpers import BASE_A, CLEAN_REPLY, FINDING_REPLY, lingcode, prompt_of, stage_partially


@pytest.mark.parametrize(
    ("args", "call"),
    [
        (["review", "--hook", "--staged"], HookCall()),
        (["review", "--staged", "--hook", "a.py", "b c.py"], HookCall(("a.py", "b c.py"))),
        (["review", "--hook", "--staged", "--fail-closed", "a.py"], HookCall(("a.py",), True)),
        (["review", "--hook", "--fail-closed", "--staged", "--fail-open"], HookCall((), False)),
        (["review", "--staged"], None),  # not the hook
        (["review", "--hook"], None),  # review rejects this; click reports it
        (["review", "--hook", "--staged", "--format", "json"], None),
        (["review", "--hook", "--staged", "--", "-odd.py"], None),
        (["-c", "review.fail_on=never", "review", "--hook", "--staged"], None),
        (["hook", "--hook", "--staged"], None),
        ([], None),
    ],
)
def test_only_the_hooks_own_command_lines_skip_click(args: list[str], call: HookCall | None) -> None:
    assert parse(args) == call


@pytest.fixture
def repo(make_repo: GitRepoFactory) -> Path:
    root = make_repo({"a.py": BASE_A, "b.py": "from a import total\n\nprint(total())\n"})
    stage_partially(root)
    return root


@pytest.mark.parametrize("reply", [FINDING_REPLY, CLEAN_REPLY])
def test_fast_path_and_click_give_the_same_review(repo: Path, reply: str) -> None:
    runs = []
    # `--format text` is the default, so the second command line means the same but goes through click
    for extra in ([], ["--format", "text"]):
        with ScriptedServer([reply]) as server:
            done = lingcode(
                "review",
                "--hook",
                "--staged",
                "a.py",
                *extra,
                cwd=repo,
                env={"LINGCODE_MODEL_BASE_URL": server.base_url},
            )
        runs.append((done.returncode, done.stdout, done.stderr, prompt_of(server.requests[0])))
    assert runs[0] == runs[1]


def test_fast_path_fails_open_and_closed_like_click(repo: Path) -> None:
    env = {"LINGCODE_MODEL_BASE_URL": "http://127.0.0.1:9/v1"}  # nothing listens on the discard port
    for flag, code in (("--fail-open", 0), ("--fail-closed", 3)):
        fast = lingcode("review", "--hook", "--staged", flag, cwd=repo, env=env)
        slow = lingcode("review", "--hook", "--staged", flag, "--format", "text", cwd=repo, env=env)
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
        assert fast.returncode == code and fast.stderr.count("\n") == 1


def test_bad_config_on_the_fast_path_is_one_line_and_exit_2(repo: Path, isolated_home: Path) -> None:
    config = isolated_home / ".config" / "lingcode" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[review]\nhook_budget = -1\n", encoding="utf-8")
    fast = lingcode("review", "--hook", "--staged", cwd=repo)
    slow = lingcode("review", "--hook", "--staged", "--format", "text", cwd=repo)
    assert (fast.returncode, fast.stderr) == (slow.returncode, slow.stderr) == (2, fast.stderr)
    assert fast.stderr.count("\n") == 1 and "review.hook_budget" in fast.stderr


def test_the_hook_loads_neither_click_nor_pydantic_once_its_config_is_cached(repo: Path) -> None:
    program = (
        "import sys; from lingcode.cli import run_cli; "
        "code = run_cli(['review', '--hook', '--staged']); "
        "print(code, sorted(m for m in ('click', 'pydantic', 'lingcode.events') if m in sys.modules))"
    )
    with ScriptedServer([CLEAN_REPLY, CLEAN_REPLY]) as server:
        env = {"LINGCODE_MODEL_BASE_URL": server.base_url}
        first, second = (
            subprocess.run(
                [sys.executable, "-c", program],
                cwd=repo,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for _ in range(2)
        )
    assert first == "0 ['pydantic']"  # the first run validates the configuration
    assert second == "0 []"
