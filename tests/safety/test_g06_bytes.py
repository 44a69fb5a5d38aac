"""G6 from outside: an edit of one line keeps every other byte of the file (CRLF line ends, a UTF-8 BOM, a
latin-1 encoding) and its mode; an edit of a binary file is refused with nothing changed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, GitRepoFactory, git


def _apply(root: Path, reply: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`lingcode apply` as a user runs it, the reply on its stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "lingcode", "apply", "--root", str(root)],
        input=reply.encode("utf-8"),
        capture_output=True,
        env={**os.environ, **GIT_ENV},
        timeout=60,
    )
    return done.returncode, done.stderr.decode("utf-8", "replace")


def _edit(path: str, old: str, new: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"


CASES = {
    "crlf": ("win.py", b"a = 1\r\nb = 2\r\nc = 3\r\n", b"a = 1\r\nb = 20\r\nc = 3\r\n"),
    "bom": ("bom.py", b"\xef\xbb\xbfa = 1\nb = 2\n", b"\xef\xbb\xbfa = 1\nb = 20\n"),
    "latin-1": ("old.py", b"# caf\xe9\nb = 2\n", b"# caf\xe9\nb = 20\n"),
    "no final newline": ("tail.py", b"a = 1\nb = 2", b"a = 1\nb = 20"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_edit_keeps_line_ends_bom_and_encoding(
    case: str, make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path, before, after = CASES[case]
    root = make_repo({path: before})
    code, err = _apply(root, _edit(path, "b = 2", "b = 20"), capsys)
    assert code == 0, err
    assert (root / path).read_bytes() == after


def test_an_edit_keeps_the_executable_mode(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo({"run.sh": "#!/bin/sh\necho one\n"})
    os.chmod(root / "run.sh", 0o755)
    git(root, "add", "run.sh")
    git(root, "commit", "-qm", "exec")
    code, err = _apply(root, _edit("run.sh", "echo one", "echo two"), capsys)
    assert code == 0, err
    assert (root / "run.sh").read_text() == "#!/bin/sh\necho two\n"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755


def test_a_binary_file_edit_is_refused_and_nothing_changes(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = b"\x89PNG\r\n\x1a\n\x00\x00b = 2\n\x00\xff"
    root = make_repo({"logo.png": blob, "a.py": "x = 1\n"})
    reply = _edit("a.py", "x = 1", "x = 2") + _edit("logo.png", "b = 2", "b = 20")
    code, err = _apply(root, reply, capsys)
    assert code == 4, err
    assert "logo.png" in err and "Traceback" not in err
    assert (root / "logo.png").read_bytes() == blob
    assert (root / "a.py").read_text() == "x = 1\n"  # all or nothing: the good edit is not applied either
    assert git(root, "status", "--porcelain") == ""


def test_a_latin1_file_refuses_characters_it_cannot_hold(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    before = b"# caf\xe9\nb = 2\n"
    root = make_repo({"old.py": before})
    code, err = _apply(root, _edit("old.py", "b = 2", "b = '\u2192'"), capsys)  # an arrow: not in latin-1
    assert code == 4 and "latin-1" in err, err
    assert (root / "old.py").read_bytes() == before
    code, err = _apply(
        root, _edit("old.py", "b = 2", "b = 'd\u00e9j\u00e0'"), capsys
    )  # in latin-1: written so
    assert code == 0, err
    assert (root / "old.py").read_bytes() == b"# caf\xe9\nb = 'd\xe9j\xe0'\n"
