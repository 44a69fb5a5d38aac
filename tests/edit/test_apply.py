"""Applying edits to real temporary git repositories: matching habits, bytes, paths and all-or-nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lingcode.edit import CreateFile, DeleteFile, RenameFile, SearchReplace, apply_edits, parse_reply
from tests.conftest import GitRepoFactory

CODE = (
    "import os\n"
    "\n"
    "\n"
    "def area(w, h):\n"
    "    result = w * h\n"
    "    return result\n"
    "\n"
    "\n"
    "def perimeter(w, h):\n"
    "    total = 2 * (w + h)\n"
    "    return total\n"
)


def block(search: str, replace: str, path: str = "geo.py") -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


# model habit -> (reply, expected file text)
HABITS = {
    "exact_copy": (
        block("    result = w * h\n", "    result = w * h * 1\n"),
        CODE.replace("w * h\n", "w * h * 1\n"),
    ),
    "trailing_spaces_in_search": (
        block("    result = w * h   \n    return result \n", "    result = h * w\n    return result\n"),
        CODE.replace("w * h\n", "h * w\n"),
    ),
    "search_dedented_to_column_zero": (
        block("total = 2 * (w + h)\nreturn total\n", "total = 2 * w + 2 * h\nreturn total\n"),
        CODE.replace("2 * (w + h)", "2 * w + 2 * h"),
    ),
    "search_indented_too_far": (
        block("        result = w * h\n        return result\n", "        return w * h\n"),
        CODE.replace("    result = w * h\n    return result\n", "    return w * h\n"),
    ),
    "tabs_instead_of_spaces": (
        block("\ttotal = 2 * (w + h)\n\treturn total\n", "\ttotal = 2 * (h + w)\n\treturn total\n"),
        CODE.replace("(w + h)", "(h + w)"),
    ),
    "elision_line_in_search_and_replace": (
        block(
            "def area(w, h):\n    ...\n    return result\n",
            "def area(w, h):\n    ...\n    return float(result)\n",
        ),
        CODE.replace("    return result\n", "    return float(result)\n"),
    ),
    "existing_code_comment_elision": (
        block(
            "def perimeter(w, h):\n    # ... existing code ...\n    return total\n",
            "def perimeter(w, h):\n    # ... existing code ...\n    return int(total)\n",
        ),
        CODE.replace("return total", "return int(total)"),
    ),
    "blank_line_missing_in_search": (
        block("    return result\n\ndef perimeter(w, h):\n", "    return result\n\n\ndef perim(w, h):\n"),
        CODE.replace("def perimeter", "def perim"),
    ),
    "one_character_typo_in_search": (
        block("    reslut = w * h\n    return result\n", "    result = w * h\n    return result + 0\n"),
        CODE.replace("    return result\n", "    return result + 0\n"),
    ),
    "diff_with_wrong_line_numbers": (
        "--- a/geo.py\n+++ b/geo.py\n@@ -40,3 +40,3 @@\n def perimeter(w, h):\n-    total = 2 * (w + h)\n"
        "+    total = (w + h) * 2\n     return total\n",
        CODE.replace("2 * (w + h)", "(w + h) * 2"),
    ),
    "diff_missing_a_context_line": (
        "--- geo.py\n+++ geo.py\n@@ @@\n def perimeter(w, h):\n-    return total\n+    return total or 0\n",
        CODE.replace("    return total\n", "    return total or 0\n"),
    ),
    "whole_file_rewrite": ("geo.py\n```python\nx = 1\n```\n", "x = 1\n"),
}


@pytest.mark.parametrize("habit", sorted(HABITS))
def test_habit_applies_byte_exactly(habit: str, make_repo: GitRepoFactory) -> None:
    reply, expected = HABITS[habit]
    root = make_repo({"geo.py": CODE})
    result = apply_edits(parse_reply(reply), root)
    assert result.ok, result.rejection_message()
    assert (root / "geo.py").read_text() == expected
    assert result.changed_paths == ["geo.py"]
    assert "--- a/geo.py" in result.diff


REFUSALS = {
    "search_absent": (block("    volume = w * h * d\n", "x\n"), "not in the file"),
    "search_ambiguous": (block("\n\n", "x\n"), "places"),
    "typo_too_heavy": (block("    rezult = q * z\n    retrun rezult\n", "x\n"), "not in the file"),
    "missing_file": (block("x\n", "y\n", "nope.py"), "no such file"),
    "parent_dir_escape": (block("x\n", "y\n", "../geo.py"), "`..`"),
    "absolute_path": (block("x\n", "y\n", "/etc/passwd"), "absolute"),
    "into_git_dir": (block("x\n", "y\n", ".git/config"), ".git"),
    "create_over_existing": ("geo.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n", "already exists"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusal_changes_nothing_and_says_why(case: str, make_repo: GitRepoFactory) -> None:
    reply, words = REFUSALS[case]
    root = make_repo({"geo.py": CODE})
    result = apply_edits(parse_reply(reply), root)
    assert not result.ok
    assert words in result.rejection_message()
    assert (root / "geo.py").read_text() == CODE
    assert result.changed_paths == []


def test_absent_search_shows_nearest_lines_with_numbers(make_repo: GitRepoFactory) -> None:
    root = make_repo({"geo.py": CODE})
    message = apply_edits(
        parse_reply(block("    total = 3 * (w + h) + area(w, h)\n", "x\n")), root
    ).rejection_message()
    assert "geo.py: block 1" in message
    assert "   10 |     total = 2 * (w + h)" in message


def test_one_bad_block_rejects_the_whole_reply(make_repo: GitRepoFactory) -> None:
    root = make_repo({"geo.py": CODE, "b.py": "b = 1\n"})
    reply = block("b = 1\n", "b = 2\n", "b.py") + block("nothing here\n", "x\n")
    result = apply_edits(parse_reply(reply), root)
    assert not result.ok
    assert (root / "b.py").read_text() == "b = 1\n"
    assert {item.path for item in result.files} == {"geo.py", "b.py"}


def test_crlf_file_stays_crlf_and_mixed_endings_survive(make_repo: GitRepoFactory) -> None:
    original = b"one\r\ntwo\r\nthree\nfour\r\n"
    root = make_repo({"m.txt": original})
    result = apply_edits(parse_reply(block("two\n", "TWO\n2\n", "m.txt")), root)
    assert result.ok
    assert (root / "m.txt").read_bytes() == b"one\r\nTWO\r\n2\r\nthree\nfour\r\n"


def test_bom_missing_final_newline_and_mode_are_kept(make_repo: GitRepoFactory) -> None:
    root = make_repo({"s.sh": "\ufeffecho a\necho b".encode()})
    os.chmod(root / "s.sh", 0o755)
    assert apply_edits(parse_reply(block("echo b\n", "echo c\n", "s.sh")), root).ok
    assert (root / "s.sh").read_bytes() == "\ufeffecho a\necho c".encode()
    assert (root / "s.sh").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize(("content", "words"), [(b"\x00\x01binary\nx\n", "binary")])
def test_binary_files_are_refused(content: bytes, words: str, make_repo: GitRepoFactory) -> None:
    # (latin-1 and other 8-bit text is edited byte for byte: tests/safety/test_g06_bytes.py)
    root = make_repo({"f.dat": content})
    result = apply_edits(parse_reply(block("x\n", "y\n", "f.dat")), root)
    assert not result.ok and words in result.rejection_message()
    assert (root / "f.dat").read_bytes() == content


def test_symlinks_leaving_the_root_and_hard_links_are_refused(
    make_repo: GitRepoFactory, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "t.py").write_text("x\n")
    root = make_repo({"geo.py": CODE})
    (root / "link").symlink_to(outside)
    (root / "file_link.py").symlink_to(root / "geo.py")
    os.link(root / "geo.py", root / "hard.py")
    for path, words in (
        ("link/t.py", "outside"),
        ("file_link.py", "symbolic link"),
        ("hard.py", "hard-linked"),
    ):
        result = apply_edits(parse_reply(block("x\n", "y\n", path)), root)
        assert not result.ok and words in result.rejection_message(), path
    assert (outside / "t.py").read_text() == "x\n"


def test_stale_file_is_refused(make_repo: GitRepoFactory) -> None:
    root = make_repo({"geo.py": CODE})
    seen = hashlib.sha256(CODE.encode()).hexdigest()
    (root / "geo.py").write_text(CODE + "# user edit\n")
    result = apply_edits(parse_reply(HABITS["exact_copy"][0]), root, expected_hashes={"geo.py": seen})
    assert not result.ok and "changed on disk" in result.rejection_message()
    assert (root / "geo.py").read_text() == CODE + "# user edit\n"


def test_create_delete_rename_and_dry_run(make_repo: GitRepoFactory) -> None:
    root = make_repo({"geo.py": CODE, "old.py": "o\n"})
    edits = [CreateFile("pkg/new.py", "n\n"), DeleteFile("old.py"), RenameFile("geo.py", "shapes/geo.py")]
    dry = apply_edits(list(edits), root, dry_run=True)
    assert dry.ok and not (root / "pkg").exists() and (root / "old.py").exists()
    result = apply_edits(list(edits), root)
    assert [(item.path, item.status) for item in result.files] == [
        ("pkg/new.py", "created"),
        ("old.py", "deleted"),
        ("geo.py", "renamed"),
    ]
    assert (root / "pkg/new.py").read_text() == "n\n"
    assert not (root / "old.py").exists() and not (root / "geo.py").exists()
    assert (root / "shapes/geo.py").read_text() == CODE


def test_sequential_blocks_see_earlier_blocks(make_repo: GitRepoFactory) -> None:
    root = make_repo({"geo.py": CODE})
    reply = block("    result = w * h\n", "    product = w * h\n") + block(
        "    product = w * h\n    return result\n", "    product = w * h\n    return product\n"
    )
    assert apply_edits(parse_reply(reply), root).ok
    assert "return product" in (root / "geo.py").read_text()


def test_search_replace_edit_type_is_frozen() -> None:
    edit = SearchReplace("a", "b\n", "c\n")
    with pytest.raises(AttributeError):
        edit.path = "x"  # type: ignore[misc]


TEN = "".join(f"L{n}\n" for n in range(1, 11))


@pytest.mark.parametrize(
    ("habit", "hunk", "expected"),
    [
        # three lines before the insertion are the most a diff keeps, so the dropped L5 came after it
        (
            "diff_dropped_context_after_full_lead",
            " L2\n L3\n L4\n+NEW\n L6\n L7\n",
            TEN.replace("L5\n", "NEW\nL5\n"),
        ),
        (
            "diff_dropped_context_between_removals",
            " L3\n-L4\n-L6\n L7\n",
            TEN.replace("L4\n", "").replace("L6\n", ""),
        ),
        ("diff_dropped_context_either_side", " L3\n L4\n+NEW\n L6\n L7\n", None),
        ("diff_ending_in_added_lines_mid_file", " L3\n L4\n+NEW\n", None),
    ],
)
def test_dropped_diff_context(habit: str, hunk: str, expected: str | None, make_repo: GitRepoFactory) -> None:
    root = make_repo({"t.txt": TEN})
    result = apply_edits(parse_reply(f"--- a/t.txt\n+++ b/t.txt\n@@ -2,5 +2,5 @@\n{hunk}"), root)
    if expected is None:
        assert not result.ok and "uncertain" in result.rejection_message()
        assert (root / "t.txt").read_text() == TEN
    else:
        assert result.ok, result.rejection_message()
        assert (root / "t.txt").read_text() == expected
