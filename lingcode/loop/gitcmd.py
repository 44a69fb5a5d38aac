"""A small runner for git plumbing commands, shared by the checkpoint, the lock, the run log and commits."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from lingcode.errors import LingcodeError, UsageError

__all__ = ["GitError", "git", "git_dir", "head_commit"]


class GitError(LingcodeError):
    """A git command lingcode needed failed; the message carries git's own first line."""


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # the user's own index must never be picked up by accident, and status must not rewrite it
    env.pop("GIT_INDEX_FILE", None)
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def git(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run `git ARGS` in root and return stdout; raise GitError with git's message when it fails."""
    proc = subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=root,
        input=input,
        capture_output=True,
        env=_environment(env),
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        first = message[0] if message else f"exit status {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {first}")
    return proc.stdout


@lru_cache(maxsize=64)
def _git_dir_cached(root: Path) -> Path:
    proc = subprocess.run(
        ["git", "rev-parse", "--absolute-git-dir"],
        cwd=root,
        capture_output=True,
        env=_environment(None),
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise UsageError(
            f"{root} is not in a git repository; lingcode needs git to keep your work safe (git init)"
        )
    return Path(proc.stdout.decode().strip())


def git_dir(root: Path) -> Path:
    """The repository's git directory (per worktree); UsageError when root is not in a git repository."""
    return _git_dir_cached(root.resolve())


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    out = git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip()
    return out.decode() if out else None
