"""End to end per language family: a stub + tests repository, `lingcode run` with no test flags, the scripted
server answering with the right fix (exit 0, passed) and then with a wrong one (exit 1, tests_failed).

The test command is detected, never given: what these prove is that a project of each kind is recognised and
its real toolchain runs. A family whose toolchain is not installed here is skipped, saying which program is
missing.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import valid_result
from tests.polyglot.projects import CPP, JAVA_MAKE, JAVASCRIPT, MESON, PYTHON, RUST, Exercise

pytestmark = pytest.mark.timeout(300)

NEEDS = {
    "javascript": ("node", "npm"),
    "rust": ("cargo",),
    "cpp": ("cmake", "ctest", "c++"),
    "c-meson": ("meson", "ninja", "cc"),
    "java": ("javac", "java", "make"),
    "python": (),
}


@pytest.fixture
def toolchain_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rust's toolchain lives under the real home, which the isolated test HOME hides: point at it. Tools
    installed into the test environment (the dev extra's meson and ninja) are on PATH, as they would be for
    a user who activated it."""
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    for name, folder in (("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")):
        if not os.environ.get(name) and (real_home / folder).is_dir():
            monkeypatch.setenv(name, str(real_home / folder))
    folders = [
        str(real_home / ".cargo" / "bin"),
        str(Path(sys.executable).parent),
        os.environ.get("PATH", ""),
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(folders))


@pytest.fixture(autouse=True)
def _tools_on_path(toolchain_home: None) -> None:
    """Every test here finds the toolchains the way a user's shell would."""


def _require(exercise: Exercise) -> None:
    missing = [p for p in NEEDS[exercise.name] if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{exercise.name} toolchain not installed here: {', '.join(missing)} not on PATH")


def _run(root: Path, url: str, *extra: str) -> list[str]:
    return ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "make the tests pass",
            "--root", str(root), "--model-url", url, "--output-format", "json", *extra]  # fmt: skip


def _result(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    captured = capsys.readouterr()
    data = valid_result(json.loads(captured.out.strip().splitlines()[-1]))
    return data, captured.err


EXERCISES = [JAVASCRIPT, RUST, CPP, MESON, JAVA_MAKE, PYTHON]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_the_fix_passes_with_the_detected_command(
    exercise: Exercise, make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str], toolchain_home: None
) -> None:
    _require(exercise)
    root = make_repo(exercise.files)
    with ScriptedServer([exercise.fix]) as server:
        code = run_cli(_run(root, server.base_url))
    result, err = _result(capsys)
    assert (code, result["status"]) == (0, "passed"), err
    assert result["tests_passed"] is True
    assert result["test_command"]["system"] == exercise.system
    assert f"tests: {result['test_command']['command']}" in err  # said on stderr, with its reason
    # the first check ran before the model was asked: its failure output is in the model's prompt
    assert len(server.requests) == 1


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_a_wrong_fix_ends_tests_failed_exit_1(
    exercise: Exercise, make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str], toolchain_home: None
) -> None:
    _require(exercise)
    root = make_repo(exercise.files)
    with ScriptedServer([exercise.wrong]) as server:
        code = run_cli(_run(root, server.base_url, "--max-iterations", "1"))
    result, err = _result(capsys)
    assert (code, result["status"], result["limit"]) == (1, "tests_failed", "iterations"), err
    assert result["tests_passed"] is False
    assert result["test_command"]["system"] == exercise.system


def test_a_cmake_build_folder_stays_out_of_the_work_tree(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _require(CPP)
    root = make_repo(CPP.files)
    with ScriptedServer([CPP.fix]) as server:
        assert run_cli(_run(root, server.base_url)) == 0
    result, _ = _result(capsys)
    assert result["files_changed"] == ["leap.cpp"]
    assert not any(p.name == "CMakeCache.txt" for p in root.rglob("CMakeCache.txt") if ".git" not in p.parts)


def test_a_cmake_configure_failure_ends_test_env_error_before_the_model_is_asked(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _require(CPP)
    lists = CPP.files["CMakeLists.txt"]
    assert isinstance(lists, str)
    broken = lists.replace(
        "enable_testing()", "find_package(NoSuchLibraryAnywhere REQUIRED)\nenable_testing()"
    )
    root = make_repo({**CPP.files, "CMakeLists.txt": broken})
    with ScriptedServer([CPP.fix]) as server:
        code = run_cli(_run(root, server.base_url))
    result, err = _result(capsys)
    assert (code, result["status"]) == (6, "test_env_error"), err
    assert "cmake -S . -B" in result["message"] and "install CMake" in result["message"]
    assert server.requests == []
