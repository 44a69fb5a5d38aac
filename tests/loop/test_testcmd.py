"""Test plans per build system (what is run, why, what it needs) and telling "cannot run" from "fails"."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from lingcode.config import LoopConfig
from lingcode.loop.checks import CheckResult
from lingcode.loop.testcmd import TestPlan, given_plan, missing_programs, plan_for, plan_tests
from lingcode.loop.testenv import cannot_run, preflight, setup_failed

CMAKE_TESTS = (
    "cmake_minimum_required(VERSION 3.16)\nproject(x)\nenable_testing()\nadd_test(NAME t COMMAND t)\n"
)
JEST = '{"scripts": {"test": "jest"}}'
WRAPPER = "distributionUrl=https\\://services.gradle.org/distributions/gradle-8.7-bin.zip\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize(
    ("files", "system", "command_part", "reason_part"),
    [
        ({"pytest.ini": ""}, "pytest", "pytest -q", "pytest configuration"),
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "pytest", "pytest -q", "pytest configuration"),
        ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm", "npm test", "test script"),
        ({"package.json": JEST, "pnpm-lock.yaml": ""}, "pnpm", "pnpm test", "pnpm-lock"),
        ({"package.json": JEST, "yarn.lock": ""}, "yarn", "yarn test", "yarn.lock"),
        ({"package.json": '{"packageManager": "pnpm@9", "scripts": {"test": "vitest"}}'}, "pnpm", "pnpm test",
         "packageManager"),
        ({"Cargo.toml": "[package]\nname = 'x'\n"}, "cargo", "cargo test", "Cargo.toml"),
        ({"Cargo.toml": "[workspace]\nmembers = ['a']\n"}, "cargo", "cargo test --workspace", "[workspace]"),
        ({"go.mod": "module x\n"}, "go", "go test ./...", "go.mod"),
        ({"pom.xml": "<project/>"}, "maven", "mvn -q -B test", "pom.xml"),
        ({"build.gradle.kts": ""}, "gradle", "gradle test", "Gradle build script"),
        ({"App.sln": ""}, "dotnet", "dotnet test", "App.sln"),
        ({"lib/Lib.csproj": "", "Lib.csproj": ""}, "dotnet", "dotnet test", "Lib.csproj"),
        ({"CMakeLists.txt": CMAKE_TESTS}, "cmake", "ctest --test-dir", "enable_testing"),
        ({"meson.build": "project('x', 'c')\n"}, "meson", "meson test -C", "meson.build"),
        ({"spec/a_spec.rb": "", "Gemfile": ""}, "rspec", "rspec", "rspec"),
        ({"Rakefile": "Rake::TestTask.new\n"}, "rake", "rake test", "Rakefile"),
        ({"Makefile": "build:\n\ttrue\ntest:\n\ttrue\n"}, "make", "make test", "`test` target"),
        ({"Makefile": "check:\n\ttrue\n"}, "make", "make check", "`check` target"),
    ],
)  # fmt: skip
def test_each_build_system_gets_a_plan_with_its_reason(
    tmp_path: Path, files: dict[str, str], system: str, command_part: str, reason_part: str
) -> None:
    _write(tmp_path, files)
    plan = plan_tests(tmp_path)
    assert plan is not None
    assert plan.system == system
    assert command_part in plan.command
    assert reason_part in plan.reason


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": ""},
        {"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'},
        {"CMakeLists.txt": "project(x)\nadd_executable(x main.c)\n"},  # no tests declared
        {"Makefile": "all:\n\ttrue\ntest_data := x\n"},  # a variable named test, not a target
    ],
)
def test_projects_without_tests_get_no_plan(tmp_path: Path, files: dict[str, str]) -> None:
    _write(tmp_path, files)
    assert plan_tests(tmp_path) is None


def test_cmake_configures_and_builds_outside_the_work_tree(tmp_path: Path) -> None:
    _write(tmp_path, {"CMakeLists.txt": CMAKE_TESTS})
    plan = plan_tests(tmp_path)
    assert plan is not None and plan.setup is not None
    assert "cmake -S . -B" in plan.setup and "--output-on-failure" in plan.command
    build = plan.setup.split("-B ", 1)[1].strip("'")
    assert not Path(build).is_relative_to(tmp_path) or ".lingcode-build" in build
    assert set(plan.needs) >= {"cmake", "ctest"}


def test_gradle_wrapper_that_would_download_prefers_the_system_gradle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, {"gradlew": "#!/bin/sh\n", "gradle/wrapper/gradle-wrapper.properties": WRAPPER})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(str(shutil.which("git")))  # a PATH with git and no system gradle
    monkeypatch.setenv("GRADLE_USER_HOME", str(tmp_path / "gradle-home"))
    monkeypatch.setenv("PATH", str(bin_dir))
    plan = plan_tests(tmp_path)
    assert plan is not None and plan.command == "./gradlew test"
    assert "will download gradle-8.7-bin" in plan.reason  # said, since it will likely fail offline
    fake = bin_dir / "gradle"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    plan = plan_tests(tmp_path)
    assert plan is not None and plan.command == "gradle test"
    assert "would download gradle-8.7-bin; using the system gradle" in plan.reason
    (tmp_path / "gradle-home" / "wrapper" / "dists" / "gradle-8.7-bin").mkdir(parents=True)
    plan = plan_tests(tmp_path)
    assert plan is not None and plan.command == "./gradlew test" and "cached" in plan.reason


def test_configured_command_and_no_test(tmp_path: Path) -> None:
    _write(tmp_path, {"pytest.ini": ""})
    assert plan_for(LoopConfig(no_test=True), tmp_path) is None
    given = plan_for(LoopConfig(test_cmd="make check"), tmp_path)
    assert given is not None and (given.command, given.needs, given.system) == (
        "make check",
        ("make",),
        "custom",
    )
    # a shell pipeline's programs are not guessed at: it is checked when it runs
    assert given_plan("FOO=1 make check && echo ok", "x").needs == ()


def test_preflight_names_the_missing_program_and_what_to_do(tmp_path: Path) -> None:
    plan = TestPlan("cargo test", "Cargo.toml", ("cargo",), system="cargo")
    assert missing_programs(plan, path="") == ["cargo"]
    message = preflight(plan, path="")
    assert message is not None
    assert "cargo not found on PATH" in message and "install Rust" in message and "--test-cmd" in message
    fake = tmp_path / "cargo"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert preflight(plan, path=str(tmp_path)) is None


def _failed(output: str, code: int = 1) -> CheckResult:
    return CheckResult("x", code, output, 0.1)


NPM = TestPlan("npm test", "package.json", ("npm",), system="npm")


@pytest.mark.parametrize(
    ("output", "code", "marker"),
    [
        ("sh: 1: jest: not found\n", 127, "`jest` was not found"),
        ("/bin/sh: ./gradlew: Permission denied\n", 126, "could not be executed"),
        ("[ERROR] Plugin org.apache.maven.plugins:maven-resources-plugin:2.6 or one of its dependencies "
         "could "
         "not be resolved: Could not transfer artifact", 1, "a download failed"),
        ("Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
         "Exception in thread \"main\" java.net.UnknownHostException: services.gradle.org\n", 1,
         "Gradle wrapper"),
        ("error: failed to download from `https://index.crates.io/config.json`\n"
         "failed to get `serde` as a dependency of package `x`\n", 101, "a download failed"),
        ("npm ERR! code ENOTFOUND\n", 1, "a download failed"),
        ("/usr/bin/python3: No module named pytest\n", 1, "No module named pytest"),
        ("/usr/bin/ld: cannot find -lgtest: No such file or directory\n", 2, "cannot find -lgtest"),
        ("error: linker `cc` not found\n", 101, "linker `cc` not found"),
    ],
)  # fmt: skip
def test_environment_failures_are_not_test_failures(output: str, code: int, marker: str) -> None:
    message = cannot_run(NPM, _failed(output, code))
    assert message is not None and marker in message
    assert "--test-cmd" in message and "--no-test" in message


@pytest.mark.parametrize(
    "output",
    [
        "FAILED tests/test_x.py::test_a - assert 1 == 2\n",
        "leap.cpp:3:5: error: expected ';' before 'return'\n",  # the code's fault: the model can fix it
        "error[E0425]: cannot find value `yeer` in this scope\n",
        "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal\n",
    ],
)
def test_failing_tests_and_compile_errors_go_back_to_the_model(output: str) -> None:
    assert cannot_run(NPM, _failed(output)) is None


def test_timeouts_and_passes_are_never_environment_failures() -> None:
    assert cannot_run(NPM, CheckResult("x", 127, "sh: jest: not found", 1.0, timed_out=True)) is None
    assert cannot_run(NPM, CheckResult("x", 0, "sh: jest: not found", 1.0)) is None


def test_a_failed_setup_says_which_step() -> None:
    plan = TestPlan("ctest", "CMakeLists.txt", ("cmake",), setup="cmake -S . -B b", system="cmake")
    output = "CMake Error at CMakeLists.txt:2 (project):\n  No CMAKE_CXX_COMPILER could be found.\n"
    message = setup_failed(plan, _failed(output))
    assert "`cmake -S . -B b` failed" in message and "CMake Error" in message and "install CMake" in message
