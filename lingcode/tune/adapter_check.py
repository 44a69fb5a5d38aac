"""Check a LoRA adapter before any server starts, so a partial, corrupt or mismatched one is never served.

An adapter is a `lingcode tune` output folder (`manifest.json` written last, saying `complete: true`, beside
`adapter.gguf` for llama.cpp and `peft/` for vLLM) or a bare llama.cpp adapter GGUF. Everything is read with
the standard library only: serving must not need the `tune` extra. Every failure is an AdapterError (exit 2,
a configuration error) whose one line names the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lingcode.errors import ConfigError
from lingcode.tune.gguf_header import GgufError, GgufHeader, read_header

MANIFEST = "manifest.json"
KIND = "lingcode-lora"
FORMAT_VERSIONS = (1,)
"""The manifest format versions this lingcode reads."""
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")
_OUTPUT_MARKS = (MANIFEST, "log.jsonl", "peft")
"""Files beside a GGUF that show it is part of a `lingcode tune` output, which must then be complete."""


class AdapterError(ConfigError):
    """An adapter that must not be served (exit 2); the message names the file and what is wrong."""


@dataclass(frozen=True)
class Adapter:
    """A checked adapter: its files, identity, and what its manifest says about how it was trained."""

    source: str
    """The folder or file the user named."""
    gguf: str | None
    """The llama.cpp adapter GGUF (None when checked for vLLM)."""
    peft: str | None
    """The PEFT folder for vLLM (None when there is none or it was not checked)."""
    sha256: str
    """sha256 of the adapter weights (the GGUF, or the PEFT safetensors for vLLM)."""
    rank: int
    alpha: float | None
    architecture: str | None
    steps: int | None
    data_sha256: str | None
    merged: str | None = None
    """The base model with this adapter folded in (`lingcode tune merge`), served in place of both."""

    @property
    def tag(self) -> str:
        """A short name for the served model: a different adapter always gets a different one."""
        return f"lora-{self.sha256[:12]}"

    def describe(self) -> str:
        """The adapter for people: path, steps and data hash."""
        trained = []
        if self.steps is not None:
            trained.append(f"{self.steps} steps")
        if self.data_sha256:
            trained.append(f"data sha256 {self.data_sha256[:12]}")
        if self.merged:
            trained.append(f"served merged: {Path(self.merged).name}")
        return f"{self.gguf or self.peft or self.source}" + (f" ({', '.join(trained)})" if trained else "")

    def as_json(self) -> dict[str, Any]:
        """The adapter as a JSON-ready dict (the server state file and doctor --json)."""
        return asdict(self)


def default_adapter_dir() -> Path:
    """Where the adapter served by default lives: `$XDG_DATA_HOME/lingcode/adapters/default`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lingcode" / "adapters" / "default"


def check_for_llama(source: Path, base_model: Path) -> Adapter:
    """Check an adapter folder or GGUF for llama.cpp on base_model; AdapterError when it must not serve."""
    gguf, manifest = _locate(source, "gguf")
    try:
        header = read_header(gguf)
        base = _base_header(base_model)
    except GgufError as exc:
        raise AdapterError(exc.message) from None
    rank, alpha = _check_lora_tensors(header, base)
    architecture = header.text("general.architecture")
    _check_manifest_architecture(manifest, architecture, gguf)
    sha256 = _sha256(gguf)
    merged = _merged_model(gguf.parent, manifest, sha256, base) if manifest is not None else None
    return Adapter(
        str(source), str(gguf), None, sha256, rank, alpha, architecture, *_trained(manifest), merged
    )


def _merged_model(folder: Path, manifest: dict[str, Any], sha256: str, base: GgufHeader) -> str | None:
    """The output's merged model when it was made from this very adapter and base and has the size it was
    written with; else None (then base + adapter is served, which computes the same).

    The size, not a parse of the file's header: that would cost a quarter of a second (its vocabulary) on
    every command that starts or reuses the server, and the merge writes the file whole or not at all."""
    section = manifest.get("merged")
    if not isinstance(section, dict) or not isinstance(section.get("file"), str):
        return None
    path = (folder / section["file"]).resolve()
    made_from = (section.get("adapter_sha256"), section.get("base_path"), section.get("base_size"))
    this = (sha256, str(base.path.resolve()), base.file_size)
    if folder.resolve() not in path.parents or made_from != this:
        return None
    try:
        whole = path.is_file() and path.stat().st_size == section.get("size")
    except OSError:
        return None
    return str(path) if whole else None


