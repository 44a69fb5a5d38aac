"""The base model a LoRA adapter is trained on: the embedded GGUF (dequantized by transformers) or a folder
of Hugging Face weights (a larger model a user hosts with vLLM). Found, checked and hashed before any
training starts, so a wrong path or a truncated file is one line, not a traceback minutes later.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingcode.tune.errors import BaseModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Hugging Face model_type -> llama.cpp architecture name (what an adapter GGUF must declare). Only
# architectures whose q/k weights neither converter permutes (transformers' GGUF loader un-permutes them for
# llama, llama.cpp's converter permutes them), so LoRA factors map across by name alone.
ARCHITECTURES = {
    "gemma3_text": "gemma3",
    "gemma3": "gemma3",
    "gemma2": "gemma2",
    "qwen2": "qwen2",
    "qwen3": "qwen3",
}
_HF_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class BaseModel:
    """Where the base is (a .gguf file or a weights folder), its content hash, its llama.cpp architecture."""

    path: Path
    sha256: str
    architecture: str

    @property
    def is_gguf(self) -> bool:
        """Whether the base is a GGUF file (else a Hugging Face weights folder)."""
        return self.path.is_file()


def resolve(spec: str | None) -> BaseModel:
    """The base named by `--base` (None: the embedded model), checked; BaseModelError (exit 2) otherwise."""
    if spec is None:
        from lingcode.model.gguf import embedded_model_path

        path = embedded_model_path()
    else:
        path = Path(spec).expanduser().resolve()
    if path.is_file():
        return BaseModel(path, _file_sha256(path), _gguf_architecture(path))
    if path.is_dir() and (path / "config.json").is_file():
        return BaseModel(path, _folder_sha256(path), _hf_architecture(path))
    raise BaseModelError(
        f"unknown base model {spec}: give a .gguf file or a folder of Hugging Face weights (with config.json)"
    )


def _gguf_architecture(path: Path) -> str:
    """general.architecture of a GGUF whose tensors all lie within the file (a truncated copy is refused)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise BaseModelError(f"base model {path} is not a GGUF file (no GGUF magic)")
    try:
        from gguf import GGUFReader

        reader = GGUFReader(path)
        size = path.stat().st_size
        end = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
        field = reader.fields["general.architecture"]
        architecture = bytes(field.parts[field.data[0]]).decode("utf-8")
    except Exception as exc:  # the reader raises ValueError, KeyError, IndexError on damaged files alike
        raise BaseModelError(
            f"base model {path} is a damaged GGUF file ({type(exc).__name__}: {exc})"
        ) from None
    if end > size:
        raise BaseModelError(f"base model {path} is truncated ({size} bytes, its tensors need {end})")
    if architecture not in ARCHITECTURES.values():
        raise BaseModelError(
            f"base model {path}: architecture {architecture} is not supported for LoRA export"
        )
    return architecture


def _hf_architecture(folder: Path) -> str:
    try:
        config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"base model {folder}: unreadable config.json ({exc})") from None
    model_type = str(config.get("model_type", ""))
    if model_type not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise BaseModelError(
            f"base model {folder}: model_type {model_type!r} is not supported (known: {known})"
        )
    return ARCHITECTURES[model_type]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _folder_sha256(folder: Path) -> str:
    """One hash over the names and contents of the folder's weight, config and tokenizer files."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.endswith(_HF_WEIGHT_SUFFIXES):
            digest.update(f"{path.name}\0{_file_sha256(path)}\0".encode())
    return digest.hexdigest()


def load(base: BaseModel, device: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base as a float32 transformers model (bfloat16 on a GPU) and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    where: dict[str, Any] = {}
    folder = base.path
    if base.is_gguf:
        folder, where["gguf_file"] = base.path.parent, base.path.name
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), **where)
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, **where)
    except (OSError, ValueError, KeyError) as exc:
        raise BaseModelError(f"cannot load base model {base.path}: {exc}") from None
    model.requires_grad_(False)
    torch.nn.Module.to(model, device)
    return model, tokenizer
