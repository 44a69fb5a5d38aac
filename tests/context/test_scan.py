"""The cold map's scan: names found by patterns, a map ranked from them, and the full index later."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lingcode.context import index_path
from lingcode.context.engine import repo_map, snapshot
from lingcode.context.scan import scan_names
from lingcode.context.scanmap import SCAN_MIN
from lingcode.context.tags import extract
from tests.conftest import GitRepoFactory, git

PACKAGE = Path(__file__).resolve().parents[2] / "lingcode"


def _split(joined: str) -> list[str]:
    return joined.split("\n") if joined else []


@pytest.mark.parametrize(
    ("language", "source", "defines", "uses"),
    [
        (
            "python",
            "from .a import (b as c, d)\nLIMIT: int = 3\nclass K(Base):\n    @prop\n"
            "    async def m(self, y: Foo) -> Bar:\n        return os.path.join(y)\n",
            ["LIMIT", "K", "m"],
            {"b", "c", "d", "prop", "Foo", "Bar", "path", "join"},
        ),
        (
            "javascript",
            "export function alpha(x) { return beta(x).gamma; }\nclass Widget extends Base {\n"
            "  render(props) {\n    return this.draw(props);\n  }\n}\nconst helper = () => 1;\n",
            ["alpha", "Widget", "render", "helper"],
            {"beta", "gamma", "draw"},
        ),
        (
            "go",
            "package x\n\nfunc (s *Server) Serve() error {\n\treturn s.loop()\n}\ntype Item struct{}\n",
            ["Serve", "Item"],
            {"loop"},
        ),
        (
            "rust",
            "pub struct Point;\nimpl Point {\n    pub fn norm(&self) -> f64 { self.dot(self) }\n}\n",
            ["Point", "norm"],
            {"dot"},
        ),
        (
            "ruby",
            "module Shop\n  class Cart\n    def self.empty?\n      items.clear\n    end\n  end\nend\n",
            ["Shop", "Cart", "empty?"],
            {"clear"},
        ),
        (
            "c",
            "#define MAX_LEN 10\ntypedef struct point {\n  int x;\n} point_t;\nstatic int\nhelper(int a);\n"
            "PyObject *add_two(PyObject *a) {\n    return helper(a->x);\n}\n",
            ["MAX_LEN", "point", "point_t", "helper", "add_two"],
            {"helper", "x"},
        ),
        (
            "java",
            "public class Cart extends Base {\n    private static final int LIMIT = 3;\n"
            "    public List<String> names(int a) { return list.stream().map(a); }\n}\n",
            ["Cart", "LIMIT", "names"],
            {"stream", "map"},
        ),
    ],
)
def test_scan_finds_definitions_and_uses(
    language: str, source: str, defines: list[str], uses: set[str]
) -> None:
    found, used = scan_names(language, source.encode())
    assert _split(found) == defines
    assert uses <= set(_split(used))


def test_scan_finds_the_definitions_tree_sitter_finds_in_lingcode_itself() -> None:
    # the scan ranks the cold map: its definitions must be close to the parse's on real code
    parsed: set[tuple[str, str]] = set()
    scanned: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        data = path.read_bytes()
        tags = extract("python", data)
        assert tags is not None
        parsed |= {(path.name, d.name) for d in tags.definitions}
        scanned |= {(path.name, name) for name in _split(scan_names("python", data)[0])}
    assert len(parsed) > 1000
    assert len(parsed & scanned) / len(parsed) > 0.97  # recall
    assert len(parsed & scanned) / len(scanned) > 0.97  # precision


def _count(root: Path, table: str) -> int:
    with sqlite3.connect(index_path(root)) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _many_modules(make_repo: GitRepoFactory) -> Path:
    """A repository over the scan threshold where every module calls the hub's function."""
    files = {"core/hub.py": "def dispatch_event(event):\n    return event\n\n\nclass Registry:\n    pass\n"}
    for i in range(SCAN_MIN):
        files[f"pkg{i % 7}/mod{i}.py"] = (
            "from core.hub import dispatch_event\n\n\n"
            f"def handler_{i}(x):\n    return dispatch_event(x) + {i}\n"
        )
    return make_repo(files)


def test_a_cold_map_of_many_files_ranks_from_a_scan_and_parses_only_what_it_shows(
    make_repo: GitRepoFactory,
) -> None:
    root = _many_modules(make_repo)
    text = repo_map(root, 1024)
    lines = text.splitlines()
    assert lines[1] == "core/hub.py:"  # the file every other one uses ranks first
    assert "  def dispatch_event(event)\n" in text
    assert _count(root, "scans") == SCAN_MIN + 1
    listed = sum(1 for line in lines[1:] if not line.startswith(" "))
    parsed = _count(root, "blobs")
    # the map's files, in doubling batches (so at most twice as many), not the whole tree
    assert listed <= parsed <= 2 * listed + 8 < SCAN_MIN
    assert repo_map(root, 1024) == text

    # one edited file: scanned alone, and the map follows it (a file in the diff ranks first)
    (root / "pkg3/mod3.py").write_text("def handler_3(x):\n    return x\n")
    edited = repo_map(root, 1024)
    assert _count(root, "scans") == SCAN_MIN + 2
    assert edited.splitlines()[1] == "pkg3/mod3.py:"
    git(root, "checkout", "-q", "pkg3/mod3.py")


def test_the_full_index_built_for_a_task_ranks_later_maps(make_repo: GitRepoFactory) -> None:
    root = _many_modules(make_repo)
    repo_map(root, 1024)
    snap = snapshot(root, progress=False)  # what `lingcode context` does first
    snap.conn.close()
    assert _count(root, "blobs") == SCAN_MIN + 1
    # the map is served from its cache while nothing changed; after a change it ranks from the full index
    (root / "core/extra.py").write_text("def unused_helper():\n    pass\n")
    text = repo_map(root, 1024)
    assert text.splitlines()[1] == "core/extra.py:"
    assert _count(root, "scans") == SCAN_MIN + 1  # the new file was parsed, not scanned


def test_a_small_repository_is_parsed_whole(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    return alpha()\n"})
    repo_map(root, 1000)
    assert _count(root, "blobs") == 2
    with sqlite3.connect(index_path(root)) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'scans'").fetchone() is None
