"""Hypothesis properties: rendering then parsing is lossless; a rejected reply changes nothing; nothing
outside the root is ever touched, whatever paths and symlink layouts the model and the repository hold."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingcode.edit import (
    CreateFile,
    DeleteFile,
    Edit,
    Hunk,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
    apply_edits,
    parse_reply,
    render_edit,
)
from tests.edit.test_faults import tree

MARKER_RE = re.compile(r"^\s*(<{5,9} ?SEARCH|={5,9}|>{5,9} ?REPLACE)\s*$")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

segment = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
path = st.builds(
    lambda parts, ext: "/".join(parts) + ext,
    st.lists(segment, min_size=1, max_size=3),
    st.sampled_from([".py", ".txt", ".md"]),
)
line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40).filter(
    lambda text: not MARKER_RE.match(text) and not text.startswith(("--- ", "+++ ", "diff --git"))
)
body = st.lists(line, max_size=6).map(lambda lines: "".join(f"{item}\n" for item in lines))
nonempty_body = st.lists(line, min_size=1, max_size=6).map(
    lambda lines: "".join(f"{item}\n" for item in lines)
)
hunk_text = line.filter(lambda text: not text.startswith(("-- ", "++ ")))
hunk = st.builds(
    lambda lines, start: Hunk(tuple(lines), start),
    st.lists(st.tuples(st.sampled_from([" ", "-", "+"]), hunk_text), min_size=1, max_size=6),
    st.one_of(st.none(), st.integers(1, 9999)),
)
edit: st.SearchStrategy[Edit] = st.one_of(
    st.builds(SearchReplace, path, nonempty_body, body),
    st.builds(CreateFile, path, body),
    st.builds(WholeFile, path, body),
    st.builds(DeleteFile, path),
    st.builds(RenameFile, path, path),
    st.builds(UnifiedDiff, path, st.lists(hunk, min_size=1, max_size=3).map(tuple)),
)


@SETTINGS
@given(st.lists(edit, min_size=1, max_size=4))
def test_render_then_parse_is_lossless(edits: list[Edit]) -> None:
    reply = "Some words first.\n\n" + "\n".join(render_edit(item) for item in edits)
    assert parse_reply(reply) == edits


files_strategy = st.dictionaries(path, st.lists(line, min_size=1, max_size=8), min_size=1, max_size=4)


@SETTINGS
@given(files_strategy, st.data())
def test_a_rejected_reply_leaves_the_tree_byte_identical(
    files: dict[str, list[str]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, lines in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes("".join(f"{item}\n" for item in lines).encode())
        before = tree(root)
        names = sorted(files)
        good = [
            SearchReplace(name, f"{files[name][0]}\n", data.draw(body))
            for name in data.draw(st.lists(st.sampled_from(names), max_size=3))
        ]
        bad = SearchReplace(data.draw(st.sampled_from(names)), "\x00 never in any file \x00\n", "x\n")
        edits: list[Edit] = [*good, bad]
        result = apply_edits(edits, root)
        assert not result.ok
        assert tree(root) == before


unsafe_part = st.sampled_from(["..", ".", ".git", "out", "in", "loop", "f.py", "", "~", "/", "C:"])
unsafe_path = st.lists(st.one_of(unsafe_part, segment), min_size=1, max_size=4).map("/".join)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["create", "whole", "delete", "rename", "patch"]), unsafe_path, unsafe_path
        ),
        min_size=1,
        max_size=3,
    )
)
def test_nothing_outside_the_root_is_touched(operations: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        outside, root = sandbox / "outside", sandbox / "root"
        (outside / "sub").mkdir(parents=True)
        (outside / "f.py").write_text("secret\n")
        (outside / "sub" / "f.py").write_text("secret\n")
        (root / "in" / "deep").mkdir(parents=True)
        (root / ".git").mkdir()
        (root / ".git" / "config").write_text("[core]\n")
        (root / "f.py").write_text("x\n")
        (root / "in" / "f.py").write_text("x\n")
        (root / "out").symlink_to(outside)
        (root / "in" / "up").symlink_to("../..")
        (root / "loop").symlink_to("loop")
        os.link(outside / "f.py", root / "hard.py")
        before_outside, before_git = tree(outside), tree(root / ".git")
        edits: list[Edit] = []
        for kind, first, second in operations:
            edits.append(
                {
                    "create": CreateFile(first, "new\n"),
                    "whole": WholeFile(first, "whole\n"),
                    "delete": DeleteFile(first),
                    "rename": RenameFile(first, second),
                    "patch": SearchReplace(first, "x\n", "y\n"),
                }[kind]
            )
        apply_edits(edits, root)
        assert tree(outside) == before_outside
        assert tree(root / ".git") == before_git
        assert sorted(p.name for p in sandbox.iterdir()) == ["outside", "root"]
