"""What the engine remembers between calls in one process, and that it never serves a stale answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lingcode.context import related_tests
from lingcode.context.engine import repo_map
from lingcode.context.index import clear_index
from tests.conftest import GitRepoFactory, git
from tests.context.test_index import _blob_rows, _defs

CALC = "def average(values):\n    return sum(values) / len(values)\n"
TEST = "from calc import average\n\n\ndef test_average():\n    assert average([2]) == 2\n"


def test_related_tests_follow_new_edited_and_committed_files(make_repo: GitRepoFactory) -> None:
    stats = "from calc import average\n\n\ndef test_mean():\n    average([3])\n"
    root = make_repo({"calc.py": CALC, "tests/test_calc.py": TEST, "tests/test_stats.py": stats})
    assert related_tests(root, ["calc.py"]) == ["tests/test_calc.py", "tests/test_stats.py"]
    # an untracked test appears at once, though the tracked listing is remembered
    more = "from calc import average\n\n\ndef test_more():\n    average([1])\n"
    (root / "tests" / "test_more.py").write_text(more)
    assert related_tests(root, ["calc.py"]) == [
        "tests/test_calc.py",
        "tests/test_more.py",
        "tests/test_stats.py",
    ]
    # an edit dropping the reference is seen (modified files are never taken from the remembered listing)
    (root / "tests" / "test_stats.py").write_text("def test_nothing():\n    pass\n")
    assert related_tests(root, ["calc.py"]) == ["tests/test_calc.py", "tests/test_more.py"]
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "more")
    assert related_tests(root, ["calc.py"]) == ["tests/test_calc.py", "tests/test_more.py"]
    git(root, "rm", "-q", "tests/test_more.py")
    assert related_tests(root, ["calc.py"]) == ["tests/test_calc.py"]


def test_cleared_index_is_filled_again_in_the_same_process(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    return alpha()\n"})
    first = repo_map(root, 2000)
    assert _blob_rows(root) == 2
    assert clear_index(root)
    # the process remembers decoded rows, but only for the index they came from: the new one is rebuilt
    assert _defs(root) == {"a.py": {"alpha"}, "b.py": {"beta"}}
    assert _blob_rows(root) == 2
    assert repo_map(root, 2000) == first


def test_ignore_rules_change_the_remembered_listing(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n", "gen/b.py": "def beta():\n    pass\n"})
    assert set(_defs(root)) == {"a.py", "gen/b.py"}
    (root / ".lingcodeignore").write_text("gen/\n")
    assert set(_defs(root)) == {"a.py", ".lingcodeignore"}
    (root / ".lingcodeignore").unlink()
    assert set(_defs(root)) == {"a.py", "gen/b.py"}


def test_importing_the_package_loads_nothing_until_a_name_is_used() -> None:
    probe = (
        "import json, sys\n"
        "import lingcode.context as c\n"
        "before = sorted(m for m in sys.modules if m.startswith('lingcode.context.'))\n"
        "c.redact\n"
        "after = sorted(m for m in sys.modules if m.startswith('lingcode.context.'))\n"
        "try:\n"
        "    c.no_such_name\n"
        "    missing = False\n"
        "except AttributeError:\n"
        "    missing = True\n"
        "print(json.dumps([before, after, missing, 'numpy' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    before, after, missing, numpy = json.loads(out.stdout)
    assert before == []
    assert after == ["lingcode.context.secrets"]
    assert missing
    assert not numpy


def test_a_file_touched_but_not_changed_leaves_the_map_as_it_was(make_repo: GitRepoFactory) -> None:
    files: dict[str, str | bytes] = {
        "core.py": "".join(f"def helper_{i}(x):\n    return x\n\n\n" for i in range(6)),
        "zz_leaf.py": "def lonely_leaf():\n    return 0\n",
    }
    for name in ("app", "cli", "web"):
        files[f"{name}.py"] = "from core import *\n\n\n" + "".join(f"helper_{i}(1)\n" for i in range(6))
    root = make_repo(files)
    before = repo_map(root, 60)
    leaf = root / "zz_leaf.py"
    leaf.write_bytes(leaf.read_bytes())  # same bytes, new mtime: git's stat check calls it modified
    stamp = leaf.stat().st_mtime + 10
    os.utime(leaf, (stamp, stamp))
    assert git(root, "diff-files", "--name-only") == "zz_leaf.py\n"  # (git status would refresh this)
    assert repo_map(root, 60) == before
    leaf.write_text("def lonely_leaf():\n    return 1\n")
    assert "zz_leaf.py" in repo_map(root, 60)  # a real change still counts: it is put first
