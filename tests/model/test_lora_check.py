"""Checking a LoRA adapter before anything is served: every way an output can be partial, corrupt or made for
another model is refused with one line (exit 2), and `lingcode serve` never starts a server for it.

Adapters are written here with the `gguf` package's own writer (not lingcode's reader), on a tiny base GGUF
of the same layout as the embedded Gemma 3 (`make_base`); `make_adapter` is shared with the serving tests.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from lingcode.config import cache_home
from lingcode.tune.adapter_check import (
    AdapterError,
    check_for_llama,
    check_for_vllm,
    default_adapter_dir,
)

gguf = pytest.importorskip("gguf", reason="the gguf package comes with the tune extra")

HIDDEN, V_OUT = 640, 256
"""Gemma 3 270M: attn_v maps the 640-wide hidden state to one 256-wide value head."""


def make_base(path: Path, arch: str = "gemma3", layers: int = 2) -> Path:
    """A tiny base model GGUF with the embedded Gemma's attn_v shapes (no vocabulary, no other weights)."""
    writer = gguf.GGUFWriter(str(path), arch)
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_v.weight", np.zeros((V_OUT, HIDDEN), dtype=np.float16))
    _write(writer)
    return path


def _write(writer: gguf.GGUFWriter) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def base_shapes(base: Path, layers: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(in, out) of each layer's attn_v in base, read with the gguf package's reader."""
    reader = gguf.GGUFReader(str(base))
    shapes = {}
    for tensor in reader.tensors:
        for i in layers:
            if tensor.name == f"blk.{i}.attn_v.weight":
                shapes[i] = (int(tensor.shape[0]), int(tensor.shape[1]))
    return shapes


def make_adapter(
    folder: Path,
    base: Path,
    *,
    layers: Sequence[int] = (0, 1),
    rank: int = 4,
    scale: float = 0.0,
    seed: int = 0,
    arch: str = "gemma3",
    manifest: dict[str, object] | None = None,
) -> Path:
    """A `lingcode tune` output folder: adapter.gguf, peft/ and (last) manifest.json; scale 0 is a no-op."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(folder / "adapter.gguf"), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    tensors: dict[str, np.ndarray] = {}
    for i, (width, out) in base_shapes(base, layers).items():
        a = (rng.standard_normal((rank, width)) * scale).astype(np.float32)  # torch shape (r, in)
        b = (rng.standard_normal((out, rank)) * scale).astype(np.float32)  # torch shape (out, r)
        writer.add_tensor(f"blk.{i}.attn_v.weight.lora_a", a)
        writer.add_tensor(f"blk.{i}.attn_v.weight.lora_b", b)
        tensors[f"base_model.model.model.layers.{i}.self_attn.v_proj.lora_A.weight"] = a
        tensors[f"base_model.model.model.layers.{i}.self_attn.v_proj.lora_B.weight"] = b
    _write(writer)
    _write_peft(folder / "peft", tensors, rank)
    record = {
        "kind": "lingcode-lora",
        "complete": True,
        "format_version": 1,
        "base_model": {"path": str(base), "sha256": "0" * 64, "architecture": arch},
        "data_sha256": "d" * 64,
        "seed": seed,
        "steps": 12,
        "lora": {"r": rank, "alpha": rank, "targets": ["v_proj"]},
        "files": {"gguf": "adapter.gguf", "peft": "peft"},
        "train": {},
        "lingcode_version": "test",
    }
    record.update(manifest or {})
    (folder / "manifest.json").write_text(json.dumps(record))
    return folder


def _write_peft(folder: Path, tensors: dict[str, np.ndarray], rank: int) -> None:
    """PEFT's two files; the safetensors layout (u64 header length, JSON header, data) written by hand."""
    folder.mkdir(exist_ok=True)
    config = {"peft_type": "LORA", "r": rank, "lora_alpha": rank, "target_modules": ["v_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    header: dict[str, object] = {}
    data = b""
    for name, array in tensors.items():
        raw = array.tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    head = json.dumps(header).encode()
    (folder / "adapter_model.safetensors").write_bytes(struct.pack("<Q", len(head)) + head + data)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_base(tmp_path / "base.gguf")


def test_a_complete_output_passes_and_says_how_it_was_trained(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base, rank=4)
    adapter = check_for_llama(folder, base)
    assert adapter.gguf == str((folder / "adapter.gguf").resolve()) and adapter.rank == 4
    assert (adapter.alpha, adapter.architecture, adapter.steps) == (4.0, "gemma3", 12)
    assert adapter.describe().endswith("(12 steps, data sha256 dddddddddddd)")
    other = check_for_llama(make_adapter(tmp_path / "other", base, scale=0.1, seed=1), base)
    assert other.tag != adapter.tag, "a different adapter must get a different served name"
    assert check_for_vllm(folder).peft == str((folder / "peft").resolve())


def test_a_bare_adapter_gguf_passes(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base)
    bare = tmp_path / "bare.gguf"
    bare.write_bytes((folder / "adapter.gguf").read_bytes())
    assert check_for_llama(bare, base).steps is None


def _refused(source: Path, base: Path, match: str) -> None:
    with pytest.raises(AdapterError, match=match) as caught:
        check_for_llama(source, base)
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message


def test_an_output_still_being_written_is_refused(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base)
    (folder / "manifest.json").unlink()  # the trainer writes it last
    _refused(folder, base, r"has no manifest.json: its training run has not finished")
    _refused(
        folder / "adapter.gguf", base, r"has no manifest.json"
    )  # (its log.jsonl is absent, peft/ is not)


def test_the_file_of_an_unfinished_output_is_refused(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base, manifest={"complete": False})
    _refused(folder, base, r"is incomplete \(manifest.json does not say complete: true\)")
    _refused(folder / "adapter.gguf", base, r"is incomplete")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"kind": "something-else"}, r"kind is 'something-else', not 'lingcode-lora'"),
        ({"format_version": 9}, r"format_version 9 is not one this lingcode reads \(1\)"),
        ({"files": {"gguf": "missing.gguf"}}, r"lacks missing.gguf, which its manifest.json names"),
        ({"files": {"gguf": "../base.gguf"}}, r"files.gguf '../base.gguf' is outside"),
        ({"base_model": {"architecture": "llama"}}, r"is for 'gemma3', but its manifest.json says 'llama'"),
    ],
)
def test_a_manifest_that_cannot_be_trusted_is_refused(
    tmp_path: Path, base: Path, change: dict[str, object], match: str
) -> None:
    _refused(make_adapter(tmp_path / "run", base, manifest=change), base, match)


