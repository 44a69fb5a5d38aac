"""Parsing replies: each case is named after the model habit it absorbs."""

from __future__ import annotations

import pytest

from lingcode.edit import (
    CreateFile,
    DeleteFile,
    FormatError,
    Hunk,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
    parse_reply,
)

SR = "a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"
ONE = [SearchReplace("a.py", "old\n", "new\n")]

HABITS = {
    "bare_block": (SR, ONE),
    "fenced_block_with_language": ("a.py\n```python\n" + SR.split("\n", 1)[1] + "```\n", ONE),
    "prose_before_and_after": ("Here is the fix:\n\n" + SR + "\nThat should do it.\n", ONE),
    "path_in_backticks": ("`a.py`\n" + SR.split("\n", 1)[1], ONE),
    "path_in_bold_with_colon": ("**a.py**:\n" + SR.split("\n", 1)[1], ONE),
    "path_as_markdown_heading": ("### a.py\n" + SR.split("\n", 1)[1], ONE),
    "crlf_reply": (SR.replace("\n", "\r\n"), ONE),
    "reasoning_section_first": ("<think>\na.py\n<<<<<<< SEARCH\nnot this\n</think>\n" + SR, ONE),
    "longer_markers": ("a.py\n<<<<<<<<< SEARCH\nold\n=========\nnew\n>>>>>>>>> REPLACE\n", ONE),
    "second_block_without_path": (
        SR + "\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n",
        [*ONE, SearchReplace("a.py", "x\n", "y\n")],
    ),
    "empty_search_creates": (
        "new.py\n<<<<<<< SEARCH\n=======\nhello\n>>>>>>> REPLACE\n",
        [CreateFile("new.py", "hello\n")],
    ),
    "empty_replace_deletes_lines": (
        "a.py\n<<<<<<< SEARCH\nold\n=======\n>>>>>>> REPLACE\n",
        [SearchReplace("a.py", "old\n", "")],
    ),
    "no_edits_just_talk": ("I think the bug is in a.py, but I am not sure.\n", []),
    "whole_file_in_fence": ("src/m.py\n```python\nx = 1\n```\n", [WholeFile("src/m.py", "x = 1\n")]),
    "whole_file_with_inner_fence": (
        "README.md\n````\ntext\n```\ncode\n```\n````\n",
        [WholeFile("README.md", "text\n```\ncode\n```\n")],
    ),
    "git_diff": (
        "diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n"
        "@@ -3,2 +3,2 @@ def f():\n x\n-old\n+new\n",
        [UnifiedDiff("a.py", (Hunk(((" ", "x"), ("-", "old"), ("+", "new")), 3),))],
    ),
    "diff_without_prefixes_or_numbers": (
        "```diff\n--- a.py\n+++ a.py\n@@ ... @@\n x\n-old\n+new\n```\n",
        [UnifiedDiff("a.py", (Hunk(((" ", "x"), ("-", "old"), ("+", "new")), None),))],
    ),
    "diff_blank_context_without_space": (
        "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n\n-old\n+new\n",
        [UnifiedDiff("a.py", (Hunk(((" ", "x"), (" ", ""), ("-", "old"), ("+", "new")), 1),))],
    ),
    "diff_new_file": ("--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+hi\n", [CreateFile("n.py", "hi\n")]),
    "diff_deleted_file": ("--- a/n.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-hi\n", [DeleteFile("n.py")]),
    "git_rename": (
        "diff --git a/x.py b/y.py\nsimilarity index 100%\nrename from x.py\nrename to y.py\n",
        [RenameFile("x.py", "y.py")],
    ),
    "delete_and_rename_lines": (
        "DELETE FILE: old.py\nRENAME FILE: a.py -> b.py\n",
        [DeleteFile("old.py"), RenameFile("a.py", "b.py")],
    ),
}


@pytest.mark.parametrize("habit", sorted(HABITS))
def test_habit(habit: str) -> None:
    reply, expected = HABITS[habit]
    assert parse_reply(reply) == expected


BROKEN = {
    "search_without_divider": "a.py\n<<<<<<< SEARCH\nold\n>>>>>>> REPLACE\n",
    "search_never_closed": "a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n",
    "replace_without_search": "a.py\nnew\n>>>>>>> REPLACE\n",
    "block_without_any_path": "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n",
    "diff_without_hunks": "--- a/a.py\n+++ b/a.py\nsome prose\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_markers_raise_a_model_facing_error(case: str) -> None:
    with pytest.raises(FormatError) as info:
        parse_reply(BROKEN[case])
    assert info.value.message and "\n" not in info.value.message.strip()


def test_unclosed_reasoning_means_no_edits() -> None:
    assert parse_reply("<think>\nstill thinking\n" + SR) == []


def test_a_quoted_path_may_hold_spaces_and_a_bare_sentence_is_no_path() -> None:
    block = "<<<<<<< SEARCH\nidea\n=======\nidea, edited\n>>>>>>> REPLACE\n"
    for line in ("`notes/my idea café.txt`", '"notes/my idea café.txt"', "**`notes/my idea café.txt`**"):
        edits = parse_reply(f"{line}\n{block}")
        assert [e.path for e in edits] == ["notes/my idea café.txt"]
    with pytest.raises(FormatError, match="names no file"):
        parse_reply(f"Here is the fix\n{block}")
