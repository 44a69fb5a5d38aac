"""Input history: kept per repository inside its git directory, navigated with Up and Down."""

from __future__ import annotations

from pathlib import Path

from lingcode.ui.history import MAX_ENTRIES, InputHistory, history_path
from tests.conftest import GitRepoFactory, git


def test_history_lives_in_the_git_dir_and_survives_sessions(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    path = history_path(root)
    assert path == root / ".git" / "lingcode" / "input_history"
    first = InputHistory(path)
    first.add("fix the adder")
    first.add("/test")
    first.add("/test")  # a repeat is not stored twice
    second = InputHistory(history_path(root))
    assert second.entries == ["fix the adder", "/test"]
    assert "input_history" not in git(root, "status", "--porcelain")  # inside .git, never an untracked file


def test_no_git_dir_means_no_file(tmp_path: Path) -> None:
    assert history_path(tmp_path) is None
    history = InputHistory(None)
    history.add("hello")
    assert history.entries == ["hello"]


def test_up_and_down_walk_the_history_and_keep_the_draft(tmp_path: Path) -> None:
    history = InputHistory(tmp_path / "h")
    for text in ("one", "two", "three"):
        history.add(text)
    assert history.previous("draft") == "three"
    assert history.previous("three") == "two"
    assert history.previous("two") == "one"
    assert history.previous("one") is None
    assert history.next() == "two"
    assert history.next() == "three"
    assert history.next() == "draft"
    assert history.next() is None


def test_a_torn_file_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "h"
    path.write_text('"kept"\n{"half\n42\n', encoding="utf-8")
    assert InputHistory(path).entries == ["kept"]


def test_history_is_capped(tmp_path: Path) -> None:
    history = InputHistory(tmp_path / "h")
    for index in range(MAX_ENTRIES + 5):
        history.add(f"task {index}")
    assert len(InputHistory(tmp_path / "h").entries) == MAX_ENTRIES
    assert InputHistory(tmp_path / "h").entries[-1] == f"task {MAX_ENTRIES + 4}"
