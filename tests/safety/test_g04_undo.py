"""G4 from outside: `lingcode run` on a tree with the user's own uncommitted, staged and untracked work,
then `lingcode undo`: every byte, mode, the index and HEAD are back as they were."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import FILES, FIX, QUICK

# the fix, plus edits to the user's untracked file (a non-ASCII name, CRLF) and the staged one, and a new file
FIX_AND_MORE = (
    FIX
    + "`drafts/deep/idea café.txt`\n<<<<<<< SEARCH\nidea\n=======\nidea, edited\n>>>>>>> REPLACE\n"
    + "notes.md\n<<<<<<< SEARCH\nunstaged line\n=======\nunstaged line, edited\n>>>>>>> REPLACE\n"
    + "brand_new.py\n<<<<<<< SEARCH\n=======\nNEW = 1\n>>>>>>> REPLACE\n"
)

Snapshot = tuple[dict[str, tuple[bytes, int]], str, str]


def _snapshot(root: Path) -> Snapshot:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or not path.is_file():
            continue
        files[rel.as_posix()] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    index = git(root, "ls-files", "--stage")
    head = git(root, "rev-parse", "HEAD")
    return files, index, head


def test_undo_puts_back_every_byte_of_the_users_work(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo({**FILES, "notes.md": "committed notes\n"})
    # the user's work in progress: a staged change, an unstaged one, untracked files (nested, odd names)
    (root / "notes.md").write_text("committed notes\nstaged line\n")
    git(root, "add", "notes.md")
    (root / "notes.md").write_text("committed notes\nstaged line\nunstaged line\n")
    (root / "calc.py").write_text((root / "calc.py").read_text() + "# the user's comment\n")
    (root / "drafts" / "deep").mkdir(parents=True)
    (root / "drafts" / "deep" / "idea café.txt").write_bytes("naïve\r\nidea\r\n".encode())
    (root / "scratch with space.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "scratch with space.sh", 0o755)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    before = _snapshot(root)

    with ScriptedServer([FIX_AND_MORE]) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "fix average",
                "--root", str(root), "--model-url", server.base_url, "--test-cmd", QUICK]  # fmt: skip
        code = run_cli(args)
    assert code == 0, capsys.readouterr().err
    assert _snapshot(root) != before  # the run did change the tree
    assert "# the user's comment" in (root / "calc.py").read_text()  # the user's edit survived the run
    assert "idea, edited" in (root / "drafts" / "deep" / "idea café.txt").read_text(encoding="utf-8")
    assert (root / "brand_new.py").is_file()

    assert run_cli(["undo", "--root", str(root)]) == 0
    assert _snapshot(root) == before
