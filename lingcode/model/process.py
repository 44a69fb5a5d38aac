"""Model server processes: free ports, starting in a process group of their own, health, stopping.

Every server runs in a new session (setsid), so one signal to its process group also reaches whatever it
forked, and a Ctrl-C at the terminal reaches lingcode alone, which then stops the server in order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from lingcode.errors import ModelUnavailable
from lingcode.pids import pid_alive

_POLL_S = 0.25


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on host right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def spawn(command: Sequence[str], log_path: Path | None) -> subprocess.Popen[bytes]:
    """Start command in its own session, its output appended to log_path (None: to our stderr)."""
    if log_path is None:
        # our stdout carries only the base URL, for scripts to read
        return subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=2, start_new_session=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server answers GET /models at base_url."""
    try:
        response = httpx.get(
            base_url.rstrip("/") + "/models",
            timeout=timeout,
            trust_env=False,
            verify=not base_url.lower().startswith("http://"),  # no TLS context (CA bundle) for plain http
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_healthy(
    base_url: str,
    process: subprocess.Popen[bytes],
    timeout: float,
    log_path: Path | None,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> bool:
    """Wait until the server answers (True) or `stop` is set (False); raise ModelUnavailable when the server
    exits or takes longer than timeout (then it is stopped)."""
    started = time.monotonic()
    next_note = started + 10.0
    while not is_healthy(base_url, timeout=_POLL_S * 4):
        if stop is not None and stop.is_set():
            return False
        code = process.poll()
        if code is not None:
            where = f"; its log is {log_path}{_last_line(log_path)}" if log_path is not None else ""
            raise ModelUnavailable(f"the model server exited while starting (exit code {code}){where}")
        now = time.monotonic()
        if now - started > timeout:
            stop_group(process.pid)
            raise ModelUnavailable(
                f"the model server did not become ready within {timeout:g}s (serve.startup_timeout)"
                + (f"; its log is {log_path}" if log_path is not None else "")
            )
        if progress is not None and now >= next_note:
            progress(f"still loading the model ({now - started:.0f}s)")
            next_note = now + 10.0
        time.sleep(_POLL_S)
    return True


def _last_line(log_path: Path) -> str:
    """': <the last line of the log>' to name the cause in the same line, or '' when there is none."""
    try:
        lines = [line.strip() for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return f": {lines[-1][:200]}" if lines else ""


def command_line(pid: int) -> str | None:
    """The process's command line where the system shows it (Linux /proc), else None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", errors="replace").strip()


def stop_group(pid: int, grace_s: float = 5.0) -> None:
    """Stop the process group led by pid: SIGTERM, then SIGKILL after grace_s."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)
