"""The index: content-keyed cache invalidation on edit, delete, rename and branch switch."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from lingcode.context import index as idx
from lingcode.context import pool, refindex
from lingcode.context.engine import build_context, repo_map, snapshot
from lingcode.context.index import NO_TERMS, clear_index, index_path
from lingcode.context.pool import Job
from tests.conftest import GitRepoFactory, git


def _defs(root: Path) -> dict[str, set[str]]:
    snap = snapshot(root, progress=False)
    try:
        return {r.path: {d[0] for d in r.definitions} for r in snap.records}
    finally:
        snap.conn.close()


def _blob_rows(root: Path) -> int:
    with sqlite3.connect(index_path(root)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0])


def test_index_lives_in_the_git_dir_and_can_be_cleared(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n"})
    assert _defs(root) == {"a.py": {"alpha"}}
    assert index_path(root) == root / ".git" / "lingcode" / "index.sqlite"
    assert index_path(root).exists()
    assert clear_index(root)
    assert not index_path(root).exists()


def test_edit_is_seen_and_unchanged_files_are_not_parsed_again(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    pass\n"})
    assert _defs(root)["a.py"] == {"alpha"}
    assert _blob_rows(root) == 2
    (root / "a.py").write_text("def alpha2():\n    pass\n")
    assert _defs(root) == {"a.py": {"alpha2"}, "b.py": {"beta"}}
    assert _blob_rows(root) == 3  # one new content; b.py was not parsed again
    (root / "a.py").write_text("def alpha3():\n    return 1\n")
    assert _defs(root)["a.py"] == {"alpha3"}


def test_delete_and_rename(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    pass\n"})
    _defs(root)
    (root / "b.py").unlink()
    assert _defs(root) == {"a.py": {"alpha"}}
    git(root, "mv", "a.py", "renamed.py")
    rows = _blob_rows(root)
    assert _defs(root) == {"renamed.py": {"alpha"}}
    assert _blob_rows(root) == rows  # same content under a new name: no new parse


def test_branch_switch(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def on_main():\n    pass\n"})
    assert _defs(root) == {"a.py": {"on_main"}}
    git(root, "checkout", "-q", "-b", "feature")
    (root / "a.py").write_text("def on_feature():\n    pass\n")
    (root / "new.py").write_text("X_LIMIT = 3\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature")
    assert _defs(root) == {"a.py": {"on_feature"}, "new.py": {"X_LIMIT"}}
    git(root, "checkout", "-q", "main")
    rows = _blob_rows(root)
    assert _defs(root) == {"a.py": {"on_main"}}
    assert _blob_rows(root) == rows  # main's content was indexed before: nothing parsed


def test_untracked_files_are_indexed_and_rehashed_only_on_change(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n"})
    (root / "new.py").write_text("def fresh():\n    pass\n")
    assert _defs(root)["new.py"] == {"fresh"}
    (root / "new.py").write_text("def fresher():\n    pass\n")
    assert _defs(root)["new.py"] == {"fresher"}


def test_many_files_are_parsed_in_parallel(make_repo: GitRepoFactory) -> None:
    files: dict[str, str | bytes] = {
        f"pkg/mod{i}.py": f"def func_{i}():\n    return {i}\n" for i in range(80)
    }
    root = make_repo(files)
    defs = _defs(root)
    assert len(defs) == 80
    assert defs["pkg/mod42.py"] == {"func_42"}


def test_outside_git_the_directory_is_walked(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("def alpha():\n    pass\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("function dep() {}\n")
    assert _defs(tmp_path) == {"src/a.py": {"alpha"}}


def _postings(root: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(index_path(root)) as conn:
        return sorted(conn.execute("SELECT term, blob, tf FROM postings"))


def _lengths(root: Path) -> dict[str, int]:
    snap = snapshot(root, progress=False)
    try:
        return {r.path: r.length for r in snap.records}
    finally:
        snap.conn.close()


def _term_repo(make_repo: GitRepoFactory, count: int) -> Path:
    files: dict[str, str | bytes] = {
        f"pkg/mod{i}.py": f"def parse_{i}(value):\n    return value.strip()  # sanitize input {i}\n"
        for i in range(count)
    }
    files["README.md"] = "Parsing values, stripped and sanitized.\n"
    files["logo.png"] = b"\x89PNG\r\n\x1a\n\0\0\0binary"
    return make_repo(files)


@pytest.mark.parametrize("count", [3, 80])  # in process, and in the pool
def test_a_map_leaves_terms_for_the_first_ranking_which_counts_them_as_a_full_build_does(
    make_repo: GitRepoFactory, count: int
) -> None:
    mapped, counted = _term_repo(make_repo, count), _term_repo(make_repo, count)
    repo_map(mapped, 512)
    with sqlite3.connect(index_path(mapped)) as conn:
        assert conn.execute("SELECT count(*) FROM postings").fetchone() == (0,)
        stored = dict(conn.execute("SELECT blob, length FROM blobs"))
    assert set(stored.values()) == {NO_TERMS}  # every text file parsed, none counted
    assert _lengths(mapped) == _lengths(counted)  # the first ranking snapshot counts them
    assert _postings(mapped) == _postings(counted) != []
    with sqlite3.connect(index_path(mapped)) as conn:
        kept = refindex.decode(conn.execute("SELECT data FROM refindex").fetchone()[0], "")
    assert kept is not None and NO_TERMS not in {r.length for r in kept.records}  # stored again, counted
    task = "strip and sanitize the parsed value"
    assert [r.path for r in build_context(task, mapped, 2000).files] == [
        r.path for r in build_context(task, counted, 2000).files
    ]


def _worker_pids(job: Job) -> list[int]:
    return [os.getpid()]


def _pool_pids() -> set[int]:
    jobs: list[Job] = [("", [("f", "b")] * 64, 0, False) for _ in range(4)]
    return set(pool.in_pool(_worker_pids, jobs, None))


def _parsed(root: Path, count: int) -> list[idx.Parsed]:
    items = [(f"pkg/mod{i}.py", f"blob{i}") for i in range(count)]
    return list(idx.parse_missing(root, items, 100_000, None, terms=True))


def test_pool_workers_fork_alone_and_come_from_a_forkserver_beside_other_threads(
    make_repo: GitRepoFactory,
) -> None:
    files: dict[str, str | bytes] = {f"pkg/mod{i}.py": f"def f_{i}(x):\n    return g(x)\n" for i in range(70)}
    root = make_repo(files)
    # threads that other tests left running (a client watchdog) rule fork out, as in a user's process
    alone_now = threading.active_count() == 1
    expected = "fork" if sys.platform == "linux" and alone_now else "forkserver"
    assert pool.pool_context().get_start_method() == expected
    alone = _parsed(root, 70)
    assert os.getpid() not in _pool_pids()  # the work really ran in worker processes
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        # a fork now would copy the other thread's state half-way: the forkserver starts the workers
        assert pool.pool_context().get_start_method() == "forkserver"
        beside = _parsed(root, 70)
        assert os.getpid() not in _pool_pids()
    finally:
        stop.set()
        other.join()
    in_process = [
        p for i in range(70) if (p := idx.parse_file(str(root), f"pkg/mod{i}.py", f"blob{i}", 100_000))
    ]
    assert alone == beside == in_process
    assert [p[0] for p in alone] == [f"pkg/mod{i}.py" for i in range(70)]  # in order, one per file
