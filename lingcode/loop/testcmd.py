"""Find a project's test command from its build files, and say why that one was chosen.

Each build system is one small detector, tried in order; the first that recognises the project wins. A plan
names the programs it needs, so a missing toolchain is reported before any model call, and an optional setup
step (CMake's or Meson's configure) whose failure means the tests cannot run at all, not that they fail.
Generated build folders go under the git directory, where they are never part of the work tree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lingcode.errors import UsageError

if TYPE_CHECKING:
    from lingcode.config import LoopConfig

__all__ = ["TestPlan", "detect_test_command", "given_plan", "missing_programs", "plan_for", "plan_tests"]


@dataclass(frozen=True)
class TestPlan:
    """How to run a project's tests: the command, why it was chosen, and what it needs."""

    __test__ = False  # not a pytest test class, whatever its name

    command: str
    reason: str
    needs: tuple[str, ...] = ()
    """Programs that must be on PATH for the command to run at all."""
    setup: str | None = None
    """Run once before the first check (configure a build folder); its failure means the tests cannot run."""
    system: str = "custom"
    """The build system or runner it was found for (pytest, npm, cmake, ...)."""

    def to_json(self) -> dict[str, object]:
        """The plan as the JSON result shows it."""
        return {"command": self.command, "reason": self.reason, "system": self.system, "setup": self.setup}


Detector = Callable[[Path, Path], "TestPlan | None"]


def plan_tests(root: Path) -> TestPlan | None:
    """The test plan for the project at `root`; None when no build system with tests is recognised."""
    build = _build_root(root)
    for detector in _DETECTORS:
        plan = detector(root, build)
        if plan is not None:
            return plan
    return None


def plan_for(loop: LoopConfig, root: Path) -> TestPlan | None:
    """The plan a run uses: none with no_test, the configured command, else the detected one."""
    if loop.no_test:
        return None
    if loop.test_cmd:
        return given_plan(loop.test_cmd, "--test-cmd / loop.test_cmd")
    return plan_tests(root)


def detect_test_command(root: Path) -> str | None:
    """The detected test command alone (see plan_tests)."""
    plan = plan_tests(root)
    return plan.command if plan is not None else None


