"""A SEARCH/REPLACE block for a file that does not exist moves to the one shown file that holds its SEARCH
lines; every other block stays as it was (and apply_edits decides about it as before)."""

from __future__ import annotations

from pathlib import Path

from lingcode.edit import apply_edits
from lingcode.edit.retarget import retarget
from lingcode.edit.types import CreateFile, SearchReplace

CALC = "def average(values):\n    return sum(values) / (len(values) + 1)\n"
SEARCH = "    return sum(values) / (len(values) + 1)\n"
REPLACE = "    return sum(values) / len(values)\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_block_for_a_made_up_path_moves_to_the_shown_file_with_its_lines(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/calc.py": CALC, "pkg/other.py": "x = 1\n"})
    edits, notes = retarget(
        [SearchReplace("lingpkg/calc.py", SEARCH, REPLACE)], root, ["pkg/other.py", "pkg/calc.py"]
    )
    assert edits == [SearchReplace("pkg/calc.py", SEARCH, REPLACE)]
    assert notes == ["lingpkg/calc.py does not exist; its SEARCH lines are in pkg/calc.py: applied there"]
    assert apply_edits(edits, root).ok and "len(values)\n" in (root / "pkg/calc.py").read_text()
    assert not (root / "lingpkg").exists()


def test_blocks_that_fit_no_file_or_several_or_a_file_not_shown_stay(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"a.py": CALC, "b.py": CALC, "c.py": "y = 2\n", "hidden.py": CALC})
    for shown in (["a.py", "b.py"], ["c.py"], []):
        block = SearchReplace("missing.py", SEARCH, REPLACE)
        assert retarget([block], root, shown) == ([block], []), shown
    stray = SearchReplace("missing.py", "    return nothing\n", REPLACE)
    assert retarget([stray], root, ["a.py"]) == ([stray], [])


def test_existing_paths_new_files_and_files_the_reply_creates_stay(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"calc.py": CALC, "copy.py": CALC.replace("+ 1", "+ 2")})
    existing = SearchReplace("copy.py", SEARCH, REPLACE)  # wrong SEARCH for copy.py: apply_edits says so
    new_file = SearchReplace("new.py", "", "X = 1\n")
    created = [CreateFile("made.py", CALC), SearchReplace("made.py", SEARCH, REPLACE)]
    for edits in ([existing], [new_file], created):
        assert retarget(edits, root, ["calc.py", "copy.py"]) == (edits, [])
