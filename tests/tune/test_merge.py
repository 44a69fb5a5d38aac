"""Merging an adapter into its base GGUF (`lingcode tune merge`): the merged weights are base + B·A·alpha/r,
everything else is the base byte for byte, serving picks the merged file only when it was made from this very
adapter and base and is whole, and bad input gets one line.

Base models and adapters are written with the gguf package's own writer; the numbers are read back with its
reader, not with lingcode's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lingcode.cli import run_cli
from lingcode.config import ServeConfig
from lingcode.model.embedded import llama_command
from lingcode.tune.adapter_check import check_for_llama
from tests.model.test_lora_check import HIDDEN, V_OUT, make_adapter

gguf = pytest.importorskip("gguf", reason="the gguf package comes with the tune extra")


def quantized_base(path: Path, layers: int = 2) -> Path:
    """A base whose attn_v weights are Q8_0 of random values, beside an F32 norm and a vocabulary array."""
    rng = np.random.default_rng(5)
    writer = gguf.GGUFWriter(str(path), "gemma3")
    writer.add_uint32("gemma3.block_count", layers)
    writer.add_array("tokenizer.ggml.tokens", ["<pad>", "a", "b"])
    for i in range(layers):
        weight = rng.standard_normal((V_OUT, HIDDEN)).astype(np.float32)
        q8 = gguf.GGMLQuantizationType.Q8_0
        writer.add_tensor(f"blk.{i}.attn_v.weight", gguf.quants.quantize(weight, q8), raw_dtype=q8)
        writer.add_tensor(f"blk.{i}.attn_norm.weight", rng.standard_normal(HIDDEN).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _tensors(path: Path) -> dict[str, object]:
    return {t.name: t for t in gguf.GGUFReader(str(path)).tensors}


def test_merged_weights_are_base_plus_the_update_and_the_rest_is_untouched(tmp_path: Path) -> None:
    base = quantized_base(tmp_path / "base.gguf")
    folder = make_adapter(tmp_path / "run", base, rank=4, scale=0.3, seed=2)
    assert run_cli(["tune", "merge", str(folder)]) == 0
    merged, original, lora = (
        _tensors(folder / "merged.gguf"),
        _tensors(base),
        _tensors(folder / "adapter.gguf"),
    )
    for i in range(2):
        name = f"blk.{i}.attn_v.weight"
        a = np.asarray(lora[name + ".lora_a"].data)  # type: ignore[attr-defined]
        b = np.asarray(lora[name + ".lora_b"].data)  # type: ignore[attr-defined]
        q = original[name]
        expected = gguf.quants.dequantize(q.data, q.tensor_type) + (b @ a) * (4.0 / 4)  # type: ignore[attr-defined]  # alpha / r
        got = merged[name]
        assert got.tensor_type == gguf.GGMLQuantizationType.Q8_0  # type: ignore[attr-defined]
        values = gguf.quants.dequantize(got.data, got.tensor_type)  # type: ignore[attr-defined]
        update = np.abs(b @ a).mean()
        # Q8_0's own rounding is ~0.008 here; an update left out, or scaled wrongly, would be off by ~0.14
        assert np.abs(values - expected).mean() < 0.2 * update, "the update survives the quantization"
        norm = f"blk.{i}.attn_norm.weight"
        assert bytes(merged[norm].data) == bytes(original[norm].data)  # type: ignore[attr-defined]
    reader = gguf.GGUFReader(str(folder / "merged.gguf"))
    assert reader.fields["tokenizer.ggml.tokens"].contents() == ["<pad>", "a", "b"]
    assert reader.fields["gemma3.block_count"].contents() == 2
    assert reader.fields["general.architecture"].contents() == "gemma3"
    record = json.loads((folder / "manifest.json").read_text())
    assert record["merged"]["file"] == "merged.gguf" and record["merged"]["tensors"] == 2
    assert record["steps"] == 12, "the rest of the manifest is kept"


def test_serving_uses_the_merged_model_only_when_it_is_this_adapters(tmp_path: Path) -> None:
    base = quantized_base(tmp_path / "base.gguf")
    folder = make_adapter(tmp_path / "run", base, rank=4, scale=0.3)
    before = check_for_llama(folder, base)
    assert before.merged is None and "--lora_path" in llama_command(ServeConfig(), base, 8000, before)
    assert run_cli(["tune", "merge", str(folder)]) == 0
    adapter = check_for_llama(folder, base)
    merged = str((folder / "merged.gguf").resolve())
    command = llama_command(ServeConfig(), base, 8000, adapter)
    assert adapter.merged == merged and command[command.index("--model") + 1] == merged
    assert "--lora_path" not in command, "the update is in the weights already: never applied twice"
    assert adapter.tag == before.tag, "the same adapter keeps its served name"
    assert adapter.describe().endswith("served merged: merged.gguf)")

    whole = (folder / "merged.gguf").read_bytes()
    (folder / "merged.gguf").write_bytes(whole[: len(whole) // 2])
    assert check_for_llama(folder, base).merged is None, "a truncated merged model is never served"
    (folder / "merged.gguf").write_bytes(whole)
    section = json.loads((folder / "manifest.json").read_text())["merged"]
    make_adapter(folder, base, rank=4, scale=0.3, seed=9)  # retrained: a new adapter.gguf and manifest
    record = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**record, "merged": section}))
    stale = check_for_llama(folder, base)
    assert stale.merged is None, "a merged model made from the adapter before is never served with this one"
    assert "--lora_path" in llama_command(ServeConfig(), base, 8000, stale)
    other_base = quantized_base(tmp_path / "other.gguf")
    assert run_cli(["tune", "merge", str(folder)]) == 0
    assert check_for_llama(folder, other_base).merged is None, "made from another base file"


def test_bad_input_gets_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = quantized_base(tmp_path / "base.gguf")
    unfinished = make_adapter(tmp_path / "run", base, manifest={"complete": False})
    assert run_cli(["tune", "merge", str(unfinished)]) == 2
    assert "incomplete" in capsys.readouterr().err
    no_base = make_adapter(
        tmp_path / "moved", base, manifest={"base_model": {"path": str(tmp_path / "gone.gguf")}}
    )
    assert run_cli(["tune", "merge", str(no_base)]) == 2
    assert "is not a GGUF file here" in capsys.readouterr().err
    three_layers = quantized_base(tmp_path / "three.gguf", layers=3)
    wider = make_adapter(
        tmp_path / "wide", three_layers, layers=(0, 1, 2), manifest={"base_model": {"path": str(base)}}
    )
    assert run_cli(["tune", "merge", str(wider)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "blk.2.attn_v.weight" in err[0], err
    for folder in (unfinished, no_base, wider):
        assert sorted(p.name for p in folder.iterdir()) == ["adapter.gguf", "manifest.json", "peft"]
