"""Write a set of file changes all or nothing: back up, record a manifest, replace each file atomically, and
roll back from the manifest when anything fails, now or (after a kill) on the next start."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ReplaceFn = Callable[[str | os.PathLike[str], str | os.PathLike[str]], None]
MANIFEST = "manifest.json"
COMMITTED = "committed"


@dataclass(frozen=True)
class Change:
    """New bytes for a repository-relative path (None deletes it); `mode` is the file mode to write."""

    path: str
    data: bytes | None
    mode: int | None = None


def journal_dir(root: Path) -> Path:
    """Where the journal lives: inside .git when the root has a .git directory, else a dot-folder in root."""
    git_dir = root / ".git"
    return git_dir / "lingcode" / "journal" if git_dir.is_dir() else root / ".lingcode-journal"


def commit(root: Path, changes: list[Change], replace: ReplaceFn = os.replace) -> None:
    """Apply every change or none: on any exception the tree is rolled back and the exception re-raised."""
    jdir = journal_dir(root)
    if jdir.exists():
        shutil.rmtree(jdir)
    jdir.mkdir(parents=True)
    try:
        entries, new_dirs = _record(root, jdir, changes)
        for directory in new_dirs:
            (root / directory).mkdir()
        for change, entry in zip(changes, entries, strict=True):
            target = root / change.path
            if change.data is None:
                target.unlink()
            else:
                _write(root / str(entry["tmp"]), target, change.data, change.mode, replace)
            _fsync_dir(target.parent)
        _write(jdir / f"{COMMITTED}.partial", jdir / COMMITTED, b"", None, os.replace)
    except BaseException:
        recover(root)  # without a manifest nothing was touched yet and this only clears the journal
        raise
    _remove(jdir)


def _record(root: Path, jdir: Path, changes: list[Change]) -> tuple[list[dict[str, object]], list[str]]:
    """Back up every target that exists and write the manifest (durably) before any target is touched."""
    entries: list[dict[str, object]] = []
    new_dirs: list[str] = []
    for number, change in enumerate(changes):
        target = root / change.path
        backup = None
        if os.path.lexists(target):
            backup = str(number)
            _write(jdir / f"{backup}.partial", jdir / backup, target.read_bytes(), None, os.replace)
        for parent in reversed(Path(change.path).parents):
            if str(parent) != "." and not (root / parent).exists() and str(parent) not in new_dirs:
                new_dirs.append(str(parent))
        mode = os.lstat(target).st_mode & 0o7777 if backup is not None else None
        entries.append(
            {"path": change.path, "backup": backup, "mode": mode, "tmp": _tmp_name(change.path, number)}
        )
    manifest = json.dumps({"entries": entries, "new_dirs": new_dirs}).encode()
    _write(jdir / f"{MANIFEST}.partial", jdir / MANIFEST, manifest, None, os.replace)
    _fsync_dir(jdir)
    return entries, new_dirs


def _remove(jdir: Path) -> None:
    """Delete the journal and its lingcode parent folder when nothing else lives there."""
    shutil.rmtree(jdir)
    with contextlib.suppress(OSError):
        jdir.parent.rmdir()


def recover(root: Path) -> list[str]:
    """Roll back an unfinished commit left in root's journal; return the paths it restored."""
    jdir = journal_dir(root)
    if not jdir.exists():
        return []
    manifest_path = jdir / MANIFEST
    if (jdir / COMMITTED).exists() or not manifest_path.exists():
        _remove(jdir)  # finished, or died before touching the tree
        return []
    manifest = json.loads(manifest_path.read_bytes())
    restored: list[str] = []
    for entry in reversed(manifest["entries"]):
        target = root / entry["path"]
        tmp = root / entry["tmp"]
        if os.path.lexists(tmp):
            tmp.unlink()
        if entry["backup"] is None:
            if os.path.lexists(target):
                target.unlink()
                restored.append(entry["path"])
            continue
        data = (jdir / entry["backup"]).read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            _write(tmp, target, data, entry["mode"], os.replace)
            restored.append(entry["path"])
    for directory in reversed(manifest["new_dirs"]):
        with contextlib.suppress(OSError):
            (root / directory).rmdir()
    _remove(jdir)
    return sorted(set(restored))


def _tmp_name(path: str, number: int) -> str:
    head, _, name = path.rpartition("/")
    tmp = f".{name}.lingcode-{os.getpid()}-{number}.tmp"
    return f"{head}/{tmp}" if head else tmp


def _write(tmp: Path, target: Path, data: bytes, mode: int | None, replace: ReplaceFn) -> None:
    """Write data to `tmp` durably, set its mode, then move it over `target` with `replace`."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        replace(tmp, target)
    except BaseException:
        if os.path.lexists(tmp):
            tmp.unlink()
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
