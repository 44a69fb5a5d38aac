"""The reference index kept between runs: patched for changed files, it ranks exactly like a fresh build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from lingcode.context.engine import repo_map, snapshot
from lingcode.context.graph import name_table, pagerank, reference_graph
from lingcode.context.index import clear_index, index_path
from lingcode.context.refindex import Records, RefIndex, decode, encode
from tests.conftest import GitRepoFactory, git

CORE = (
    "class Alpha:\n    def run(self):\n        return GAMMA\n\n\n"
    "def beta_fn(x):\n    return delta_fn(x)\n\n\nGAMMA = 3\n\n\ndef delta_fn(x):\n    return x\n"
)


def _user(i: int) -> str:
    # several names shared with core.py: the edge weights are sums of three or more terms
    return (
        "from core import Alpha, beta_fn, GAMMA, delta_fn\n\n\n"
        f"def user_{i}(x):\n    return Alpha().run() + beta_fn(x) + GAMMA + delta_fn(user_{i - 1}(x))\n"
    )


def _repo(make_repo: GitRepoFactory) -> Path:
    files: dict[str, str | bytes] = {"core.py": CORE, "README.md": "# demo\n"}
    files.update({f"pkg/use{i}.py": _user(i) for i in range(1, 12)})
    return make_repo(files)


def _kept_records(root: Path) -> Records:
    """The snapshot's records as the engine keeps them, with their reference index."""
    snap = snapshot(root, progress=False)
    try:
        records = snap.records
    finally:
        snap.conn.close()
    assert isinstance(records, Records) and records.refs is not None
    return records


def _kept_matches_fresh(root: Path) -> RefIndex:
    """Rank the repository with the kept (possibly patched) index and with a fresh one: exactly equal."""
    records = _kept_records(root)
    fresh = list(records)  # a plain list carries no index: the graph module builds one from scratch
    kept_names, fresh_names = name_table(records), name_table(fresh)
    assert kept_names.refs is records.refs and fresh_names.refs is not records.refs
    assert kept_names.ids.keys() == fresh_names.ids.keys()
    for name in fresh_names.ids:
        assert kept_names.definers(name).tolist() == fresh_names.definers(name).tolist()
    kept_graph, fresh_graph = reference_graph(records, kept_names), reference_graph(fresh, fresh_names)
    assert len(fresh_graph.source) > 0
    for part in ("source", "target", "weight"):
        assert np.array_equal(getattr(kept_graph, part), getattr(fresh_graph, part)), part
    personal = np.arange(1, len(records) + 1, dtype=np.float64)
    assert np.array_equal(pagerank(kept_graph, personal), pagerank(fresh_graph, personal))
    return records.refs


def test_patched_index_equals_a_fresh_build_through_edit_add_delete_rename_and_branch_switch(
    make_repo: GitRepoFactory,
) -> None:
    root = _repo(make_repo)
    assert _kept_matches_fresh(root).unsaved == 0  # built from scratch and stored
    # edit: new names, defined in one file and used in another; on top of core.py a fresh build numbers
    # them before the old names, a patch after them
    (root / "core.py").write_text(
        "class Zeta:\n    pass\n\n\ndef epsilon_fn():\n    return Zeta()\n\n\n" + CORE
    )
    (root / "pkg" / "use1.py").write_text(_user(1) + "\n\ndef more():\n    return epsilon_fn() or Zeta\n")
    refs = _kept_matches_fresh(root)
    assert refs.unsaved == 2  # patched, not rebuilt
    assert "epsilon_fn" in refs.vocab[-3:]
    # an untracked file defining an existing name changes that name's weight for every user
    (root / "pkg" / "extra.py").write_text(
        "class Alpha:\n    pass\n\n\ndef extra():\n    return epsilon_fn()\n"
    )
    _kept_matches_fresh(root)
    git(root, "checkout", "--", "pkg/use1.py")  # no longer modified: only the kept index remembers it was
    records = {rec.path: rec for rec in _kept_matches_fresh(root).records}
    assert "more" not in records["pkg/use1.py"].names_text
    (root / "pkg" / "use2.py").unlink()
    assert "pkg/use2.py" not in _kept_matches_fresh(root).mapping()
    git(root, "add", "-A")
    git(root, "mv", "pkg/use3.py", "pkg/renamed.py")
    git(root, "commit", "-q", "-m", "changes")
    assert "pkg/renamed.py" in _kept_matches_fresh(root).mapping()
    git(root, "checkout", "-q", "-b", "feature")
    (root / "pkg" / "use4.py").write_text("def beta_fn():\n    return GAMMA\n")
    git(root, "commit", "-q", "-am", "feature")
    _kept_matches_fresh(root)
    git(root, "checkout", "-q", "main")
    assert (
        _kept_matches_fresh(root).mapping()["pkg/use4.py"]
        == git(root, "rev-parse", "main:pkg/use4.py").strip()
    )


def test_kept_index_round_trips_through_its_stored_form(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    records = _kept_records(root)
    kept = records.refs
    assert kept is not None
    back = decode(encode(kept), str(index_path(root)))
    assert back is not None
    assert back.vocab == kept.vocab
    for part in ("name_len", "def_file", "def_name", "use_file", "use_name", "use_times"):
        assert np.array_equal(getattr(back, part), getattr(kept, part)), part
    for old, new in zip(records, back.records, strict=True):
        assert (new.path, new.blob, new.names_text, new.refs_text) == (
            old.path,
            old.blob,
            old.names_text,
            old.refs_text,
        )
        assert new.definitions == old.definitions  # read back from the index on first use
    assert decode(b"not marshal", str(index_path(root))) is None


def _map_process(root: Path) -> str:
    """`lingcode map` in a new process: it starts from the index's stored copy, not this process's memory."""
    result = subprocess.run(
        [sys.executable, "-m", "lingcode", "map", "--root", str(root), "--budget", "3000"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_map_from_a_patched_stored_index_equals_a_map_from_a_cleared_one(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    before = _map_process(root)
    (root / "core.py").write_text(CORE + "\n\ndef epsilon_fn():\n    return GAMMA\n")
    (root / "pkg" / "extra.py").write_text("def extra():\n    return epsilon_fn() + delta_fn(1)\n")
    (root / "pkg" / "use2.py").unlink()
    patched = _map_process(root)
    assert patched != before and "epsilon_fn" in patched and "use2.py" not in patched
    assert clear_index(root)
    assert _map_process(root) == patched
    assert repo_map(root, 3000) == patched


def test_many_changed_files_are_merged_in_one_patch(make_repo: GitRepoFactory) -> None:
    files: dict[str, str | bytes] = {"core.py": CORE}
    files.update({f"pkg/use{i}.py": _user(i) for i in range(1, 200)})
    root = make_repo(files)
    _kept_matches_fresh(root)
    for i in range(1, 200, 3):  # 67 edits: past the one-by-one insertions, under a rebuild
        (root / "pkg" / f"use{i}.py").write_text(
            _user(i) + f"\n\ndef added_{i}():\n    return beta_fn({i})\n"
        )
    (root / "pkg" / "use2.py").unlink()
    refs = _kept_matches_fresh(root)
    assert refs.unsaved == 68 and "pkg/use2.py" not in refs.mapping()
