"""A trained LoRA as a llama.cpp adapter GGUF, the file `llama-server --lora` / llama-cpp-python's
`lora_path` loads.

llama.cpp pairs `NAME.lora_a` with `NAME.lora_b` for each base tensor NAME (`blk.3.attn_q.weight`) and
checks: general.type == "adapter", adapter.type == "lora", general.architecture == the base's, and the
shapes (ggml order, innermost first) a = [in, r], b = [r, out], which are torch's (r, in) and (out, r) as
PEFT stores them. It scales the product by adapter.lora.alpha / r, the same factor PEFT uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Hugging Face projection -> llama.cpp tensor name, for the decoder block architectures in base.ARCHITECTURES
GGUF_NAMES = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_PEFT_KEY = re.compile(r"\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")


def gguf_tensor_name(peft_key: str) -> str:
    """`...layers.3.self_attn.q_proj.lora_A.weight` -> `blk.3.attn_q.weight.lora_a`; ValueError if unknown."""
    match = _PEFT_KEY.search(peft_key)
    if match is None or match.group(2) not in GGUF_NAMES:
        raise ValueError(f"no llama.cpp tensor for LoRA weight {peft_key}")
    layer, module, side = match.groups()
    return f"blk.{layer}.{GGUF_NAMES[module]}.weight.lora_{side.lower()}"


def write_adapter(path: Path, lora: Mapping[str, torch.Tensor], architecture: str, alpha: float) -> int:
    """Write the LoRA state dict (PEFT key -> tensor) to `path` as F32; return the number of tensors."""
    import numpy as np
    from gguf import GGUFType, GGUFWriter, Keys

    writer = GGUFWriter(str(path), architecture)
    writer.add_type(GGUFType.ADAPTER)
    writer.add_string(Keys.Adapter.TYPE, "lora")
    writer.add_float32(Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_name("lingcode LoRA adapter")
    for key in sorted(lora, key=_layer_order):
        array = lora[key].detach().to("cpu").float().contiguous().numpy()
        writer.add_tensor(gguf_tensor_name(key), np.ascontiguousarray(array, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return len(lora)


def _layer_order(key: str) -> tuple[int, str]:
    match = _PEFT_KEY.search(key)
    return (int(match.group(1)) if match else -1, key)
