"""The embedded llama.cpp server (llama-cpp-python), started once and shared by later lingcode commands.

A state file in the cache dir names the running server (pid, port, model). `open_model` reuses a server that
is healthy and serves the wanted model; otherwise it starts one detached (its own session, outliving the
command), so that the next command, e.g. the pre-commit hook, finds it warm. A lock file keeps two commands
that start at once from launching two servers. `lingcode serve --stop` ends it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lingcode.config import Config, ServeConfig, cache_home
from lingcode.errors import ConfigError, UsageError
from lingcode.model import process
from lingcode.model.client import ModelClient
from lingcode.model.gguf import LOCAL_EXTRA_HINT, embedded_model_path
from lingcode.pids import pid_alive

_DETACHED: list[subprocess.Popen[bytes]] = []
"""Detached servers started by this process. They outlive this process on purpose; holding their Popen
objects keeps Python from warning that a collected Popen's child is still running."""
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")


@dataclass(frozen=True)
class ServerState:
    """What the state file records about a running embedded server."""

    pid: int
    port: int
    model_path: str
    base_url: str
    n_ctx: int
    detached: bool = True


def state_path() -> Path:
    """The state file of the embedded server."""
    return cache_home() / "embedded-server.json"


def log_path() -> Path:
    """Where the embedded server's output goes."""
    return cache_home() / "logs" / "embedded-server.log"


def require_llama_cpp() -> None:
    """Raise UsageError (exit 2) with the install line when llama-cpp-python's server is not installed."""
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the embedded model server needs llama-cpp-python[server]; run: {LOCAL_EXTRA_HINT}")


def model_file(config: ServeConfig, progress: Callable[[str], None] | None = None) -> Path:
    """The GGUF to serve: serve.model_path, or the embedded Gemma (assembled on first use)."""
    if config.model_path is None:
        return embedded_model_path(progress)
    path = Path(config.model_path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"serve.model_path: no such file: {path}")
    return path


def llama_command(config: ServeConfig, model: Path, port: int) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server for config."""
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        model.stem,  # the model name clients see: the file's name is the most telling one we have
        "--host",
        config.host,
        "--port",
        str(port),
        "--n_ctx",
        str(config.ctx_size),
        "--verbose",
        "false",
        # queue concurrent requests (the hook, a second session) instead of cutting off the running reply
        "--interrupt_requests",
        "false",
    ]
    # the embedded GGUF carries no chat template, and llama-cpp-python's fallback (llama-2) makes Gemma
    # answer with nothing at all
    chat_format = config.chat_format or ("gemma" if config.model_path is None else None)
    if chat_format is not None:
        command += ["--chat_format", chat_format]
    if config.threads is not None:
        command += ["--n_threads", str(config.threads), "--n_threads_batch", str(config.threads)]
    return command + list(config.extra_args)


def read_state() -> ServerState | None:
    """The recorded server, or None when there is no (readable) state file."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
        return ServerState(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_state(state: ServerState) -> None:
    """Record a running server (atomically: a reader never sees half a file)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(state)), encoding="utf-8")
    os.replace(partial, path)


def clear_state(pid: int) -> None:
    """Forget the recorded server if it is still the one with this pid."""
    state = read_state()
    if state is not None and state.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            state_path().unlink()


@contextlib.contextmanager
def start_lock() -> Iterator[None]:
    """Hold the lock that serialises starting and stopping the embedded server."""
    path = cache_home() / "embedded-server.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running_server(model: Path | None = None) -> ServerState | None:
    """The recorded server when it is alive, ours, healthy (and serving `model`, when given)."""
    state = read_state()
    if state is None or not pid_alive(state.pid):
        return None
    cmdline = process.command_line(state.pid)
    if cmdline is not None and "llama_cpp.server" not in cmdline:
        return None  # the pid now belongs to some other program
    if model is not None and Path(state.model_path) != model:
        return None
    return state if process.is_healthy(state.base_url) else None


def ensure_embedded(config: ServeConfig, progress: Callable[[str], None] | None = None) -> ServerState:
    """Reuse the running embedded server, or start a detached one and wait until it is ready."""
    require_llama_cpp()
    model = model_file(config, progress)
    with start_lock():
        state = running_server(model)
        if state is not None:
            if progress is not None:
                progress(f"using the embedded model server at {state.base_url} (pid {state.pid})")
            return state
        other = running_server()  # alive, but serving another model
        if other is not None and not other.detached:
            # someone's `lingcode serve` in a terminal: theirs to stop, so use it rather than kill it
            if progress is not None:
                progress(
                    f"using the model server at {other.base_url}, which serves {Path(other.model_path).name}"
                )
            return other
        if other is not None:
            stop_server(other)
        return start_detached(config, model, progress)


def start_detached(config: ServeConfig, model: Path, progress: Callable[[str], None] | None) -> ServerState:
    """Start the server in the background, record it, and wait until it answers."""
    port = config.port or process.free_port(config.host)
    base_url = f"http://{url_host(config.host)}:{port}/v1"
    if progress is not None:
        progress(
            f"starting the embedded model server ({model.name}) in the background; later commands reuse it, "
            "`lingcode serve --stop` ends it"
        )
    child = process.spawn(llama_command(config, model, port), log_path())
    _DETACHED.append(child)
    state = ServerState(child.pid, port, str(model), base_url, config.ctx_size, detached=True)
    write_state(state)
    try:
        process.wait_healthy(base_url, child, config.startup_timeout, log_path(), progress)
    except BaseException:
        process.stop_group(child.pid)
        clear_state(child.pid)
        raise
    if progress is not None:
        progress(f"the embedded model server is ready at {base_url}")
    return state


def stop_server(state: ServerState) -> None:
    """Stop a recorded server's process group and forget it."""
    process.stop_group(state.pid)
    clear_state(state.pid)


def stop_embedded() -> ServerState | None:
    """Stop the running embedded server; return what was stopped (None when none was running)."""
    with start_lock():
        state = running_server()
        if state is None:
            with contextlib.suppress(FileNotFoundError):
                state_path().unlink()  # stale: the server died or the pid was reused
            return None
        stop_server(state)
        return state


def open_model(config: Config, progress: Callable[[str], None] | None = None) -> ModelClient:
    """A client for config.model.base_url, or for the embedded server, started or reused as needed."""
    if config.model.base_url:
        return ModelClient(config.model, config.model.base_url, progress=progress)
    if config.serve.engine == "vllm":
        raise ConfigError(
            "model.base_url is unset and serve.engine is vllm: start it with `lingcode serve --engine vllm` "
            "and set model.base_url to the URL it prints"
        )
    state = ensure_embedded(config.serve, progress)
    model = replace(
        config.model,
        context_window=config.model.context_window or state.n_ctx,
        engine="llama-cpp-python" if config.model.engine == "auto" else config.model.engine,
    )
    return ModelClient(model, state.base_url, progress=progress)


def url_host(host: str) -> str:
    """How to reach a server bound to host from this machine, as the host part of a URL."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"  # listening everywhere: talk to it on loopback
    return f"[{host}]" if ":" in host else host
