"""Fault injection: a failing rename, a full disk, a process killed mid-apply. The tree must end up either
fully as before or fully as after, never in between."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.edit import apply_edits, parse_reply, recover_interrupted
from tests.conftest import GitRepoFactory

FILES = {"a.py": "a = 1\n", "pkg/b.py": "b = 1\n", "c.txt": "c\r\nline\r\n"}
REPLY = (
    "a.py\n<<<<<<< SEARCH\na = 1\n=======\na = 2\n>>>>>>> REPLACE\n\n"
    "pkg/b.py\n<<<<<<< SEARCH\nb = 1\n=======\nb = 2\n>>>>>>> REPLACE\n\n"
    "c.txt\n<<<<<<< SEARCH\nline\n=======\nLINE\n>>>>>>> REPLACE\n\n"
    "new/dir/d.py\n<<<<<<< SEARCH\n=======\nd = 1\n>>>>>>> REPLACE\n"
)
AFTER = {"a.py": b"a = 2\n", "pkg/b.py": b"b = 2\n", "c.txt": b"c\r\nLINE\r\n", "new/dir/d.py": b"d = 1\n"}
WRITES = 4

KILLER = """
import os, signal, sys
from pathlib import Path
from lingcode.edit import apply_edits, parse_reply
calls = 0
def replace(src, dst):
    global calls
    calls += 1
    if calls == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    os.replace(src, dst)
apply_edits(parse_reply(sys.stdin.read()), Path(sys.argv[1]), replace=replace)
"""


def tree(root: Path) -> dict[str, bytes]:
    """Every file and directory under root except .git: files as bytes, directories as b'<dir>'."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        out[rel.as_posix()] = b"<dir>" if path.is_dir() else path.read_bytes()
    return out


def expected_after(before: dict[str, bytes]) -> dict[str, bytes]:
    return {**before, **AFTER, "new": b"<dir>", "new/dir": b"<dir>"}


@pytest.mark.parametrize("failing_call", range(1, WRITES + 1))
def test_kth_replace_failing_leaves_tree_as_before(failing_call: int, make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    before = tree(root)
    calls = 0

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == failing_call:
            raise OSError(errno.EIO, "injected I/O error")
        os.replace(src, dst)

    result = apply_edits(parse_reply(REPLY), root, replace=replace)
    assert not result.ok and "nothing was changed" in result.rejection_message()
    assert tree(root) == before
    assert not (root / ".git" / "lingcode" / "journal").exists()


def test_disk_full_leaves_tree_as_before(make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    before = tree(root)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith("c.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        os.replace(src, dst)

    result = apply_edits(parse_reply(REPLY), root, replace=replace)
    assert "No space left" in result.rejection_message()
    assert tree(root) == before


@pytest.mark.parametrize("kill_at", [1, 2, 4, 99])
def test_killed_mid_apply_is_rolled_back_on_next_start(kill_at: int, make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    before = tree(root)
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(root), str(kill_at)],
        input=REPLY,
        text=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    if kill_at > WRITES:
        assert done.returncode == 0, done.stderr
        assert tree(root) == expected_after(before)
        assert recover_interrupted(root) == []
        return
    assert done.returncode == -signal.SIGKILL
    assert tree(root) != before or kill_at == 1  # the kill really left a half-applied tree behind
    restored = recover_interrupted(root)
    assert tree(root) == before
    assert not (root / ".git" / "lingcode").exists() or not any((root / ".git" / "lingcode").rglob("*.json"))
    assert set(restored) <= set(AFTER)


def test_journal_without_git_dir_lives_in_root_and_is_cleaned(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    result = apply_edits(parse_reply(REPLY.split("\n\n")[0] + "\n"), tmp_path)
    assert result.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]
