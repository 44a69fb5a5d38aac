"""Run the project's checks: find the test command, run it safely, and trim its output for the model.

A check runs in its own process group with stdin closed and an environment stripped of secret-looking
variables; a timeout (or a cancel) kills the whole group, so a test that forks a server cannot outlive it.
Output is capped while it is read, so a test that prints forever cannot exhaust memory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lingcode.loop.testcmd import detect_test_command

__all__ = [
    "CheckResult",
    "can_narrow",
    "clean_environment",
    "detect_test_command",
    "related_command",
    "run_check",
    "trim_output",
    "withheld_names",
]

MAX_OUTPUT_BYTES = 256_000
"""Most bytes of check output kept (half from the start, half from the end)."""

_SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|AUTH|COOKIE|SESSION|SIGNATURE|CERT)", re.IGNORECASE
)

# names the patterns above catch that hold no secret and that tests need: git's identity (AUTHOR), and the
# paths of public CA certificates (a client's own key is caught by KEY)
_NOT_SECRET = re.compile(
    r"^GIT_(?:AUTHOR|COMMITTER)_(?:NAME|EMAIL|DATE)$|(?:^|_)CA_CERTS?(?:_FILE)?$|^(?:\w+_)?CERT_(?:FILE|DIR)$"
    r"|(?:^|_)CA_BUNDLE$|^PIP_CERT$",
    re.IGNORECASE,
)

_SECRET_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_APPLICATION_", "GCLOUD_", "CLOUDSDK_AUTH")
"""Cloud credential families withheld whole: even their harmless-looking names (AZURE_CLIENT_ID) identify."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check command."""

    command: str
    returncode: int | None
    output: str
    duration_s: float
    timed_out: bool = False
    cancelled: bool = False

    @property
    def passed(self) -> bool:
        """True when the command exited 0 in time."""
        return self.returncode == 0 and not self.timed_out and not self.cancelled


def clean_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment without variables whose names look like they hold secrets."""
    env = dict(os.environ if environ is None else environ)
    return {name: value for name, value in env.items() if not _is_secret_name(name)}


def withheld_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The names (never the values) clean_environment drops, sorted, for the run log."""
    env = os.environ if environ is None else environ
    return sorted(name for name in env if _is_secret_name(name))


def _is_secret_name(name: str) -> bool:
    if name.upper().startswith(_SECRET_PREFIXES):
        return True
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def can_narrow(command: str) -> bool:
    """Whether `command` is a plain pytest call that test paths can be appended to."""
    if any(c in command for c in ";&|<>`$()"):
        return False  # a pipeline or compound command cannot be narrowed by appending paths
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return any(Path(w).name in ("pytest", "py.test") for w in words) or any(
        a == "-m" and b == "pytest" for a, b in itertools.pairwise(words)
    )


def related_command(command: str, tests: Sequence[str]) -> str | None:
    """The command narrowed to `tests` (repository-relative paths), where the runner allows it."""
    if not tests or not can_narrow(command):
        return None
    return f"{command} {shlex.join(tests)}"


def run_check(
    command: str,
    cwd: Path,
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    max_output: int = MAX_OUTPUT_BYTES,
) -> CheckResult:
    """Run `command` through the shell in `cwd`; kill its whole process group on timeout or cancel."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else clean_environment(),
        start_new_session=True,
    )
    collector = _Collector(on_line, max_output)
    reader = threading.Thread(target=collector.read, args=(proc,), daemon=True)
    reader.start()
    timed_out = cancelled = False
    while True:
        try:
            proc.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() - started > timeout:
                timed_out = True
            elif cancel is not None and cancel.is_set():
                cancelled = True
            else:
                continue
            _kill_group(proc)
    # children that outlive the shell keep the pipe open: the group goes too
    _kill_group(proc)
    reader.join(timeout=5.0)
    if proc.stdout is not None and not reader.is_alive():
        proc.stdout.close()
    return CheckResult(
        command=command,
        returncode=None if timed_out or cancelled else proc.returncode,
        output=collector.text(),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        cancelled=cancelled,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5.0)


class _Collector:
    """Reads a process's output line by line, keeping the head and the tail within a byte budget."""

    def __init__(self, on_line: Callable[[str], None] | None, max_bytes: int) -> None:
        self._on_line = on_line
        self._half = max_bytes // 2
        self._head: list[str] = []
        self._head_bytes = 0
        self._tail: deque[str] = deque()
        self._tail_bytes = 0
        self._dropped = 0

    def read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace")
            if self._on_line is not None:
                self._on_line(line.rstrip("\n"))
            self._keep(line)

    def _keep(self, line: str) -> None:
        half = self._half
        size = len(line)
        if self._head_bytes + size <= half:
            self._head.append(line)
            self._head_bytes += size
            return
        self._tail.append(line)
        self._tail_bytes += size
        while self._tail_bytes > half and self._tail:
            self._tail_bytes -= len(self._tail.popleft())
            self._dropped += 1

    def text(self) -> str:
        middle = [f"[... {self._dropped} lines omitted ...]\n"] if self._dropped else []
        return "".join([*self._head, *middle, *self._tail])


def trim_output(
    text: str, head_lines: int = 30, tail_lines: int = 60, max_chars: int = 6000
) -> tuple[str, bool]:
    """Keep the first and last lines of `text` (where failures are summarised); return (text, trimmed)."""
    lines = text.splitlines()
    trimmed = False
    if len(lines) > head_lines + tail_lines:
        omitted = len(lines) - head_lines - tail_lines
        lines = [*lines[:head_lines], f"[... {omitted} lines omitted ...]", *lines[-tail_lines:]]
        trimmed = True
    out = "\n".join(lines)
    if len(out) > max_chars:
        half = max_chars // 2
        out = out[:half] + "\n[... output trimmed ...]\n" + out[-half:]
        trimmed = True
    return out, trimmed
