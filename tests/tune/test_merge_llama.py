"""The merged model that `lingcode tune merge` writes is what llama.cpp computes for base + adapter: the
real embedded Gemma GGUF, a random adapter on every layer's attn_v (big enough to change half the greedy
tokens), the logits of one fixed sequence at every position, from llama.cpp itself in a process of its own.
And `lingcode tune` on that GGUF writes the merged model itself, which serving then picks.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.model.gguf import embedded_model_path
from tests.model.test_lora_check import make_adapter
from tests.tune.conftest import needs_tune
from tests.tune.test_llama_equivalence import TEXT, llama_logits

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'lingcode[local]')",
    ),
    pytest.mark.skipif(importlib.util.find_spec("gguf") is None, reason="gguf comes with the tune extra"),
    pytest.mark.timeout(900),
]


def _ids(model: Path) -> list[int]:
    import llama_cpp

    vocab = llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)
    return [int(i) for i in vocab.tokenize(TEXT.encode(), add_bos=True, special=True)]


def test_the_merged_model_computes_what_base_plus_adapter_computes(tmp_path: Path) -> None:
    import numpy as np

    base = embedded_model_path()
    folder = make_adapter(tmp_path / "run", base, layers=range(18), rank=8, scale=0.08, seed=4)
    assert run_cli(["tune", "merge", str(folder)]) == 0
    ids = _ids(base)
    plain = llama_logits(base, "-", ids, tmp_path)
    applied = llama_logits(base, str(folder / "adapter.gguf"), ids, tmp_path)
    merged = llama_logits(folder / "merged.gguf", "-", ids, tmp_path)
    shift_applied, shift_merged = (applied - plain).ravel(), (merged - plain).ravel()
    figures = {
        "changed by the adapter": (applied.argmax(-1) != plain.argmax(-1)).mean(),
        "greedy agreement, merged vs applied": (merged.argmax(-1) == applied.argmax(-1)).mean(),
        "shift correlation": np.corrcoef(shift_applied, shift_merged)[0, 1],
        "shift norm ratio": np.linalg.norm(shift_merged) / np.linalg.norm(shift_applied),
    }
    print(figures)
    # measured (2026-12-07): changed 0.53, agreement 0.98, correlation 0.995, norm ratio 0.98. A bigger
    # adapter wrecks the model, and then its near-ties flip apart: 0.12 gives agreement 0.68
    assert figures["changed by the adapter"] > 0.2, figures  # the adapter matters, so the merge is tested
    assert figures["greedy agreement, merged vs applied"] >= 0.9, figures
    assert figures["shift correlation"] > 0.98, figures  # the update in the right weights
    assert 0.93 < figures["shift norm ratio"] < 1.07, figures  # at the right scale


@needs_tune
def test_tune_on_the_embedded_gguf_writes_the_merged_model_serve_picks(
    sample_repo: Path, tmp_path: Path
) -> None:
    from lingcode.config import ServeConfig
    from lingcode.model.embedded import llama_command
    from lingcode.tune.adapter_check import check_for_llama

    base, out = embedded_model_path(), tmp_path / "adapter"
    args = ["tune", "--from-repo", str(sample_repo), "--out", str(out), "--steps", "1", "--threads", "1"]
    assert run_cli([*args, "--seq-len", "1024", "--eval-every", "1", "--valid-fraction", "0"]) == 0
    record = json.loads((out / "manifest.json").read_text())
    assert record["merged"]["file"] == "merged.gguf" and record["merged"]["tensors"] == 18 * 7
    adapter = check_for_llama(out, base)
    assert adapter.merged == str((out / "merged.gguf").resolve())
    command = llama_command(ServeConfig(), base, 8000, adapter)
    assert command[command.index("--model") + 1] == adapter.merged and "--lora_path" not in command
