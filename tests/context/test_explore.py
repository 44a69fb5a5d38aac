"""The answering side of context requests: whatever path, range or pattern a model writes, nothing from
outside the repository, from a secret-bearing file, an ignored or binary file ever comes back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingcode.config import LoopConfig
from lingcode.loop.requests import ContextRequest, answer_requests
from tests.conftest import GitRepoFactory

OUTSIDE = "OUTSIDE-MARK-4d1e"
SECRET = "SECRET-MARK-88ab"
IGNORED = "IGNORED-MARK-0c3f"
PARTS = ["..", ".", "", "~", "/", "linked", "link.txt", "data.txt", ".env", "id_rsa", ".git", "config", "src"]


@pytest.fixture
def hostile(make_repo: GitRepoFactory) -> Path:
    """A repository with secrets, an ignored file, a binary, and symlinks to a folder and file outside it."""
    root = make_repo(
        {
            "src/app.py": "def run():\n    return 1\n",
            ".env": f"KEY={SECRET}\n",
            "id_rsa": f"{SECRET}\n",
            "config/credentials.json": f'{{"k": "{SECRET}"}}\n',
            ".lingcodeignore": "build/\n",
            "blob.bin": b"\0\1" + SECRET.encode() + b"\0",
        }
    )
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text(f"x = '{IGNORED}'\n")
    outside = root.parent / f"outside-{root.name}"
    outside.mkdir()
    (outside / "data.txt").write_text(f"{OUTSIDE}\n")
    os.symlink(outside, root / "linked")
    os.symlink(outside / "data.txt", root / "link.txt")
    return root


def _bodies(root: Path, *requests: ContextRequest) -> str:
    return "\n".join(
        a.body for a in answer_requests(root, list(requests), LoopConfig(max_requests_per_turn=9))
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=5),
    separator=st.sampled_from(["/", "\\"]),
    absolute=st.booleans(),
)
def test_no_path_a_model_writes_reads_outside_or_secrets(
    hostile: Path, parts: list[str], separator: str, absolute: bool
) -> None:
    path = separator.join(parts)
    if absolute:
        path = str(hostile) + "/" + path
    found = _bodies(
        hostile,
        ContextRequest("file", path),
        ContextRequest("lines", f"{path}:1-5"),
        ContextRequest("list", path),
    )
    assert OUTSIDE not in found and SECRET not in found


@pytest.mark.parametrize("mark", [OUTSIDE, SECRET, IGNORED])
def test_searches_never_look_outside_at_secrets_ignored_or_binary_files(hostile: Path, mark: str) -> None:
    found = _bodies(hostile, ContextRequest("search", mark), ContextRequest("regex", mark[:6] + r"\w*"))
    assert found.count("(no matches)") == 2


def test_a_search_finds_what_is_there_with_path_and_line(hostile: Path) -> None:
    assert _bodies(hostile, ContextRequest("search", "return 1")) == "src/app.py:2: return 1"


def test_a_listing_shows_only_readable_entries(hostile: Path) -> None:
    listing = _bodies(hostile, ContextRequest("list", "."))
    assert "src/ (1 files)" in listing and ".lingcodeignore" in listing
    for hidden in (".env", "id_rsa", "linked", "link.txt", "build", "blob.bin", "credentials.json"):
        assert hidden not in listing
