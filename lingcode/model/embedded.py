"""The embedded llama.cpp server (llama-cpp-python), started once and shared by later lingcode commands.

A state file in the cache dir names the running server (pid, port, model, adapter). `open_model` reuses a
server that is healthy and serves the wanted model with the wanted LoRA adapter (the served model name
carries the adapter's hash, so a server with another adapter is never taken for the right one); otherwise it
starts one detached (its own session, outliving the command), so that the next command, e.g. the pre-commit
hook, finds it warm. A lock file keeps two commands that start at once from launching two servers.
`lingcode serve --stop` ends it.

The adapter is serve.lora, else the default adapter (lingcode.tune.adapter_check.default_adapter_dir) when
one is there and passes its checks (a broken default is skipped with a note, so no command fails for it),
else, on the embedded model, the adapter that ships in lingcode/adapters/embedded; serve.no_lora serves the
base model alone. An adapter folder that holds its merged model (`lingcode tune
merge`) has that one file served in place of base + adapter, under the same name.
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
from typing import Any

from lingcode.config import Config, ServeConfig, cache_home
from lingcode.errors import ConfigError, UsageError
from lingcode.model import process
from lingcode.model.client import ModelClient
from lingcode.model.gguf import LOCAL_EXTRA_HINT, embedded_model_path
from lingcode.pids import pid_alive
from lingcode.tune.adapter_check import Adapter, AdapterError, check_for_llama, default_adapter_dir

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
    model_alias: str = ""
    """The model name the server answers with (state files from before adapters have none)."""
    adapter: dict[str, Any] | None = None
    """The LoRA adapter served (Adapter.as_json()), None for the base model alone."""


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


SHIPPED_ADAPTER = Path(__file__).resolve().parents[1] / "adapters" / "embedded"
"""The adapter that ships with lingcode, trained with `lingcode tune` for the embedded model: served on it
when the user has no default adapter of their own (benchmarks/RESULTS.md, "Fine-tuning: base vs tuned")."""


def resolve_adapter(
    config: ServeConfig, model: Path, progress: Callable[[str], None] | None = None
) -> Adapter | None:
    """The checked adapter to serve on model: serve.lora (AdapterError when unfit), else a fit default one:
    the user's (`lingcode tune` writes it), else, on the embedded model only, the one lingcode ships."""
    if config.no_lora:
        return None
    if config.lora is not None:
        return check_for_llama(Path(config.lora), model)
    default, which = default_adapter_dir(), "the default adapter"
    if not default.exists():
        if config.model_path or not (SHIPPED_ADAPTER / "adapter.gguf").is_file():
            return None
        default, which = SHIPPED_ADAPTER, "the adapter that ships with lingcode"
    try:
        adapter = check_for_llama(default, model)
    except AdapterError as exc:
        if progress is not None:
            progress(f"not serving {which}: {exc}")
        return None
    if progress is not None:
        progress(f"serving {which} {adapter.describe()}; --no-lora serves the base model")
    return adapter


def model_alias(model: Path, adapter: Adapter | None) -> str:
    """The model name clients see: the file's name, plus the adapter's hash when one is applied."""
    return model.stem if adapter is None else f"{model.stem}+{adapter.tag}"


def llama_command(config: ServeConfig, model: Path, port: int, adapter: Adapter | None = None) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server for config."""
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        adapter.merged if adapter is not None and adapter.merged else str(model),
        "--model_alias",
        model_alias(model, adapter),  # the file's name is the most telling one we have
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
    if adapter is not None and adapter.gguf is not None and not adapter.merged:
        command += ["--lora_path", adapter.gguf]
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


def running_server(model: Path | None = None, alias: str | None = None) -> ServerState | None:
    """The recorded server when it is alive, ours, healthy (and serving `model` as `alias`, when given)."""
    state = read_state()
    if state is None or not pid_alive(state.pid):
        return None
    cmdline = process.command_line(state.pid)
    if cmdline is not None and "llama_cpp.server" not in cmdline:
        return None  # the pid now belongs to some other program
    if model is not None and Path(state.model_path) != model:
        return None
    if alias is not None and state.model_alias != alias:
        return None  # the same base with another adapter (or none)
    return state if process.is_healthy(state.base_url) else None


def ensure_embedded(config: ServeConfig, progress: Callable[[str], None] | None = None) -> ServerState:
    """Reuse the running embedded server, or start a detached one and wait until it is ready."""
    require_llama_cpp()
    model = model_file(config, progress)
    adapter = resolve_adapter(config, model, progress)
    with start_lock():
        state = running_server(model, model_alias(model, adapter))
        if state is not None:
            if progress is not None:
                progress(f"using the embedded model server at {state.base_url} (pid {state.pid})")
            return state
        other = running_server()  # alive, but serving another model
        if other is not None and not other.detached:
            # someone's `lingcode serve` in a terminal: theirs to stop, so use it rather than kill it
            if progress is not None:
                serves = other.model_alias or Path(other.model_path).name
                progress(f"using the model server at {other.base_url}, which serves {serves}")
            return other
        if other is not None:
            stop_server(other)
        return start_detached(config, model, adapter, progress)


def start_detached(
    config: ServeConfig, model: Path, adapter: Adapter | None, progress: Callable[[str], None] | None
) -> ServerState:
    """Start the server in the background, record it, and wait until it answers."""
    port = config.port or process.free_port(config.host)
    base_url = f"http://{url_host(config.host)}:{port}/v1"
    if progress is not None:
        progress(
            f"starting the embedded model server ({model_alias(model, adapter)}) in the background; "
            "later commands reuse it, "
            "`lingcode serve --stop` ends it"
        )
    child = process.spawn(llama_command(config, model, port, adapter), log_path())
    _DETACHED.append(child)
    state = new_state(child.pid, port, model, base_url, config.ctx_size, adapter, detached=True)
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


def new_state(
    pid: int, port: int, model: Path, base_url: str, n_ctx: int, adapter: Adapter | None, detached: bool
) -> ServerState:
    """The state to record for a server just started."""
    lora = adapter.as_json() if adapter is not None else None
    return ServerState(pid, port, str(model), base_url, n_ctx, detached, model_alias(model, adapter), lora)


def served_adapter(base_url: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether base_url is the recorded embedded server, the adapter it serves) for doctor to name."""
    state = read_state()
    if state is None or state.base_url.rstrip("/") != base_url.rstrip("/"):
        return False, None
    return True, state.adapter


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
        # a URL may still name the embedded server (`lingcode serve --detach` prints it)
        return ModelClient(config.model, config.model.base_url, progress=progress, down_hint=exited_hint)
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
    return ModelClient(model, state.base_url, progress=progress, down_hint=exited_hint)


def exited_hint(base_url: str) -> str:
    """What to add to a model error when `base_url` is the embedded server and it has exited (llama.cpp died
    mid-request, which a client only sees as a refused connection); empty otherwise."""
    state = read_state()
    if state is None or state.base_url.rstrip("/") != base_url.rstrip("/") or pid_alive(state.pid):
        return ""
    return (
        f" (the embedded llama.cpp server exited: see {log_path()}; if llama-cpp-python's native build "
        "crashes on this CPU, scripts/ensure-llama.sh VENV installs a portable one)"
    )


def url_host(host: str) -> str:
    """How to reach a server bound to host from this machine, as the host part of a URL."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"  # listening everywhere: talk to it on loopback
    return f"[{host}]" if ":" in host else host
