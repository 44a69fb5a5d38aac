"""Tell "the tests could not run" apart from "the tests fail".

A missing program, a toolchain or dependency download that fails, or a configure step that breaks is the
environment's problem: the model cannot fix it by editing code, and asking it to only burns the edit budget.
These checks read the exit status (126/127 are the shell's "cannot execute" and "not found") and the output's
well-known markers of a failed download, a missing system library or linker, or a missing test runner. A
compile error in the project's own code is not among them: the code may be what is wrong (it is often what the
user asked to fix), so it goes back to the model like any failing test.
"""

from __future__ import annotations

import re

from lingcode.loop.checks import CheckResult
from lingcode.loop.testcmd import TestPlan, missing_programs

__all__ = ["cannot_run", "preflight", "setup_failed"]

# "sh: 1: jest: not found", "bash: jest: command not found", "zsh: command not found: jest"
_NOT_FOUND = re.compile(r"([\w./+-]+): (?:command )?not found|command not found: ([\w./+-]+)")
_DOWNLOAD_FAILED = re.compile(
    "|".join(
        (
            r"Could not (?:transfer|resolve) artifact",
            r"Could not resolve dependencies for project",
            r"Non-resolvable parent POM",
            r"Plugin \S+ or one of its dependencies could not be resolved",
            r"Could not resolve all (?:files|dependencies|artifacts)",
            r"failed to (?:download|fetch|get) .{0,80}(?:registry|index|as a dependency)",
            r"Couldn't resolve host name",
            r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN)",
            r"npm ERR! code E(?:NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET)",
            r"dial tcp: lookup \S+",
            r"error NU1(?:101|102|301)",
            r"Temporary failure in name resolution",
            r"Name or service not known",
            r"Network is unreachable",
        )
    )
)
_WRAPPER_DOWNLOAD = "Downloading https://services.gradle.org"
_JAVA_NET = re.compile(r"java\.net\.\w+Exception|javax\.net\.ssl\.\w+Exception")
# a system library or the linker itself missing: no edit to the project's code installs them
_MISSING_TOOL = re.compile(r"\bld(?:\.\w+)?: cannot find -l[\w+.-]+|error: linker `[^`]+` not found")
_NO_RUNNER = re.compile(r"No module named (?:pytest|tox|nox)\b|Cannot find module '(?:jest|mocha|vitest)")

_INSTALL_HINT = {
    "cmake": "install CMake (cmake, ctest) and a C/C++ compiler",
    "meson": "install Meson and Ninja (pip install meson ninja)",
    "npm": "install Node.js, then run the package manager's install (npm ci) so the test runner is there",
    "pnpm": "install pnpm and run pnpm install",
    "yarn": "install Yarn and run yarn install",
    "bun": "install Bun and run bun install",
    "cargo": "install Rust (cargo)",
    "go": "install Go",
    "maven": "install Maven, or make its dependencies available offline (mvn -o with a filled ~/.m2)",
    "gradle": "install Gradle (the wrapper's download failed), or make the wrapper's distribution available",
    "dotnet": "install the .NET SDK",
    "pytest": "install pytest in the project's environment (pip install pytest)",
    "rspec": "install Ruby and the bundle (bundle install)",
    "rake": "install Ruby and the bundle (bundle install)",
}


def _hint(plan: TestPlan) -> str:
    what = _INSTALL_HINT.get(plan.system, "install what it needs")
    return f"{what}; or give --test-cmd CMD, or --no-test to apply edits untested"


def preflight(plan: TestPlan, path: str | None = None) -> str | None:
    """Why the plan cannot run before it is tried (a program it needs is missing); None when it may."""
    missing = missing_programs(plan, path)
    if not missing:
        return None
    names = ", ".join(missing)
    return f"the tests cannot run: {names} not found on PATH for `{plan.command}` ({_hint(plan)})"


def setup_failed(plan: TestPlan, result: CheckResult) -> str:
    """The message for a setup (configure) step that failed."""
    tail = _last_line(result.output)
    return f"the tests cannot run: `{plan.setup}` failed ({tail}); {_hint(plan)}"


def cannot_run(plan: TestPlan, result: CheckResult) -> str | None:
    """Why a failed check is the environment's problem rather than failing tests; None when it is not."""
    if result.passed or result.timed_out or result.cancelled:
        return None
    output = result.output
    if result.returncode in (126, 127):
        found = _NOT_FOUND.search(output)
        what = (
            f"`{found.group(1) or found.group(2)}` was not found"
            if found
            else "a program it runs could not be executed"
        )
        return f"the tests cannot run: {what} (exit {result.returncode}); {_hint(plan)}"
    if _WRAPPER_DOWNLOAD in output and _JAVA_NET.search(output):
        return f"the tests cannot run: the Gradle wrapper could not download Gradle; {_hint(plan)}"
    download = _DOWNLOAD_FAILED.search(output)
    if download:
        return f"the tests cannot run: a download failed ({download.group(0).strip()[:120]}); {_hint(plan)}"
    tool = _MISSING_TOOL.search(output)
    if tool:
        return f"the tests cannot run: {tool.group(0)}; {_hint(plan)}"
    runner = _NO_RUNNER.search(output)
    if runner:
        return f"the tests cannot run: {runner.group(0)}; {_hint(plan)}"
    return None


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    chosen = (errors or lines or ["no output"])[-1]
    return chosen[:160]