def given_plan(command: str, origin: str) -> TestPlan:
    """A plan for a command the user gave; a simple command's program is checked before it runs."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    simple = words and not any(c in command for c in ";&|<>`$()") and "=" not in words[0]
    needs = (words[0],) if simple else ()
    return TestPlan(command, f"given by {origin}", needs=needs, system="custom")


def missing_programs(plan: TestPlan, path: str | None = None) -> list[str]:
    """The programs `plan` needs that are not on PATH (relative paths count from the project root)."""
    search = os.environ.get("PATH", "") if path is None else path
    return [p for p in plan.needs if "/" not in p and shutil.which(p, path=search) is None]


def _build_root(root: Path) -> Path:
    from lingcode.loop.gitcmd import git_dir

    try:
        return git_dir(root) / "lingcode" / "build"
    except UsageError:
        return root / ".lingcode-build"


# -- Python --------------------------------------------------------------------------------------------------


def _python(root: Path, build: Path) -> TestPlan | None:
    has_tests = _has_python_tests(root)
    configured = _pytest_configured(root)
    if not (has_tests or configured):
        return None
    for runner, config in (("tox", "tox.ini"), ("nox", "noxfile.py")):
        if not configured and (root / config).is_file() and shutil.which(runner):
            return TestPlan(f"{runner} -q", f"{config} and no pytest configuration", (runner,), system=runner)
    runner, where, has_pytest = _pytest_runner(root)
    why = "pytest configuration" if configured else "test_*.py files"
    if configured or has_pytest:
        return TestPlan(f"{runner} -q", f"{why}; {where}", system="pytest")
    start = "tests" if (root / "tests").is_dir() else "."
    python = runner.removesuffix(" -m pytest")  # pytest on PATH always has pytest: never "pytest" here
    return TestPlan(
        f"{python} -m unittest discover -s {start} -t .",
        f"{why} and no pytest installed; {where}",
        system="unittest",
    )


def _pytest_configured(root: Path) -> bool:
    if any((root / m).is_file() for m in ("pytest.ini", "conftest.py")):
        return True
    for name, marker in (
        ("pyproject.toml", "pytest"),
        ("tox.ini", "[pytest]"),
        ("setup.cfg", "[tool:pytest]"),
    ):
        path = root / name
        if path.is_file() and marker in path.read_text(errors="replace"):
            return True
    return False


def _has_python_tests(root: Path) -> bool:
    tests = root / "tests"
    if tests.is_dir() and any(tests.glob("test_*.py")):
        return True
    return any(root.glob("test_*.py")) or any(root.glob("*_test.py"))


def _pytest_runner(root: Path) -> tuple[str, str, bool]:
    """(pytest command, where it came from, whether pytest is installed there): the project's own
    environment has its dependencies; then a pytest on PATH; then the interpreter lingcode runs on."""
    for venv in (".venv", "venv"):
        python = root / venv / "bin" / "python"
        if python.is_file():
            installed = any((root / venv).glob("lib/python3*/site-packages/pytest"))
            return f"{shlex.quote(str(python))} -m pytest", f"the project's {venv}", installed
    if shutil.which("pytest"):
        return "pytest", "pytest on PATH", True
    own = sys.executable or "python3"
    installed = importlib.util.find_spec("pytest") is not None
    return f"{shlex.quote(own)} -m pytest", "lingcode's Python", installed


# -- JavaScript ----------------------------------------------------------------------------------------------

_LOCK_FILES = (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lockb", "bun"), ("bun.lock", "bun"))
_JS_COMMANDS = {"npm": "npm test --silent", "pnpm": "pnpm test", "yarn": "yarn test", "bun": "bun run test"}


def _javascript(root: Path, build: Path) -> TestPlan | None:
    package = root / "package.json"
    if not package.is_file():
        return None
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    if not isinstance(test, str) or "no test specified" in test:
        return None
    manager, why = "npm", "package.json's test script"
    declared = data.get("packageManager")
    if isinstance(declared, str) and declared.split("@")[0] in _JS_COMMANDS:
        manager, why = declared.split("@")[0], f"{why}; packageManager {declared}"
    else:
        for lock, name in _LOCK_FILES:
            if (root / lock).is_file():
                manager, why = name, f"{why}; {lock}"
                break
    return TestPlan(_JS_COMMANDS[manager], why, (manager,), system=manager)


# -- compiled languages --------------------------------------------------------------------------------------


def _cargo(root: Path, build: Path) -> TestPlan | None:
    manifest = root / "Cargo.toml"
    if not manifest.is_file():
        return None
    if re.search(r"^\[workspace\]", manifest.read_text(errors="replace"), re.MULTILINE):
        return TestPlan("cargo test --workspace", "Cargo.toml with [workspace]", ("cargo",), system="cargo")
    return TestPlan("cargo test", "Cargo.toml", ("cargo",), system="cargo")


def _go(root: Path, build: Path) -> TestPlan | None:
    if (root / "go.mod").is_file():
        return TestPlan("go test ./...", "go.mod", ("go",), system="go")
    return None


def _maven(root: Path, build: Path) -> TestPlan | None:
    if not (root / "pom.xml").is_file():
        return None
    if shutil.which("mvn") or not (root / "mvnw").is_file():
        return TestPlan("mvn -q -B test", "pom.xml", ("mvn",), system="maven")
    return TestPlan("./mvnw -q -B test", "pom.xml and the Maven wrapper (no mvn on PATH)", system="maven")


def _gradle(root: Path, build: Path) -> TestPlan | None:
    scripts = ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts")
    wrapper = (root / "gradlew").is_file()
    if not wrapper and not any((root / s).is_file() for s in scripts):
        return None
    if wrapper:
        dist = _wrapper_distribution(root)
        if dist is None or _wrapper_cached(dist):
            return TestPlan("./gradlew test", "the Gradle wrapper (its Gradle is cached)", system="gradle")
        if shutil.which("gradle"):
            why = f"the wrapper would download {dist}; using the system gradle instead"
            return TestPlan("gradle test", why, ("gradle",), system="gradle")
        why = f"the Gradle wrapper; it will download {dist} (no system gradle to use instead)"
        return TestPlan("./gradlew test", why, system="gradle")
    return TestPlan("gradle test", "a Gradle build script", ("gradle",), system="gradle")


def _wrapper_distribution(root: Path) -> str | None:
    properties = root / "gradle" / "wrapper" / "gradle-wrapper.properties"
    try:
        text = properties.read_text(errors="replace")
    except OSError:
        return None
    found = re.search(r"^distributionUrl\s*=\s*(\S+)", text, re.MULTILINE)
    if found is None:
        return None
    return found.group(1).rsplit("/", 1)[-1].removesuffix(".zip")


def _wrapper_cached(distribution: str) -> bool:
    home = Path(os.environ.get("GRADLE_USER_HOME") or Path.home() / ".gradle")
    return (home / "wrapper" / "dists" / distribution).is_dir()


def _dotnet(root: Path, build: Path) -> TestPlan | None:
    for pattern in ("*.sln", "*.slnx", "*.csproj", "*.fsproj", "*.vbproj"):
        found = sorted(root.glob(pattern))
        if found:
            return TestPlan("dotnet test", found[0].name, ("dotnet",), system="dotnet")
    return None


_CTEST = re.compile(r"^\s*(enable_testing|add_test|include\s*\(\s*CTest|gtest_discover_tests)\b", re.I | re.M)


def _cmake(root: Path, build: Path) -> TestPlan | None:
    lists = root / "CMakeLists.txt"
    if not lists.is_file() or not _CTEST.search(lists.read_text(errors="replace")):
        return None
    folder = shlex.quote(str(build / "cmake"))
    return TestPlan(
        f"cmake --build {folder} && ctest --test-dir {folder} --output-on-failure --no-tests=error",
        "CMakeLists.txt with tests (enable_testing/add_test); built outside the work tree",
        ("cmake", "ctest"),
        setup=f"cmake -S . -B {folder}",
        system="cmake",
    )


def _meson(root: Path, build: Path) -> TestPlan | None:
    if not (root / "meson.build").is_file():
        return None
    folder = shlex.quote(str(build / "meson"))
    return TestPlan(
        f"meson test -C {folder} --print-errorlogs",
        "meson.build; built outside the work tree",
        ("meson", "ninja"),
        setup=f"test -f {folder}/build.ninja || meson setup {folder}",
        system="meson",
    )


# -- Ruby and Make -------------------------------------------------------------------------------------------


def _ruby(root: Path, build: Path) -> TestPlan | None:
    bundled = (root / "Gemfile").is_file() and shutil.which("bundle") is not None
    prefix = "bundle exec " if bundled else ""
    specs = (root / "spec").is_dir() and any((root / "spec").rglob("*_spec.rb"))
    if (root / ".rspec").is_file() or specs:
        needs = ("bundle" if bundled else "rspec",)
        return TestPlan(f"{prefix}rspec", "rspec specs", needs, system="rspec")
    rakefile = root / "Rakefile"
    if rakefile.is_file() and _RAKE_TEST.search(rakefile.read_text(errors="replace")):
        needs = ("bundle" if bundled else "rake",)
        return TestPlan(f"{prefix}rake test", "Rakefile test task", needs, system="rake")
    return None


_RAKE_TEST = re.compile(r"TestTask|task\s*\(?\s*:?test\b")
_MAKE_TARGET = re.compile(r"^(test|check)\s*:(?!=)", re.MULTILINE)


def _make(root: Path, build: Path) -> TestPlan | None:
    for name in ("GNUmakefile", "makefile", "Makefile"):
        path = root / name
        if path.is_file():
            found = _MAKE_TARGET.search(path.read_text(errors="replace"))
            if found:
                target = found.group(1)
                return TestPlan(f"make {target}", f"{name} has a `{target}` target", ("make",), system="make")
    return None


_DETECTORS: tuple[Detector, ...] = (
    _python,
    _javascript,
    _cargo,
    _go,
    _maven,
    _gradle,
    _dotnet,
    _cmake,
    _meson,
    _ruby,
    _make,
)