def check_for_vllm(source: Path) -> Adapter:
    """Check a `lingcode tune` folder's PEFT adapter for vLLM; AdapterError when it must not be served."""
    peft, manifest = _locate(source, "peft")
    for name in PEFT_FILES:
        if not (peft / name).is_file():
            raise AdapterError(f"{peft} lacks {name}: not a complete PEFT adapter")
    config = _json_object(peft / PEFT_FILES[0])
    rank = config.get("r")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        raise AdapterError(f"{peft / PEFT_FILES[0]}: `r` is {rank!r}, not a positive rank")
    weights = peft / PEFT_FILES[1]
    _check_safetensors(weights)
    alpha = config.get("lora_alpha")
    architecture = _manifest_text(manifest, "base_model", "architecture")
    return Adapter(
        str(source),
        None,
        str(peft),
        _sha256(weights),
        rank,
        float(alpha) if isinstance(alpha, int | float) else None,
        architecture,
        *_trained(manifest),
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, when it is a complete output of a format this lingcode reads."""
    path = folder / MANIFEST
    if not path.is_file():
        raise AdapterError(
            f"{folder} has no {MANIFEST}: its training run has not finished or was interrupted, "
            "and a partly written adapter is never served"
        )
    manifest = _json_object(path)
    if manifest.get("kind") != KIND:
        raise AdapterError(f"{path}: kind is {manifest.get('kind')!r}, not {KIND!r}: not a lingcode adapter")
    version = manifest.get("format_version")
    if version not in FORMAT_VERSIONS:
        known = ", ".join(str(v) for v in FORMAT_VERSIONS)
        raise AdapterError(f"{path}: format_version {version!r} is not one this lingcode reads ({known})")
    if manifest.get("complete") is not True:
        raise AdapterError(
            f"{folder} is incomplete ({MANIFEST} does not say complete: true): its training run has not "
            "finished or was interrupted, and a partly written adapter is never served"
        )
    return manifest


def _locate(source: Path, kind: str) -> tuple[Path, dict[str, Any] | None]:
    """The adapter file (kind "gguf") or folder ("peft") named by source, and its manifest if any."""
    source = source.expanduser()
    if source.is_dir():
        manifest = read_manifest(source)
        files = manifest.get("files")
        name = files.get(kind) if isinstance(files, dict) else None
        if not isinstance(name, str) or not name:
            raise AdapterError(f"{source / MANIFEST} names no `files.{kind}`: nothing to serve")
        target = (source / name).resolve()
        if source.resolve() not in target.parents:
            raise AdapterError(f"{source / MANIFEST}: files.{kind} {name!r} is outside {source}")
        if not (target.is_dir() if kind == "peft" else target.is_file()):
            raise AdapterError(f"{source} lacks {name}, which its {MANIFEST} names")
        return target, manifest
    if not source.is_file():
        raise AdapterError(f"no such adapter: {source}")
    if kind == "peft":
        raise AdapterError(f"{source} is a file; vLLM serves a `lingcode tune` output folder (its peft/)")
    folder = source.parent
    if any((folder / name).exists() for name in _OUTPUT_MARKS):
        # a file inside a `lingcode tune` output: that output must be complete, and name this file
        manifest = read_manifest(folder)
        files = manifest.get("files")
        if not isinstance(files, dict) or files.get("gguf") != source.name:
            raise AdapterError(f"{folder / MANIFEST} does not name {source.name} as its adapter")
        return source.resolve(), manifest
    return source.resolve(), None


def _check_lora_tensors(adapter: GgufHeader, base: GgufHeader) -> tuple[int, float | None]:
    """The adapter's rank and alpha, after checking it is a LoRA for base: type, architecture, shapes."""
    path = adapter.path
    if adapter.data_end > adapter.file_size:
        raise AdapterError(
            f"{path} is truncated: its tensors need {adapter.data_end} bytes, "
            f"the file has {adapter.file_size}"
        )
    kind, lora = adapter.text("general.type"), adapter.text("adapter.type")
    if kind != "adapter" or lora != "lora":
        raise AdapterError(f"{path} is not a LoRA adapter (general.type {kind!r}, adapter.type {lora!r})")
    mine, theirs = adapter.text("general.architecture"), base.text("general.architecture")
    if mine != theirs:
        raise AdapterError(
            f"{path} is an adapter for {mine!r}, but the base model {base.path.name} is {theirs!r}"
        )
    ranks = set()
    for name, a in adapter.tensors.items():
        if not name.endswith(".lora_a"):
            if not name.endswith(".lora_b"):
                raise AdapterError(f"{path}: tensor {name} is neither a lora_a nor a lora_b")
            continue
        target = name[: -len(".lora_a")]
        b = adapter.tensors.get(target + ".lora_b")
        weight = base.tensors.get(target)
        if b is None:
            raise AdapterError(f"{path}: {name} has no {target}.lora_b")
        if weight is None:
            raise AdapterError(f"{path}: the base model {base.path.name} has no tensor {target}")
        if (a.shape[0], b.shape[-1], a.shape[-1]) != (weight.shape[0], weight.shape[-1], b.shape[0]):
            raise AdapterError(
                f"{path}: {target} does not fit the base model {base.path.name} "
                f"(lora_a {list(a.shape)}, lora_b {list(b.shape)}, weight {list(weight.shape)})"
            )
        ranks.add(a.shape[-1])
    unpaired = [n for n in adapter.tensors if n.endswith(".lora_b") and n[:-1] + "a" not in adapter.tensors]
    if unpaired or not ranks:
        raise AdapterError(
            f"{path}: " + (f"{unpaired[0]} has no lora_a" if unpaired else "it holds no LoRA tensors")
        )
    alpha = adapter.metadata.get("adapter.lora.alpha")
    return max(ranks), float(alpha) if isinstance(alpha, int | float) else None


def _check_manifest_architecture(
    manifest: dict[str, Any] | None, architecture: str | None, gguf: Path
) -> None:
    expected = _manifest_text(manifest, "base_model", "architecture")
    if expected is not None and expected != architecture:
        raise AdapterError(
            f"{gguf} is for {architecture!r}, but its {MANIFEST} says {expected!r} (mixed outputs)"
        )


def _check_safetensors(path: Path) -> None:
    """A safetensors file whose JSON header reads and whose tensors lie within the file."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        raw = handle.read(8)
        length = int.from_bytes(raw, "little") if len(raw) == 8 else -1
        if not 0 < length <= size - 8:
            raise AdapterError(f"{path} is not a safetensors file (truncated or corrupt header)")
        try:
            header = json.loads(handle.read(length))
        except (ValueError, UnicodeDecodeError):
            raise AdapterError(f"{path} is not a safetensors file (its header is not JSON)") from None
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and isinstance(v.get("data_offsets"), list)
    ]
    if not ends or max(ends) > size - 8 - length:
        raise AdapterError(f"{path} is truncated or holds no tensors")


def _trained(manifest: dict[str, Any] | None) -> tuple[int | None, str | None]:
    """(steps, data sha256) from the manifest, None where there is no manifest."""
    if manifest is None:
        return None, None
    steps = manifest.get("steps")
    data = manifest.get("data_sha256")
    return (steps if isinstance(steps, int) else None), (data if isinstance(data, str) else None)


def _manifest_text(manifest: dict[str, Any] | None, section: str, key: str) -> str | None:
    part = manifest.get(section) if manifest is not None else None
    value = part.get(key) if isinstance(part, dict) else None
    return value if isinstance(value, str) else None


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AdapterError(f"{path} is not a JSON object")
    return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_BASES: dict[tuple[str, int, int], GgufHeader] = {}
"""Base model headers already read by this process, by (path, size, mtime): a benchmark checks often."""


def _base_header(path: Path) -> GgufHeader:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _BASES:
        _BASES[key] = read_header(path)
    return _BASES[key]
