"""Which paths a reply may touch: inside the repository root only, never .git, never through a symlink that
leaves the root, never a hard-linked or special file."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

_DRIVE_RE = re.compile(r"^[A-Za-z]:")


class UnsafePath(Exception):
    """A path the model may not write; the message says why, for the model."""


def normalize(path: str) -> str:
    """The repository-relative POSIX form of a path the model wrote; UnsafePath when it leaves the root."""
    raw = path.strip().replace("\\", "/")
    if not raw or "\x00" in raw:
        raise UnsafePath("the path is empty or holds a NUL character")
    if raw.startswith(("/", "~")) or _DRIVE_RE.match(raw):
        raise UnsafePath("absolute paths are refused; write the path relative to the repository root")
    parts = [part for part in PurePosixPath(raw).parts if part != "."]
    if ".." in parts:
        raise UnsafePath("paths with `..` are refused; write the path relative to the repository root")
    if not parts:
        raise UnsafePath("the path names the repository root itself, not a file")
    if any(part.lower() == ".git" for part in parts):
        raise UnsafePath("files under .git/ are never edited")
    return "/".join(parts)


def check_location(root: Path, rel: str) -> Path:
    """The absolute path for `rel` after checking every existing parent and the file itself on disk."""
    real_root = Path(os.path.realpath(root))
    current = root
    parts = rel.split("/")
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break
        except OSError as exc:
            raise UnsafePath(f"{'/'.join(parts[: index + 1])} cannot be resolved ({exc.strerror})") from None
        if stat.S_ISLNK(info.st_mode):
            if index == len(parts) - 1:
                raise UnsafePath("it is a symbolic link; edit the file it points to instead")
            target = Path(os.path.realpath(current))
            if target != real_root and real_root not in target.parents:
                raise UnsafePath(
                    f"{'/'.join(parts[: index + 1])} is a symbolic link leading outside the repository"
                )
        elif index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
            raise UnsafePath(f"{'/'.join(parts[: index + 1])} is a file, not a directory")
    full = root / rel
    real = Path(os.path.realpath(full))
    if real != real_root and real_root not in real.parents:
        raise UnsafePath("it resolves outside the repository")
    return full


def check_regular(path: Path) -> os.stat_result | None:
    """The stat of an existing regular, singly linked file; None when absent; UnsafePath otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafePath(f"it cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnsafePath("it is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath("it is not a regular file")
    if info.st_nlink > 1:
        raise UnsafePath("it is hard-linked to another file, so writing it would change that file too")
    return info
