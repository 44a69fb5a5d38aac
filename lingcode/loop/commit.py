"""Commit lingcode's changes when asked (`--commit`, `/commit`): a generated message, hooks always run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lingcode.errors import LingcodeError, UsageError
from lingcode.loop.gitcmd import GitError, git, git_dir
from lingcode.prompts import render

if TYPE_CHECKING:
    from lingcode.model import ModelClient

__all__ = ["commit_changes", "commit_message"]

_MAX_DIFF_CHARS = 12_000


def commit_message(model: ModelClient | None, root: Path, task: str, diff: str) -> str:
    """A commit message written by the model from commit_message.j2; a plain one when the model fails."""
    fallback = _fallback(task)
    if model is None:
        return fallback
    prompt = render("commit_message", root, task=task, diff=diff[:_MAX_DIFF_CHARS])
    try:
        reply = model.complete([{"role": "user", "content": prompt}], max_tokens=200)
    except LingcodeError:
        return fallback
    text = reply.text.strip().strip("`").strip()
    lines = [line.rstrip() for line in text.splitlines()]
    if not lines or not lines[0] or len(lines[0]) > 100:
        return fallback
    return "\n".join(lines).strip() + "\n"


def _fallback(task: str) -> str:
    first = " ".join(task.split())[:60] or "changes"
    return f"lingcode: {first}\n"


def commit_changes(root: Path, paths: Sequence[str], message: str) -> str:
    """Stage exactly `paths` and commit them (the user's hooks run: never --no-verify); return the new sha."""
    if not paths:
        raise UsageError("nothing to commit: lingcode has not changed any file")
    try:
        git(root, "add", "-A", "--", *paths)
        git(root, "commit", "-q", "-m", message, "--", *paths)
    except GitError as exc:
        if not (git_dir(root) / "index.lock").exists():
            raise
        # never deleted by lingcode: a live git may own it, and only the user can tell that one crashed
        raise GitError(
            f"{exc} (another git process is running, or one crashed and left .git/index.lock: remove it "
            "yourself once no git is running, then commit)"
        ) from None
    return git(root, "rev-parse", "HEAD").decode().strip()
