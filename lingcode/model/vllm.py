"""The `vllm serve` command lingcode runs on GPU hosts, built from ServeConfig as a pure function.

Defaults suit an agent: prefix caching is on (every turn resends the same system prompt and repository map,
so their KV cache is reused), and n-gram speculative decoding is one switch away (edits copy long runs of
their input, which prompt-lookup drafts guess well). Multi-node serving on a Ray cluster is described in
VLLM.md beside this file.
"""

from __future__ import annotations

import json
import shlex
import shutil

from lingcode.config import ServeConfig
from lingcode.errors import UsageError

VLLM_EXTRA_HINT = "pip install 'lingcode[vllm]' (on a host with a GPU)"


def vllm_command(config: ServeConfig, port: int) -> list[str]:
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
