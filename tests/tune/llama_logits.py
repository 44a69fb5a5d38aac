"""Run as a script: llama.cpp's logits at every position of a token sequence, with or without a LoRA adapter.

    python tests/tune/llama_logits.py MODEL.gguf ADAPTER.gguf|- IDS.json OUT.npy

A separate process because llama.cpp and torch in one process have crashed here. llama.cpp's AMX weight
repacking (chosen on CPUs with AMX, as on this VM) segfaults in llama-cpp-python 0.3.36 on its first
evaluation; the repacking is switched off (`use_extra_bufts`), which changes the speed, not the arithmetic
of the weights as stored.
"""

from __future__ import annotations

import json
import sys

import llama_cpp
import llama_cpp.llama
import numpy as np

_default_params = llama_cpp.llama_model_default_params


def _params_without_repacking() -> llama_cpp.llama_model_params:
    params = _default_params()
    params.use_extra_bufts = False
    return params


def main() -> None:
    """Evaluate the ids and save the logits, one row per position."""
    model, adapter, ids_path, out = sys.argv[1:5]
    llama_cpp.llama.llama_cpp.llama_model_default_params = _params_without_repacking
    with open(ids_path, encoding="utf-8") as handle:
        ids = json.load(handle)
    options = {"n_ctx": 1024, "verbose": False, "seed": 0, "n_threads": 1, "logits_all": True}
    llm = llama_cpp.Llama(model_path=model, lora_path=None if adapter == "-" else adapter, **options)
    llm.eval(ids)
    np.save(out, np.array(llm.scores[: len(ids)], dtype=np.float32))


if __name__ == "__main__":
    main()
