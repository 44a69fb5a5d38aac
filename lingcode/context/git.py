"""Git context for a prompt: branch, status, staged and unstaged diffs, recent commits; plain `git` calls."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lingcode.context.files import git_dir
from lingcode.context.secrets import is_denied, redact
from lingcode.errors import UsageError

_MAX_DIFF_CHARS = 200_000


@dataclass(frozen=True)
class GitContext:
    """The state of the work tree, redacted and with secret-bearing files' hunks left out."""

    branch: str
    status: str
    staged_diff: str
    unstaged_diff: str
    recent_commits: list[str] = field(default_factory=list)


def _run(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    return result.stdout.decode("utf-8", errors="replace") if result.returncode == 0 else ""


def _without_denied(diff: str) -> str:
    kept: list[str] = []
    for section in diff.split("\ndiff --git ")[0:]:
        header = section.split("\n", 1)[0]
        paths = [p[2:] for p in header.replace("diff --git ", "").split(" ") if p[:2] in ("a/", "b/")]
        if not any(is_denied(p) for p in paths):
            kept.append(section)
    text = "\ndiff --git ".join(kept)
    return redact(text[:_MAX_DIFF_CHARS])


def git_context(root: Path, paths: tuple[str, ...] = ()) -> GitContext:
    """Branch, short status, diffs and the last commits (touching `paths` when given); UsageError off git."""
    root = root.resolve()
    if git_dir(root) is None:
        raise UsageError(f"{root}: not a git repository")
    branch = (
        _run(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
        or _run(root, "symbolic-ref", "--short", "HEAD").strip()
    )
    status = "\n".join(
        line for line in _run(root, "status", "--short").splitlines() if not is_denied(line[3:].strip())
    )
    log_args = ["log", "-n", "10", "--format=%h %s"] + (["--", *paths] if paths else [])
    return GitContext(
        branch=branch,
        status=status,
        staged_diff=_without_denied(_run(root, "diff", "--cached", "--no-color")),
        unstaged_diff=_without_denied(_run(root, "diff", "--no-color")),
        recent_commits=[redact(line) for line in _run(root, *log_args).splitlines()],
    )


def changed_files(root: Path) -> list[str]:
    """Files modified, staged, added or untracked in the work tree, repo-relative (none off git)."""
    if git_dir(root.resolve()) is None:
        return []
    out = _run(root, "status", "--porcelain", "-z", "--untracked-files=all")
    paths: list[str] = []
    entries = out.split("\0")
    skip = False
    for entry in entries:
        if skip or len(entry) < 4:
            skip = False
            continue
        code, path = entry[:2], entry[3:]
        skip = "R" in code or "C" in code  # the next entry is the rename's source
        if "D" not in code:
            paths.append(path)
    return paths
