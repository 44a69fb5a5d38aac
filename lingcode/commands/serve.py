"""`lingcode serve`: start a model server (embedded llama.cpp, or vLLM on GPU hosts), or stop the embedded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lingcode.commands.common import load, resolve_root, root_option

if TYPE_CHECKING:
    from lingcode.config import ServeConfig


def _say(message: str) -> None:
    click.echo(f"lingcode: {message}", err=True)


def _out(line: str) -> None:
    click.echo(line)


@click.command("serve")
@click.option(
    "--engine", type=click.Choice(["llama-cpp", "vllm"]), default=None, help="Server (default: llama-cpp)."
)
@click.option("--model", "model", default=None, help="A GGUF file (llama-cpp) or a model id or path (vllm).")
@click.option("--host", default=None, help="Address to bind (default: 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: a free one).")
@click.option(
    "--ctx-size", type=click.IntRange(min=1), default=None, help="llama.cpp context size in tokens."
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="llama.cpp CPU threads.")
@click.option("--max-model-len", type=click.IntRange(min=1), default=None, help="vLLM --max-model-len.")
@click.option(
    "--tensor-parallel-size", "-tp", type=click.IntRange(min=1), default=None, help="vLLM GPUs per node."
)
@click.option("--pipeline-parallel-size", "-pp", type=click.IntRange(min=1), default=None, help="vLLM nodes.")
@click.option(
    "--gpu-memory-utilization",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="vLLM share of GPU memory.",
)
@click.option(
    "--speculative-ngram/--no-speculative-ngram", default=None, help="vLLM n-gram speculative decoding."
)
@click.option(
    "--lora",
    default=None,
    metavar="DIR|FILE",
    help="Serve a LoRA adapter: a `lingcode tune` output folder, or (llama-cpp) an adapter GGUF.",
)
@click.option("--no-lora", is_flag=True, help="Serve the base model alone, not even the default adapter.")
@click.option("--print-command", is_flag=True, help="Print the server command line and exit.")
@click.option(
    "--detach", is_flag=True, help="Start the embedded server in the background (or reuse it) and exit."
)
@click.option("--stop", is_flag=True, help="Stop the embedded server started in the background.")
@root_option
@click.pass_context
def command(
    ctx: click.Context,
    engine: str | None,
    model: str | None,
    host: str | None,
    port: int | None,
    ctx_size: int | None,
    threads: int | None,
    max_model_len: int | None,
    tensor_parallel_size: int | None,
    pipeline_parallel_size: int | None,
    gpu_memory_utilization: float | None,
    speculative_ngram: bool | None,
    lora: str | None,
    no_lora: bool,
    print_command: bool,
    detach: bool,
    stop: bool,
    root: Path | None,
) -> int:
    """Start a model server and print its base URL on stdout; Ctrl-C or SIGTERM stops it.

    The default engine serves the embedded Gemma 3 270M (or --model FILE.gguf) with llama.cpp on this
    machine, with the default adapter ($XDG_DATA_HOME/lingcode/adapters/default) when one is there.
    `--engine vllm` runs `vllm serve` on a GPU host (see lingcode/model/VLLM.md for multi-node).
    An adapter is checked before anything starts; one that is partly written, corrupt or made for
    another base model is refused (exit 2).
    """
    from lingcode.errors import UsageError

    if lora is not None and no_lora:
        raise UsageError("--lora and --no-lora contradict each other; give one")

    if stop:
        return _stop()
    flags: dict[str, object] = {
        "serve.engine": engine,
        "serve.host": host,
        "serve.port": port,
        "serve.ctx_size": ctx_size,
        "serve.threads": threads,
        "serve.max_model_len": max_model_len,
        "serve.tensor_parallel_size": tensor_parallel_size,
        "serve.pipeline_parallel_size": pipeline_parallel_size,
        "serve.gpu_memory_utilization": gpu_memory_utilization,
        "serve.speculative_ngram": speculative_ngram,
        "serve.lora": lora,
        "serve.no_lora": True if no_lora else None,
    }
    config = load(ctx, resolve_root(root), flags).serve
    if model is not None:
        vllm = config.engine == "vllm"
        config = replace(config, vllm_model=model) if vllm else replace(config, model_path=model)
    return _start(config, print_command=print_command, detach=detach)


def _stop() -> int:
    """`--stop`: end the embedded server this machine's commands share, if one runs."""
    from lingcode.model import embedded

    stopped = embedded.stop_embedded()
    _say(
        f"stopped the embedded model server (pid {stopped.pid})"
        if stopped
        else "no embedded server is running"
    )
    return 0


def _start(config: ServeConfig, *, print_command: bool, detach: bool) -> int:
    """Serve with the resolved settings, or only print the server's command line."""
    from lingcode.model import embedded, serve
    from lingcode.model.vllm import shell_line, vllm_adapter, vllm_command

    if config.engine == "vllm":
        if print_command:
            _out(shell_line(vllm_command(config, config.port or 8000, vllm_adapter(config, _say))))
            return 0
        return serve.serve_vllm(config, _say, _out)
    if print_command:
        model_path = embedded.model_file(config, _say)
        adapter = embedded.resolve_adapter(config, model_path, _say)
        _out(shell_line(embedded.llama_command(config, model_path, config.port or 8080, adapter)))
        return 0
    return serve.serve_embedded(config, _say, _out, detach=detach)
