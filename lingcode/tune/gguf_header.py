"""A bounds-checked reader of a GGUF file's header: its metadata and its tensors' names, shapes and sizes.

Standard library only (serving must not need the `gguf` package of the `tune` extra). Every length it reads is
checked against the file, so a truncated or corrupt file is reported, never trusted; the file is
memory-mapped, so a model's header (the embedded model's 262k-token vocabulary) is walked without reading its
weights. Layout (GGUF v2 and v3, little-endian): magic `GGUF`, version u32, tensor count u64, metadata count
u64; each metadata entry is a string key, a u32 value type and the value; each tensor entry is a string name,
a u32 dimension count, u64 dimensions (ggml order, fastest-varying first), a u32 ggml type and a u64 offset
into the data section, which starts at the next multiple of `general.alignment` (default 32). A string is a
u64 length and UTF-8 bytes.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from lingcode.errors import ConfigError

MAGIC = b"GGUF"
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_MAX_COUNT = 1 << 24
"""More tensors, metadata entries or array items than any real model has: a corrupt header."""
_KEPT_ARRAY = 64
"""Arrays longer than this (vocabularies) are skipped, not kept: the checks need none of them."""
_TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2),
}  # fmt: skip
"""ggml type id -> (elements per block, bytes per block), for the types adapter and model files use."""


class GgufError(ConfigError):
    """A file that is not a readable GGUF (exit 2); the message names the file and what is wrong."""


@dataclass(frozen=True)
class Tensor:
    """One tensor's entry: its ggml shape (ne, fastest-varying first), type id and data offset."""

    shape: tuple[int, ...]
    type_id: int
    offset: int

    def nbytes(self) -> int | None:
        """Bytes of data the tensor holds; None for a type this reader does not know."""
        if self.type_id not in _TYPE_SIZES:
            return None
        per_block, block_bytes = _TYPE_SIZES[self.type_id]
        count = 1
        for dim in self.shape:
            count *= dim
        return -(-count // per_block) * block_bytes


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF file says about itself, and how many bytes its tensor data needs."""

    path: Path
    version: int
    metadata: dict[str, object]
    tensors: dict[str, Tensor]
    data_end: int
    """The file size its header promises: the end of its last tensor's data."""
    file_size: int

    def text(self, key: str) -> str | None:
        """A string metadata value, or None when absent or not a string."""
        value = self.metadata.get(key)
        return value if isinstance(value, str) else None


class _Cursor:
    """Reads little-endian values from a buffer, raising GgufError instead of reading past its end."""

    def __init__(self, data: mmap.mmap | bytes, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def fail(self, what: str) -> GgufError:
        return GgufError(f"{self.path} is not a valid GGUF file: {what}")

    def unpack(self, fmt: str) -> object:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise self.fail(f"it ends at byte {len(self.data)} inside its header (truncated)")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def count(self, fmt: str = "<Q") -> int:
        value = self.unpack(fmt)
        assert isinstance(value, int)
        if value > _MAX_COUNT and fmt == "<Q":
            raise self.fail(f"a count of {value} at byte {self.pos - 8} (corrupt header)")
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        assert isinstance(length, int)
        if self.pos + length > len(self.data):
            raise self.fail(f"a string of {length} bytes runs past the end of the file (truncated)")
        raw = bytes(self.data[self.pos : self.pos + length])
        self.pos += length
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"a string at byte {self.pos - length} is not UTF-8 (corrupt)") from None

    def skip(self, type_id: int) -> None:
        """Step over a value without building it (a vocabulary's strings, 262k of them)."""
        if type_id == _STRING:
            length = self.unpack("<Q")
            assert isinstance(length, int)
            if self.pos + length > len(self.data):
                raise self.fail(f"a string of {length} bytes runs past the end of the file (truncated)")
            self.pos += length
        elif type_id in _SCALARS:
            self.pos += struct.calcsize(_SCALARS[type_id])
            if self.pos > len(self.data):
                raise self.fail("the file ends inside its header (truncated)")
        else:
            self.value(type_id)

    def value(self, type_id: int) -> object:
        if type_id in _SCALARS:
            return self.unpack(_SCALARS[type_id])
        if type_id == _STRING:
            return self.string()
        if type_id == _ARRAY:
            item_type, length = self.count("<I"), self.count()
            if length <= _KEPT_ARRAY:
                return [self.value(item_type) for _ in range(length)]
            for _ in range(length):
                self.skip(item_type)
            return None
        raise self.fail(f"unknown metadata value type {type_id} at byte {self.pos - 4}")


def read_header(path: Path) -> GgufHeader:
    """Read and check the header of the GGUF file at path; GgufError (exit 2) when it is not one."""
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size < len(MAGIC):
                raise GgufError(f"{path} is not a GGUF file: it is {size} bytes long")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(_Cursor(data, path), size)
    except OSError as exc:
        raise GgufError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse(cursor: _Cursor, size: int) -> GgufHeader:
    magic = bytes(cursor.data[:4])
    if magic != MAGIC:
        raise GgufError(f"{cursor.path} is not a GGUF file (it starts with {magic!r}, not {MAGIC!r})")
    cursor.pos = 4
    version = cursor.count("<I")
    if version not in (2, 3):
        raise cursor.fail(f"GGUF version {version} (this reader knows 2 and 3)")
    n_tensors, n_metadata = cursor.count(), cursor.count()
    metadata = {}
    for _ in range(n_metadata):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.count("<I"))
    tensors = {}
    for _ in range(n_tensors):
        name = cursor.string()
        n_dims = cursor.count("<I")
        if not 1 <= n_dims <= 4:
            raise cursor.fail(f"tensor {name} has {n_dims} dimensions")
        shape = tuple(cursor.count() for _ in range(n_dims))
        type_id, offset = cursor.count("<I"), cursor.unpack("<Q")
        assert isinstance(offset, int)
        tensors[name] = Tensor(shape, type_id, offset)
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0:
        raise cursor.fail(f"general.alignment is {alignment!r}")
    start = -(-cursor.pos // alignment) * alignment
    ends = [start + t.offset + n for t in tensors.values() if (n := t.nbytes()) is not None]
    return GgufHeader(cursor.path, version, metadata, tensors, max(ends, default=start), size)
