"""THE check of the adapter GGUF: llama.cpp serving the embedded model with it computes what torch computes
with the same LoRA on the same weights. The LoRA is random and scaled up, so a wrong tensor name, a swapped
shape or a wrong scale shows: llama.cpp refuses the file, or its logit shift stops matching torch's.

The two runtimes differ a little even without an adapter (llama.cpp multiplies Q4_K weights by 8-bit
quantised activations, torch by the dequantised weights in float32): their greedy tokens agree at ~97% of
positions, so the test compares greedy tokens position by position on one fixed sequence (teacher forcing)
and the adapter's shift of the logits, rather than a free-running continuation that one near-tie derails.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.tune.conftest import needs_tune

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    needs_tune,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'lingcode[local]')",
    ),
    pytest.mark.timeout(1500),
]
HELPER = Path(__file__).with_name("llama_logits.py")
TEXT = (
    "<start_of_turn>user\nFix the bug in `clamp`.<end_of_turn>\n<start_of_turn>model\n"
    "m.py\n<<<<<<< SEARCH\n    if value > high:\n        return low\n=======\n"
    "    if value > high:\n        return high\n>>>>>>> REPLACE\n<end_of_turn>"
)


def llama_logits(model: Path, adapter: str, ids: list[int], tmp_path: Path) -> Any:
    import numpy as np

    ids_path, out = tmp_path / "ids.json", tmp_path / f"logits-{Path(adapter).stem}.npy"
    ids_path.write_text(json.dumps(ids), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(HELPER), str(model), adapter, str(ids_path), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return np.load(out)


def test_llama_cpp_applies_the_adapter_as_torch_does(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from lingcode.tune import base as base_model
    from lingcode.tune.adapter_gguf import write_adapter
    from lingcode.tune.checkpoint import lora_weights
    from lingcode.tune.trainer import TrainSettings, attach_lora

    torch.set_num_threads(1)  # one thread: on a shared 2-core machine two threads wait on each other
    base = base_model.resolve(None)
    model, tokenizer = base_model.load(base, "cpu")
    settings = TrainSettings(steps=1, rank=4, alpha=8.0)
    lora = attach_lora(model, settings)
    generator = torch.Generator().manual_seed(1)
    ids = tokenizer.encode(TEXT, add_special_tokens=True)
    with torch.no_grad():
        for name, weight in lora.named_parameters():
            if "lora_B" in name:  # B starts at zero; a random B makes the adapter change every projection
                weight.copy_(torch.randn(weight.shape, generator=generator) * 0.05)
        batch = torch.tensor([ids])
        torch_tuned = lora(input_ids=batch).logits[0].float().numpy()
        with lora.disable_adapter():
            torch_base = lora(input_ids=batch).logits[0].float().numpy()
    adapter = tmp_path / "adapter.gguf"
    write_adapter(adapter, lora_weights(lora), base.architecture, settings.alpha)

    llama_base = llama_logits(base.path, "-", ids, tmp_path)
    llama_tuned = llama_logits(base.path, str(adapter), ids, tmp_path)

    logits = {"tb": torch_base, "tt": torch_tuned, "lb": llama_base, "lt": llama_tuned}
    greedy = {name: values.argmax(-1) for name, values in logits.items()}
    shift_torch = (torch_tuned - torch_base).ravel()
    shift_llama = (llama_tuned - llama_base).ravel()
    figures = {
        "changed by the adapter": (greedy["lt"] != greedy["lb"]).mean(),
        "greedy agreement, base": (greedy["tb"] == greedy["lb"]).mean(),
        "greedy agreement, tuned": (greedy["tt"] == greedy["lt"]).mean(),
        "shift correlation": np.corrcoef(shift_torch, shift_llama)[0, 1],
        "shift norm ratio": np.linalg.norm(shift_llama) / np.linalg.norm(shift_torch),
    }
    print(figures)  # pytest -s shows them (benchmarks/RESULTS.md quotes them)
    assert figures["changed by the adapter"] > 0.2, figures  # llama.cpp applies the adapter at all
    # the same greedy tokens, position by position, up to the runtimes' own disagreement without an adapter
    assert figures["greedy agreement, tuned"] >= min(0.8, figures["greedy agreement, base"] - 0.1), figures
    assert figures["shift correlation"] > 0.95, figures  # the right tensors in the right places
    assert 0.9 < figures["shift norm ratio"] < 1.1, figures  # scaled alike: alpha / r
