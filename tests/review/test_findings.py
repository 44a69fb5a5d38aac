"""Reading findings out of what small models actually write; each case is named after the habit it absorbs."""

from __future__ import annotations

import pytest

from lingcode.run.review_findings import Finding, answered, at_or_over, parse_findings

REVIEWED = ["src/app.py", "src/util/io.py", "README.md"]

CASES: list[tuple[str, str, list[tuple[str, int, str, str]]]] = [
    (
        "exact_format",
        "FINDINGS:\nFINDING: src/app.py:12: error: divides by zero when n is 0.",
        [("src/app.py", 12, "error", "divides by zero when n is 0.")],
    ),
    (
        "bulleted_without_label",
        "- src/app.py:3: warning: file handle never closed",
        [("src/app.py", 3, "warning", "file handle never closed")],
    ),
    (
        "numbered_list",
        "1. src/app.py:3: info: consider a constant\n2) src/util/io.py:9: error: wrong encoding",
        [("src/app.py", 3, "info", "consider a constant"), ("src/util/io.py", 9, "error", "wrong encoding")],
    ),
    (
        "markdown_bold_and_backticks",
        "**FINDING:** `src/app.py`:7: **error**: off by one in the loop bound",
        [("src/app.py", 7, "error", "off by one in the loop bound")],
    ),
    (
        "word_line_and_bracketed_severity",
        "src/app.py line 40 [warning] - may return None",
        [("src/app.py", 40, "warning", "may return None")],
    ),
    (
        "column_after_line",
        "FINDING: src/app.py:12:5: error: shadowed variable",
        [("src/app.py", 12, "error", "shadowed variable")],
    ),
    (
        "line_range",
        "FINDING: src/app.py:12-15: warning: duplicated block",
        [("src/app.py", 12, "warning", "duplicated block")],
    ),
    (
        "severity_synonyms",
        "FINDING: src/app.py:1: bug: crashes\n"
        "FINDING: src/app.py:2: nit: spacing\n"
        "FINDING: src/app.py:3: high: leak",
        [
            ("src/app.py", 1, "error", "crashes"),
            ("src/app.py", 2, "info", "spacing"),
            ("src/app.py", 3, "error", "leak"),
        ],
    ),
    (
        "upper_case_severity",
        "FINDING: src/app.py:8: WARNING: unchecked return value",
        [("src/app.py", 8, "warning", "unchecked return value")],
    ),
    (
        "diff_prefixes_on_paths",
        "FINDING: b/src/app.py:4: error: bad\nFINDING: ./src/util/io.py:5: info: fine",
        [("src/app.py", 4, "error", "bad"), ("src/util/io.py", 5, "info", "fine")],
    ),
    (
        "bare_file_name",
        "FINDING: io.py:5: warning: missing flush",
        [("src/util/io.py", 5, "warning", "missing flush")],
    ),
    (
        "unknown_file_is_junk",
        "FINDING: net/config.py:14: error: from the prompt's example",
        [],
    ),
    (
        "unknown_severity_is_junk",
        "FINDING: src/app.py:14: maybe: not a severity",
        [],
    ),
    (
        "prose_before_the_marker_is_ignored",
        "I looked at src/app.py:3: error: in my head.\nFINDINGS:\nFINDING: src/app.py:9: error: real one",
        [("src/app.py", 9, "error", "real one")],
    ),
    (
        "think_tags_are_ignored",
        "<think>src/app.py:1: error: thinking aloud</think>\nsrc/app.py:2: error: said out loud",
        [("src/app.py", 2, "error", "said out loud")],
    ),
    (
        "think_lines_without_marker_are_ignored",
        "THINK\nsrc/app.py:1: error: thinking aloud\nEND THINK\nsrc/app.py:2: error: said out loud",
        [("src/app.py", 2, "error", "said out loud")],
    ),
    (
        "no_findings_sentence",
        "THINK\nall good\nEND THINK\nFINDINGS:\nNO FINDINGS",
        [],
    ),
    (
        "repeated_finding_counted_once",
        "FINDING: src/app.py:2: error: same\nFINDING: src/app.py:2: error: same",
        [("src/app.py", 2, "error", "same")],
    ),
    (
        "line_zero_becomes_one",
        "FINDING: README.md:0: info: typo in title",
        [("README.md", 1, "info", "typo in title")],
    ),
    (
        "empty_reply",
        "",
        [],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_findings(text: str, expected: list[tuple[str, int, str, str]]) -> None:
    found = [(f.path, f.line, f.severity, f.message) for f in parse_findings(text, REVIEWED)]
    assert found == expected


def test_suggested_edit_is_attached_to_the_finding_before_it() -> None:
    text = (
        "FINDINGS:\n"
        "FINDING: src/app.py:2: error: wrong sign\n"
        "<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
        "FINDING: src/app.py:9: info: no edit here\n"
    )
    first, second = parse_findings(text, REVIEWED)
    assert (
        first.suggestion == "<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
    )
    assert second.suggestion is None


def test_unfinished_edit_block_is_no_suggestion() -> None:
    text = "FINDING: src/app.py:2: error: wrong sign\n<<<<<<< SEARCH\n    return a - b\n=======\n"
    (finding,) = parse_findings(text, REVIEWED)
    assert finding.suggestion is None


@pytest.mark.parametrize(
    ("severity", "fail_on", "fails"),
    [
        ("error", "error", True),
        ("warning", "error", False),
        ("warning", "warning", True),
        ("info", "warning", False),
        ("info", "info", True),
        ("error", "never", False),
    ],
)
def test_fail_on_threshold(severity: str, fail_on: str, fails: bool) -> None:
    finding = Finding("src/app.py", 1, severity, "m")  # type: ignore[arg-type]
    assert at_or_over(finding, fail_on) is fails  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("THINK\nfine\nEND THINK\nFINDINGS:\nNO FINDINGS\n", True),
        ("NO FINDINGS", True),
        ("src/app.py:3: error: x", True),
        ("THINK\nThe change looks at src/app.py:3: error: and then", False),  # cut off while reasoning
        ("<think>still thinking", False),
        ("I think it is fine.", False),
    ],
)
def test_answered_tells_a_finished_review_from_a_cut_off_one(text: str, expected: bool) -> None:
    assert answered(text) is expected
