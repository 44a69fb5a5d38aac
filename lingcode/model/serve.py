"""`lingcode serve`: run a model server in the foreground until Ctrl-C or SIGTERM, or in the background.

The base URL goes to stdout as the first line (scripts read it); progress goes to `say` (stderr).
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from lingcode.config import ServeConfig
from lingcode.errors import ModelUnavailable
from lingcode.model import embedded, process
from lingcode.model.vllm import require_vllm, vllm_adapter, vllm_command

Say = Callable[[str], None]


def serve_embedded(config: ServeConfig, say: Say, out: Say, detach: bool = False) -> int:
    """Serve a GGUF with llama-cpp-python; detach=True starts it in the background (or reuses it), returns."""
    if detach:
        state = embedded.ensure_embedded(config, say)
        out(state.base_url)
        return 0
    embedded.require_llama_cpp()
    model = embedded.model_file(config, say)
    adapter = embedded.resolve_adapter(config, model, say)  # checked before anything starts
    with embedded.start_lock():
        running = embedded.running_server(model, embedded.model_alias(model, adapter))
        if running is None:
            port = config.port or process.free_port(config.host)
            command = embedded.llama_command(config, model, port, adapter)
            child = process.spawn(command, embedded.log_path())
            base_url = f"http://{embedded.url_host(config.host)}:{port}/v1"
            state = embedded.new_state(child.pid, port, model, base_url, config.ctx_size, adapter, False)
            embedded.write_state(state)
    if running is not None:
        say(
            f"the embedded model server is already running (pid {running.pid}); "
            "`lingcode serve --stop` ends it"
        )
        out(running.base_url)
        return 0
    try:
        if adapter is not None and config.lora is not None:
            say(f"serving the adapter {adapter.describe()} as {state.model_alias}")
        say(f"loading {model.name} (log: {embedded.log_path()})")
        return run_foreground(child, base_url, config.startup_timeout, embedded.log_path(), say, out)
    finally:
        embedded.clear_state(child.pid)


def serve_vllm(config: ServeConfig, say: Say, out: Say) -> int:
    """Run `vllm serve` in the foreground, its log on stderr."""
    adapter = vllm_adapter(config, say)  # checked before anything starts
    require_vllm()
    port = config.port or process.free_port(config.host)
    command = vllm_command(config, port, adapter)
    say(f"starting vLLM with {config.vllm_model}")
    child = process.spawn(command, None)
    return run_foreground(
        child, f"http://{embedded.url_host(config.host)}:{port}/v1", config.startup_timeout, None, say, out
    )


def run_foreground(
    child: subprocess.Popen[bytes],
    base_url: str,
    startup_timeout: float,
    log: Path | None,
    say: Say,
    out: Say,
) -> int:
    """Wait for the server, print its URL, then wait for a signal (stop it, exit 0) or for it to exit."""
    with _stop_signals() as stop:
        try:
            if not process.wait_healthy(base_url, child, startup_timeout, log, say, stop):
                say("stopping before the server was ready")
                return 0
            out(base_url)
            say("serving; press Ctrl-C to stop")
            while not stop.is_set():
                code = child.poll()
                if code in (0, -signal.SIGTERM):
                    break  # stopped from outside, e.g. by `lingcode serve --stop`
                if code is not None:
                    where = f"; its log is {log}" if log is not None else ""
                    raise ModelUnavailable(f"the model server exited unexpectedly (exit code {code}){where}")
                stop.wait(0.5)
        finally:
            process.stop_group(child.pid)
            child.wait()
        say("stopped")
    return 0


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while inside; a second signal during startup ends it at once."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
