"""Record the user's uncommitted work before lingcode's first edit, and restore it byte for byte (`undo`).

A checkpoint is a commit on a private ref whose tree holds:
    worktree/    HEAD's tree with every dirty path (modified, staged, untracked-not-ignored) replaced by its
                 work-tree bytes, hashed without filters so line endings and attributes cannot alter them
    index        the raw bytes of the user's index file, so partially staged files come back exactly
    index-tree   the index as a tree (keeps staged blobs reachable for gc), when the index has no conflicts
    meta.json    HEAD at the time and the list of dirty paths
It is built with a temporary index (GIT_INDEX_FILE), so the user's index and files are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lingcode.errors import UsageError
from lingcode.loop.gitcmd import git, git_dir, head_commit

__all__ = ["Checkpoint", "create_checkpoint", "diff_since", "drop_checkpoint", "load_checkpoint", "restore"]

_NULL_SHA = "0" * 40


@dataclass(frozen=True)
class Checkpoint:
    """A recorded state of the work tree and index."""

    commit: str
    head: str | None
    dirty: tuple[str, ...]
    created: float


def checkpoint_ref(root: Path) -> str:
    """The private ref; per worktree in linked worktrees, so parallel runs in worktrees do not collide."""
    common = git(root, "rev-parse", "--git-common-dir").decode().strip()
    linked = (root / common).resolve() != git_dir(root)
    return "refs/worktree/lingcode/checkpoint" if linked else "refs/lingcode/checkpoint"


@contextlib.contextmanager
def _temp_index(root: Path) -> Iterator[dict[str, str]]:
    folder = git_dir(root) / "lingcode"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="index-", dir=folder)
    os.close(fd)
    os.unlink(name)  # git wants to create the index itself
    try:
        yield {"GIT_INDEX_FILE": name}
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def dirty_paths(root: Path) -> list[str]:
    """Paths that differ from HEAD in the index or the work tree, untracked-not-ignored files included."""
    out = git(
        root,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--ignore-submodules=all",
    )
    return sorted({entry[3:].decode("utf-8", "surrogateescape") for entry in out.split(b"\0") if entry})


def _snapshot_tree(root: Path, dirty: Iterable[str], env: dict[str, str]) -> str:
    """Write HEAD's tree with the dirty paths' raw work-tree bytes into the temp index; return the tree id."""
    if head_commit(root):
        git(root, "read-tree", "HEAD", env=env)
    else:
        git(root, "read-tree", "--empty", env=env)
    files: list[str] = []
    lines: list[str] = []
    for rel in dirty:
        path = root / rel
        try:
            info = path.lstat()
        except FileNotFoundError:
            lines.append(f"0 {_NULL_SHA}\t{rel}")
            continue
        if stat.S_ISLNK(info.st_mode):
            sha = (
                git(root, "hash-object", "-w", "--stdin", input=os.fsencode(os.readlink(path)))
                .decode()
                .strip()
            )
            lines.append(f"120000 {sha}\t{rel}")
        elif stat.S_ISREG(info.st_mode):
            files.append(rel)
    if files:
        shas = git(
            root, "hash-object", "-w", "--no-filters", "--stdin-paths", input="\n".join(files).encode()
        )
        for rel, sha in zip(files, shas.decode().split(), strict=True):
            mode = "100755" if os.access(root / rel, os.X_OK) else "100644"
            lines.append(f"{mode} {sha}\t{rel}")
    if lines:
        git(root, "update-index", "-z", "--index-info", input="\0".join(lines).encode() + b"\0", env=env)
    return git(root, "write-tree", env=env).decode().strip()


def create_checkpoint(root: Path, ref: str | None = None) -> Checkpoint:
    """Record the work tree and index on the private ref (or `ref`); files and index stay untouched."""
    index_file = git_dir(root) / "index"
    index_bytes = index_file.read_bytes() if index_file.exists() else None
    head = head_commit(root)
    dirty = dirty_paths(root)
    entries: list[str] = []
    with _temp_index(root) as env:
        entries.append(f"040000 tree {_snapshot_tree(root, dirty, env)}\tworktree")
    if index_bytes is not None:
        blob = git(root, "hash-object", "-w", "--stdin", input=index_bytes).decode().strip()
        entries.append(f"100644 blob {blob}\tindex")
        with _temp_index(root) as env:
            Path(env["GIT_INDEX_FILE"]).write_bytes(index_bytes)
            tree = git(root, "write-tree", env=env, check=False).decode().strip()
        if tree:
            entries.append(f"040000 tree {tree}\tindex-tree")
    created = time.time()
    meta = json.dumps({"head": head, "dirty": dirty, "created": created}).encode()
    meta_blob = git(root, "hash-object", "-w", "--stdin", input=meta).decode().strip()
    entries.append(f"100644 blob {meta_blob}\tmeta.json")
    tree = git(root, "mktree", input=("\n".join(entries) + "\n").encode()).decode().strip()
    parents = ["-p", head] if head else []
    commit = (
        git(
            root,
            *("-c", "user.name=lingcode", "-c", "user.email=lingcode@localhost"),
            *("commit-tree", tree, *parents, "-m", "lingcode checkpoint"),
        )
        .decode()
        .strip()
    )
    git(root, "update-ref", ref or checkpoint_ref(root), commit)
    return Checkpoint(commit, head, tuple(dirty), created)


def load_checkpoint(root: Path) -> Checkpoint | None:
    """The recorded checkpoint, or None when there is none."""
    ref = checkpoint_ref(root)
    commit = git(root, "rev-parse", "--verify", "-q", ref, check=False).decode().strip()
    if not commit:
        return None
    meta = json.loads(git(root, "cat-file", "blob", f"{commit}:meta.json"))
    return Checkpoint(commit, meta["head"], tuple(meta["dirty"]), float(meta["created"]))


def drop_checkpoint(root: Path) -> None:
    """Forget the checkpoint (after an undo or a commit)."""
    git(root, "update-ref", "-d", checkpoint_ref(root), check=False)


def _tree_entries(root: Path, treeish: str) -> dict[str, tuple[str, str]]:
    out = git(root, "ls-tree", "-r", "-z", "--full-tree", treeish)
    entries: dict[str, tuple[str, str]] = {}
    for item in out.split(b"\0"):
        if item:
            meta, _, name = item.partition(b"\t")
            mode, _kind, sha = meta.decode().split()
            entries[name.decode("utf-8", "surrogateescape")] = (mode, sha)
    return entries


UNDONE_REF = "refs/lingcode/before-undo"
"""Where the state just before an undo is kept, so an undo never loses work done after the checkpoint."""


def restore(root: Path, checkpoint: Checkpoint) -> list[str]:
    """Put the work tree and index back exactly as recorded; return the paths that were written or removed.

    The state being replaced is itself recorded first (on UNDONE_REF), so nothing is ever lost."""
    if head_commit(root) != checkpoint.head:
        raise UsageError(
            "HEAD moved since lingcode's checkpoint (a commit was made); undo restores only uncommitted "
            "work, use git revert or git reset for commits"
        )
    # before any write: failing at the index after the tree was restored would be a partial undo
    _refuse_if_index_locked(root)
    create_checkpoint(root, UNDONE_REF)
    recorded = _tree_entries(root, f"{checkpoint.commit}:worktree")
    was_dirty = set(checkpoint.dirty)
    changed: list[str] = []
    from_head: list[str] = []
    for rel in sorted(was_dirty | set(dirty_paths(root))):
        entry = recorded.get(rel)
        if entry is None:
            if _remove(root, rel):
                changed.append(rel)
        elif rel in was_dirty:
            if _write_raw(root, rel, *entry):
                changed.append(rel)
        else:
            from_head.append(rel)
    if from_head:
        # clean paths go back through git's own checkout, so their filters (eol, attributes) apply as before
        with _temp_index(root) as env:
            git(root, "read-tree", f"{checkpoint.commit}:worktree", env=env)
            git(root, "checkout-index", "-f", "-z", "--stdin", input="\0".join(from_head).encode(), env=env)
        changed.extend(from_head)
    _restore_index(root, checkpoint)
    return sorted(changed)


def _remove(root: Path, rel: str) -> bool:
    path = root / rel
    if not path.is_symlink() and not path.is_file():
        return False
    path.unlink()
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
    return True


def _write_raw(root: Path, rel: str, mode: str, sha: str) -> bool:
    data = git(root, "cat-file", "blob", sha)
    path = root / rel
    if mode == "120000":
        if path.is_symlink() and os.fsencode(os.readlink(path)) == data:
            return False
        if path.is_symlink() or path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.fsdecode(data), path)
        return True
    executable = mode == "100755"
    unchanged = path.is_file() and not path.is_symlink() and path.read_bytes() == data
    if unchanged and os.access(path, os.X_OK) == executable:
        return False
    if path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.lingcode-undo")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o755 if executable else 0o644)
    os.replace(tmp, path)
    return True


def _refuse_if_index_locked(root: Path) -> None:
    lock = git_dir(root) / "index.lock"
    if lock.exists():
        # never deleted here: a stale lock may belong to a git that is still running, only its owner can judge
        raise UsageError(f"{lock} exists: another git command is running; try again when it ends")


def _restore_index(root: Path, checkpoint: Checkpoint) -> None:
    index = git_dir(root) / "index"
    lock = index.with_name("index.lock")
    blob = (
        git(root, "rev-parse", "--verify", "-q", f"{checkpoint.commit}:index", check=False).decode().strip()
    )
    # take git's own lock, so a concurrent git command cannot interleave with the write
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise UsageError(f"{lock} exists: another git command is running; try again when it ends") from None
    try:
        with os.fdopen(fd, "wb") as out:
            if blob:
                out.write(git(root, "cat-file", "blob", blob))
        if blob:
            os.replace(lock, index)
        else:
            os.unlink(lock)
            with contextlib.suppress(FileNotFoundError):
                index.unlink()
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        raise


def diff_since(root: Path, checkpoint: Checkpoint, paths: Iterable[str] = ()) -> str:
    """Unified diff from the checkpoint's work tree to the current one (optionally only some paths)."""
    with _temp_index(root) as env:
        current = _snapshot_tree(root, dirty_paths(root), env)
    selected = ["--", *paths] if paths else []
    out = git(
        root,
        "diff-tree",
        "-p",
        "--no-color",
        "--no-ext-diff",
        f"{checkpoint.commit}:worktree",
        current,
        *selected,
    )
    return out.decode("utf-8", errors="replace")
