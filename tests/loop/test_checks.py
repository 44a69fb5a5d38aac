"""The check runner: command detection, narrowing to related tests, secret scrubbing, caps and timeouts."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from lingcode.loop.checks import (
    clean_environment,
    detect_test_command,
    related_command,
    run_check,
    trim_output,
)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pytest.ini": ""}, "pytest -q"),
        ({"tests/test_x.py": ""}, "pytest -q"),
        ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm test --silent"),
        ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'}, None),
        ({"go.mod": "module x"}, "go test ./..."),
        ({"Cargo.toml": ""}, "cargo test"),
        ({"Makefile": "build:\n\ttrue\ntest:\n\ttrue\n"}, "make test"),
        ({"README.md": ""}, None),
    ],
)
def test_detect_test_command(tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = detect_test_command(tmp_path)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.endswith(expected)


def test_project_venv_is_preferred(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    assert detect_test_command(tmp_path) == f"{python} -m pytest -q"


def test_related_command_only_narrows_plain_pytest() -> None:
    assert (
        related_command("python -m pytest -q", ["tests/test_a.py"]) == "python -m pytest -q tests/test_a.py"
    )
    assert related_command("pytest", ["t/test a.py"]) == "pytest 't/test a.py'"
    assert related_command("npm test", ["a.test.js"]) is None
    assert related_command("pytest && echo done", ["t.py"]) is None
    assert related_command("/tmp/pytest-of-me/run.sh", ["t.py"]) is None
    assert related_command("pytest", []) is None


def test_secret_looking_variables_are_removed() -> None:
    env = clean_environment(
        {"PATH": "/bin", "OPENAI_API_KEY": "x", "GITHUB_TOKEN": "y", "DB_PASSWORD": "z", "HOME": "/h"}
    )
    assert env == {"PATH": "/bin", "HOME": "/h"}


def test_check_sees_no_secrets_and_no_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET_TOKEN", "hunter2")
    code = "import os, sys; print(os.environ.get('MY_SECRET_TOKEN')); print(repr(sys.stdin.read()))"
    result = run_check(f'{sys.executable} -c "{code}"', tmp_path, 30)
    assert result.passed
    assert result.output.splitlines() == ["None", "''"]


def test_failing_check_streams_lines(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_check("echo one; echo two >&2; exit 3", tmp_path, 30, on_line=lines.append)
    assert not result.passed
    assert result.returncode == 3
    assert lines == ["one", "two"]


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_check("sleep 30 & sleep 30; wait", tmp_path, 0.5)
    assert result.timed_out and not result.passed and result.returncode is None
    assert time.monotonic() - started < 10


def test_cancel_stops_the_check(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    result = run_check("sleep 30", tmp_path, 60, cancel=cancel)
    assert result.cancelled and not result.passed


def test_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    result = run_check("echo FIRST; seq 1 5000; echo LAST", tmp_path, 30, max_output=2000)
    assert result.output.startswith("FIRST\n")
    assert result.output.rstrip().endswith("LAST")
    assert "lines omitted" in result.output
    assert len(result.output) < 2200


def test_trim_output_keeps_head_and_tail() -> None:
    text = "\n".join(f"line {i}" for i in range(500))
    trimmed, was = trim_output(text, head_lines=5, tail_lines=5)
    assert was
    assert trimmed.splitlines()[0] == "line 0" and trimmed.splitlines()[-1] == "line 499"
    assert "490 lines omitted" in trimmed
    assert trim_output("short", 5, 5) == ("short", False)


def test_names_that_hold_no_secret_reach_the_tests() -> None:
    env = {
        "GIT_AUTHOR_NAME": "n", "GIT_COMMITTER_EMAIL": "e", "SSL_CERT_FILE": "/ca.pem", "SSL_CERT_DIR": "/ca",
        "NODE_EXTRA_CA_CERTS": "/ca.pem", "REQUESTS_CA_BUNDLE": "/ca.pem", "PIP_CERT": "/ca.pem",
        "GITHUB_TOKEN": "t", "AUTH_HEADER": "h", "OAUTH_CLIENT": "o", "CLIENT_CERT_KEY": "k",
        "AWS_CA_BUNDLE": "/c",
    }  # fmt: skip
    kept = set(clean_environment(env))
    assert kept == {"GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL", "SSL_CERT_FILE", "SSL_CERT_DIR",
                    "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "PIP_CERT"}  # fmt: skip