def test_a_manifest_that_is_not_json_is_refused(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base)
    (folder / "manifest.json").write_text('{"kind": "lingcode-lo')
    _refused(folder, base, r"manifest.json is not readable JSON")


def test_a_truncated_gguf_is_refused(tmp_path: Path, base: Path) -> None:
    gguf_file = make_adapter(tmp_path / "run", base) / "adapter.gguf"
    whole = gguf_file.read_bytes()
    gguf_file.write_bytes(whole[:-100])
    _refused(tmp_path / "run", base, r"adapter.gguf is truncated: its tensors need \d+ bytes, the file has")
    gguf_file.write_bytes(whole[:200])
    _refused(tmp_path / "run", base, r"adapter.gguf is not a valid GGUF file: .*truncated")


def test_a_file_with_the_wrong_magic_is_refused(tmp_path: Path, base: Path) -> None:
    gguf_file = make_adapter(tmp_path / "run", base) / "adapter.gguf"
    gguf_file.write_bytes(b"PK\x03\x04" + gguf_file.read_bytes()[4:])
    _refused(tmp_path / "run", base, r"adapter.gguf is not a GGUF file \(it starts with b'PK\\x03\\x04'")
    gguf_file.write_bytes(b"")
    _refused(tmp_path / "run", base, r"is not a GGUF file: it is 0 bytes long")


def test_a_model_file_is_not_an_adapter(tmp_path: Path, base: Path) -> None:
    _refused(base, base, r"base.gguf is not a LoRA adapter \(general.type None, adapter.type None\)")


def test_an_adapter_for_another_architecture_is_refused(tmp_path: Path, base: Path) -> None:
    llama_base = make_base(tmp_path / "llama.gguf", arch="llama")
    folder = make_adapter(tmp_path / "run", llama_base, arch="llama")
    _refused(folder, base, r"is an adapter for 'llama', but the base model base.gguf is 'gemma3'")


def test_an_adapter_for_a_smaller_model_of_the_same_architecture_is_refused(
    tmp_path: Path, base: Path
) -> None:
    folder = make_adapter(tmp_path / "run", make_base(tmp_path / "deep.gguf", layers=4), layers=(3,))
    _refused(folder, base, r"the base model base.gguf has no tensor blk.3.attn_v.weight")


def test_an_adapter_whose_shapes_do_not_fit_is_refused(tmp_path: Path, base: Path) -> None:
    wide = tmp_path / "wide.gguf"
    writer = gguf.GGUFWriter(str(wide), "gemma3")
    writer.add_tensor("blk.0.attn_v.weight", np.zeros((512, HIDDEN), dtype=np.float16))
    _write(writer)
    _refused(make_adapter(tmp_path / "run", wide, layers=(0,)), base, r"blk.0.attn_v.weight does not fit")


def test_a_missing_adapter_is_named(tmp_path: Path, base: Path) -> None:
    _refused(tmp_path / "nowhere", base, r"no such adapter: .*nowhere")


def test_vllm_refuses_a_partial_peft_folder(tmp_path: Path, base: Path) -> None:
    folder = make_adapter(tmp_path / "run", base)
    weights = folder / "peft" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    with pytest.raises(AdapterError, match=r"adapter_model.safetensors is truncated"):
        check_for_vllm(folder)
    weights.unlink()
    with pytest.raises(AdapterError, match=r"peft lacks adapter_model.safetensors"):
        check_for_vllm(folder)
    with pytest.raises(AdapterError, match=r"vLLM serves a `lingcode tune` output folder"):
        check_for_vllm(folder / "adapter.gguf")


def test_the_default_adapter_lives_in_the_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_adapter_dir() == tmp_path / "data" / "lingcode" / "adapters" / "default"


@pytest.mark.parametrize("engine", ["llama-cpp", "vllm"])
def test_serve_refuses_a_bad_adapter_in_one_line_and_starts_nothing(
    tmp_path: Path, base: Path, engine: str
) -> None:
    folder = make_adapter(tmp_path / "run", base, manifest={"complete": False})
    args = ["serve", "--engine", engine, "--model", str(base), "--lora", str(folder), "--port", "1"]
    code = f"import sys; from lingcode.cli import main; main({args!r})"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"lingcode: {folder} is incomplete (manifest.json does not say complete: true): its training run "
        "has not finished or was interrupted, and a partly written adapter is never served"
    ]
    assert result.stdout == "" and not (cache_home() / "embedded-server.json").exists()
