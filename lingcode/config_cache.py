"""A cache of validated configurations: a command whose settings did not change skips validating them.

Validating loads pydantic, which costs more start-up than the rest of a pre-commit hook run. One small JSON
file per (user config file, repository) under `cache_home()/config/` holds the key of the inputs it was
validated from (every source's full text, the LINGCODE_* variables, overrides, flags, and the code that
validates) and the settings that came out. Another key is a miss, so a changed file or variable is never
served stale; the file is replaced atomically, and a cache that cannot be read or written is only a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

FORMAT = 1
"""Bumped when the layout of a cache file changes."""


def slot_path(cache_dir: Path, identity: list[str]) -> Path:
    """The cache file for one combination of config file locations (the user file, the repository)."""
    digest = hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()[:24]
    return cache_dir / "config" / f"{digest}.json"


def input_key(inputs: list[Any]) -> str:
    """A digest of everything a configuration was built from (JSON-serialisable values)."""
    return hashlib.sha256(json.dumps([FORMAT, inputs]).encode("utf-8")).hexdigest()


def lookup(path: Path, key: str) -> dict[str, Any] | None:
    """The settings cached under `key` in `path`, or None (no file, another key, unreadable)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("settings"), dict):
        return None
    settings: dict[str, Any] = entry["settings"]
    return settings


def store(path: Path, key: str, settings: dict[str, Any]) -> None:
    """Write the settings under `key`, replacing the file in one step; failing to write is not an error."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({"key": key, "settings": settings}), encoding="utf-8")
        os.replace(partial, path)  # a reader sees the old file or the new one, never half of one
    except OSError:
        with contextlib.suppress(OSError):  # nothing more to do: the next run misses and tries again
            partial.unlink(missing_ok=True)
