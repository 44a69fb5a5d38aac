"""The `vllm serve` command lingcode runs on GPU hosts, built from ServeConfig as a pure function.

Defaults suit an agent: prefix caching is on (every turn resends the same system prompt and repository map,
so their KV cache is reused), and n-gram speculative decoding is one switch away (edits copy long runs of
their input, which prompt-lookup drafts guess well). A `lingcode tune` adapter (serve.lora, its PEFT folder)
is served with vLLM's LoRA support under the name serve.lora_name, which requests give as their model; the
base model stays reachable under its own name. Multi-node serving on a Ray cluster is described in
VLLM.md beside this file.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

from lingcode.config import ServeConfig
from lingcode.errors import UsageError
from lingcode.tune.adapter_check import Adapter, check_for_vllm

VLLM_EXTRA_HINT = "pip install 'lingcode[vllm]' (on a host with a GPU)"
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for --max-lora-rank."""


def vllm_adapter(config: ServeConfig, say: Callable[[str], None] | None = None) -> Adapter | None:
    """The checked adapter of serve.lora for vLLM (AdapterError when unfit); None without one.

    vLLM takes no default adapter: the one in the default place was trained for the embedded model.
    """
    if config.no_lora or config.lora is None:
        return None
    adapter = check_for_vllm(Path(config.lora))
    if say is not None:
        say(
            f"serving the adapter {adapter.describe()}; requests get it as model {config.lora_name!r} "
            f"(-c model.model={config.lora_name})"
        )
    return adapter


def max_lora_rank(rank: int) -> int:
    """The smallest --max-lora-rank vLLM accepts that holds rank."""
    fits = [r for r in LORA_RANKS if r >= rank]
    if not fits:
        raise UsageError(f"the adapter's rank {rank} is above the {LORA_RANKS[-1]} vLLM serves")
    return fits[0]


def vllm_command(config: ServeConfig, port: int, adapter: Adapter | None = None) -> list[str]:
    """The argument vector of `vllm serve` for config, listening on port."""
    command = [
        "vllm",
        "serve",
        config.vllm_model,
        "--host",
        config.host,
        "--port",
        str(port),
        "--enable-prefix-caching",
        "--tensor-parallel-size",
        str(config.tensor_parallel_size),
        "--pipeline-parallel-size",
        str(config.pipeline_parallel_size),
        "--gpu-memory-utilization",
        f"{config.gpu_memory_utilization:g}",
    ]
    if config.max_model_len is not None:
        command += ["--max-model-len", str(config.max_model_len)]
    if config.pipeline_parallel_size > 1:
        # pipeline stages live on several nodes, which vLLM reaches through a Ray cluster
        command += ["--distributed-executor-backend", "ray"]
    if config.speculative_ngram:
        speculative = {
            "method": "ngram",
            "num_speculative_tokens": config.speculative_tokens,
            "prompt_lookup_max": 4,
            "prompt_lookup_min": 2,
        }
        command += ["--speculative-config", json.dumps(speculative, separators=(",", ":"))]
    if adapter is not None and adapter.peft is not None:
        command += [
            "--enable-lora",
            "--lora-modules",
            f"{config.lora_name}={adapter.peft}",
            "--max-lora-rank",
            str(max_lora_rank(adapter.rank)),
        ]
    return command + list(config.extra_args)


def shell_line(command: list[str]) -> str:
    """The command as one line a POSIX shell reads back into the same arguments."""
    return shlex.join(command)


def require_vllm() -> str:
    """The path of the `vllm` executable; UsageError (exit 2) naming the extra when it is not installed."""
    path = shutil.which("vllm")
    if path is None:
        raise UsageError(f"vllm is not installed; run: {VLLM_EXTRA_HINT}, or use --print-command")
    return path
