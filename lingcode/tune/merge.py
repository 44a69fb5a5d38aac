"""Fold a LoRA adapter GGUF into its base model: one GGUF that llama.cpp serves at the base model's speed.

An adapter applied while serving costs two more small matrix products per projection per token: the tuned
embedded model served at 0.79-0.81 of the base's tokens/s with free decoding (benchmarks/RESULTS.md, r4).
Merging adds (B @ A) * alpha / r into each projection's weight once, here, instead.

Merged weights are written as Q8_0, whatever their base type. Quantizing W + delta again at the base's own
5 bits rounds much of the small update away: on r4 the greedy reply of such a merge left the adapter's after
a few lines, while Q8_0's matched it; and the `gguf` package quantizes no K-quant (attn_output, ffn_down).
Q8_0 makes the embedded model 38 MB larger (292 MB) and decodes at the base's speed (benchmarks/RESULTS.md,
merge_speed.py). Every other tensor, and all metadata, is copied byte for byte. The file is written beside
its destination and renamed into place, so a partly written model is never found there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingcode.errors import ConfigError

MERGED_TYPE = "Q8_0"
"""The type every merged weight is written in."""
_HEADER_KEYS = ("GGUF.", "general.architecture")
"""Fields GGUFWriter writes itself; copying them would write them twice."""


class MergeError(ConfigError):
    """An adapter that cannot be merged into the base model (exit 2); the message says why."""


@dataclass(frozen=True)
class MergeReport:
    """What a merge did: how many weights changed, and the types they were written in."""

    merged: int
    copied: int
    base_types: dict[str, int]
    """The merged weights' types in the base model, and how many of each (all are written as MERGED_TYPE)."""


def merge_adapter(base: Path, adapter: Path, out: Path) -> MergeReport:
    """Write base + adapter (a llama.cpp LoRA GGUF) as one GGUF at out; MergeError when they do not fit."""
    from gguf import GGUFReader

    base_reader, adapter_reader = GGUFReader(str(base)), GGUFReader(str(adapter))
    deltas = _deltas(adapter_reader, _alpha(adapter_reader, adapter))
    names = {tensor.name for tensor in base_reader.tensors}
    missing = sorted(set(deltas) - names)
    if missing:
        raise MergeError(f"{adapter} changes {missing[0]}, which the base model {base.name} does not have")
    partial = out.with_name(f".{out.name}.partial")
    try:
        report = _write(base_reader, deltas, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return report


def _alpha(reader: Any, path: Path) -> float:
    field = reader.fields.get("adapter.lora.alpha")
    if reader.fields.get("adapter.type") is None or field is None:
        raise MergeError(f"{path} is not a LoRA adapter GGUF with an alpha")
    return float(field.contents())


def _deltas(reader: Any, alpha: float) -> dict[str, Any]:
    """Base tensor name -> the float32 (out, in) update the adapter adds to it."""
    import numpy as np

    tensors = {tensor.name: tensor for tensor in reader.tensors}
    deltas = {}
    for name, a in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        target = name[: -len(".lora_a")]
        lora_a = np.asarray(a.data, dtype=np.float32)  # (r, in)
        lora_b = np.asarray(tensors[target + ".lora_b"].data, dtype=np.float32)  # (out, r)
        deltas[target] = (lora_b @ lora_a) * np.float32(alpha / lora_a.shape[0])
    return deltas


def _write(reader: Any, deltas: dict[str, Any], path: Path) -> MergeReport:
    from gguf import GGUFWriter

    architecture = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(str(path), architecture)
    for key, field in reader.fields.items():
        if not key.startswith(_HEADER_KEYS):
            sub_type = field.types[-1] if len(field.types) > 1 else None
            writer.add_key_value(key, field.contents(), field.types[0], sub_type=sub_type)
    base_types: dict[str, int] = {}
    for tensor in reader.tensors:
        if tensor.name in deltas:
            kind = tensor.tensor_type.name
            base_types[kind] = base_types.get(kind, 0) + 1
            data, qtype = _merged(tensor, deltas[tensor.name])
            writer.add_tensor(tensor.name, data, raw_dtype=qtype)
        else:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return MergeReport(len(deltas), len(reader.tensors) - len(deltas), base_types)


def _merged(tensor: Any, delta: Any) -> tuple[Any, Any]:
    """(data, type) of the tensor with delta added, quantized as MERGED_TYPE."""
    import numpy as np
    from gguf import GGMLQuantizationType, quants

    weight = quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
    if weight.shape != delta.shape:
        raise MergeError(f"the adapter's update of {tensor.name} is {delta.shape}, the weight {weight.shape}")
    qtype = GGMLQuantizationType[MERGED_TYPE]
    return quants.quantize(weight + delta, qtype), qtype


MERGED_FILE = "merged.gguf"


def merge_output(folder: Path, base: Path) -> dict[str, Any]:
    """Merge a tune output's adapter.gguf into base as folder/merged.gguf; return the manifest's `merged`.

    The section ties the file to the adapter and the base it was made from, and records its size: serving
    checks all three before it serves the merged model instead of base + adapter
    (lingcode.tune.adapter_check)."""
    import hashlib

    adapter, merged = folder / "adapter.gguf", folder / MERGED_FILE
    report = merge_adapter(base, adapter, merged)
    resolved = base.resolve()
    return {
        "file": MERGED_FILE,
        "size": merged.stat().st_size,
        "type": MERGED_TYPE,
        "tensors": report.merged,
        "adapter_sha256": hashlib.sha256(adapter.read_bytes()).hexdigest(),
        "base_path": str(resolved),
        "base_size": resolved.stat().st_size,
    }
