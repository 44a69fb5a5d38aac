"""What `lingcode run` does when the tests cannot run, are absent, or still fail: its own status and exit
code, and never a model turn spent on the environment."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.events import Usage
from lingcode.loop.outcomes import RunEnded, RunResult
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import CALC, FILES, FIX, QUICK, WRONG_FIX, valid_result

UNTESTED = {"calc.py": CALC, "notes.txt": "nothing to test here\n"}  # no build system, no test files


def _run(root: Path, url: str, *extra: str, settings: tuple[str, ...] = ()) -> list[str]:
    return ["-c", "model.max_retries=0", "-c", "model.constrain=false", *settings, "run", "fix average",
            "--root", str(root), "--model-url", url, "--output-format", "json", *extra]  # fmt: skip


def _result(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    captured = capsys.readouterr()
    data = valid_result(json.loads(captured.out.strip().splitlines()[-1]))
    return data, captured.err


def test_no_test_command_is_never_exit_0(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(UNTESTED)
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url))
    result, err = _result(capsys)
    assert (code, result["status"]) == (6, "no_test_command"), err
    assert "--test-cmd" in result["message"] and "--no-test" in result["message"]
    assert server.requests == []  # decided before any model call
    assert git(root, "status", "--porcelain") == ""


def test_no_test_applies_untested_and_says_so(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(UNTESTED)
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url, "--no-test"))
    result, _ = _result(capsys)
    assert (code, result["status"], result["tests_passed"]) == (0, "applied", None)
    assert result["test_command"] is None and "not tested" in result["message"]
    assert "len(values)\n" in (root / "calc.py").read_text()


def test_no_test_and_test_cmd_together_is_a_usage_error(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    assert run_cli(_run(root, "http://127.0.0.1:9/v1", "--no-test", "--test-cmd", QUICK)) == 2
    assert "cannot be used together" in capsys.readouterr().err


def test_a_missing_program_ends_the_run_before_the_model_is_asked(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url, "--test-cmd", "no-such-runner-xyz --all"))
    result, err = _result(capsys)
    assert (code, result["status"]) == (6, "test_env_error")
    assert "no-such-runner-xyz not found on PATH" in result["message"]
    assert "tests: no-such-runner-xyz --all (given by --test-cmd" in err
    assert server.requests == []
    assert git(root, "status", "--porcelain") == ""


def test_a_runner_that_is_not_found_at_run_time_is_not_a_test_failure(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:  # the shell is found; the runner it starts is not (exit 127)
        code = run_cli(_run(root, server.base_url, "--test-cmd", "sh -c 'no-such-runner-xyz'"))
    result, err = _result(capsys)
    assert (code, result["status"]) == (6, "test_env_error")
    assert "`no-such-runner-xyz` was not found" in result["message"], err
    assert server.requests == []  # the failing output never became a model turn
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("extra", "code", "status", "limit"),
    [
        ((("--max-iterations", "1"), ()), 1, "tests_failed", "iterations"),
        (((), ("-c", "loop.max_total_tokens=1")), 5, "limit_tokens", "tokens"),
    ],
)
def test_which_limit_ended_the_run(
    make_repo: GitRepoFactory,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[tuple[str, ...], tuple[str, ...]],
    code: int,
    status: str,
    limit: str,
) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX] * 3) as server:
        got = run_cli(_run(root, server.base_url, "--test-cmd", QUICK, *extra[0], settings=extra[1]))
    result, err = _result(capsys)
    assert (got, result["status"], result["limit"]) == (code, status, limit), err


def test_a_passing_run_names_no_limit(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        assert run_cli(_run(root, server.base_url, "--test-cmd", QUICK)) == 0
    result, _ = _result(capsys)
    assert result["limit"] is None
    assert result["test_command"]["reason"] == "given by --test-cmd / loop.test_cmd"


MAVEN_FILES = {
    "src/main/java/Leap.java": "public class Leap { static boolean isLeap(int y) { return y % 4 == 0; } }\n",
    "src/test/java/LeapTest.java": "public class LeapTest {}\n",
}


def test_a_maven_project_whose_plugins_cannot_download_ends_test_env_error(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.polyglot.projects import MAVEN_POM

    if shutil.which("mvn") is None:
        pytest.skip("Maven is not installed here")
    # an empty local repository and a mirror nobody answers on: Maven's plugins must be downloaded, and cannot
    # be (.mvn/maven.config passes the settings to the detected `mvn` command)
    settings = tmp_path / "settings.xml"
    settings.write_text(
        "<settings><localRepository>" + str(tmp_path / "m2") + "</localRepository>"
        "<mirrors><mirror><id>none</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:9/maven</url></mirror>"
        "</mirrors></settings>"
    )
    root = make_repo({"pom.xml": MAVEN_POM, ".mvn/maven.config": f"-s\n{settings}\n", **MAVEN_FILES})
    with ScriptedServer([FIX]) as server:
        code = run_cli(_run(root, server.base_url))
    result, err = _result(capsys)
    assert (code, result["status"]) == (6, "test_env_error"), err
    assert result["test_command"]["system"] == "maven"
    assert "a download failed" in result["message"] and "install Maven" in result["message"]
    assert server.requests == []


def _endings() -> list[type[RunEnded]]:
    found: list[type[RunEnded]] = []
    todo = [RunEnded]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


@pytest.mark.parametrize("ending", _endings(), ids=lambda e: e.status)
def test_every_ending_fits_the_documented_schema(ending: type[RunEnded]) -> None:
    result = RunResult(ending.status, int(ending.exit_code), "m", 1, False, (), Usage(), limit=ending.limit)
    valid_result(result.to_json())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert (
        f"| {int(ending.exit_code)} |" in readme
    )  # every exit code run can end with is in the README's table
