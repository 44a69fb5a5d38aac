"""Review findings: what one looks like, and how to read them out of what a small model wrote.

The review template asks for one line per finding, after a `FINDINGS:` line:

    FINDING: path/to/file.py:12: warning: one sentence saying what is wrong and why

optionally followed by a suggested edit as a SEARCH/REPLACE block (the edit engine's format). Small models
drift from that shape, so the reader accepts the habits seen in practice and ignores everything else:
bullets or numbering before the line, markdown bold or backticks around parts, `line 12` instead of `12`,
a column or a range after the line, a severity in brackets or parentheses, severity synonyms (`bug`,
`high`, `nit`, `note`, ...), paths with `a/`/`b/`/`./` prefixes or only the file's name, reasoning inside
`<think>` tags, and prose before the findings. A line naming a file that was not reviewed is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "error"]
FailOn = Literal["info", "warning", "error", "never"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2, "never": 3}
"""Order of severities; `never` ranks above every finding, so nothing reaches it."""

_SEVERITY_WORDS: dict[str, Severity] = {
    "error": "error",
    "err": "error",
    "bug": "error",
    "critical": "error",
    "high": "error",
    "fatal": "error",
    "blocker": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "moderate": "warning",
    "major": "warning",
    "info": "info",
    "information": "info",
    "note": "info",
    "low": "info",
    "minor": "info",
    "nit": "info",
    "style": "info",
    "suggestion": "info",
    "hint": "info",
}

_FINDING_RE = re.compile(
    r"""^\s*(?:[-*•+]|\d+[.)])?\s*                     # a bullet or a number
    (?:finding\s*\d*\s*[:\-]?)?\s*                   # an optional FINDING label
    [`'"]?(?P<path>[^\s:`'"]+)[`'"]?\s*               # the path
    (?::|,|\s)\s*(?:line\s*|l\.?\s*)?(?P<line>\d+)   # :12, line 12
    (?:\s*[-:–]\s*\d+)?[`'"]?\s*[:,\-–]?\s*          # a column or range, :12:5 or :12-14
    [\[(]?\s*(?P<severity>[A-Za-z]+)\s*[\])]?         # the severity, perhaps [bracketed]
    \s*[:\-–]\s*(?P<message>\S.*?)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_MARKER_RE = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?findings(?:\*\*)?\s*:?\s*(?:\*\*)?\s*$", re.IGNORECASE)
_THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_THINK_LINES_RE = re.compile(r"^\s*THINK\s*$.*?(?:^\s*END\s*THINK\s*$|\Z)", re.DOTALL | re.MULTILINE)
_SEARCH_RE = re.compile(r"^\s*<{5,9}\s*SEARCH\b", re.IGNORECASE)
_REPLACE_END_RE = re.compile(r"^\s*>{5,9}\s*REPLACE\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One review finding: where, how bad, what, and optionally an edit that would fix it."""

    path: str
    """Repository-relative path, forward slashes."""
    line: int
    """1-based line in the reviewed (new) version of the file."""
    severity: Severity
    message: str
    suggestion: str | None = None
    """A SEARCH/REPLACE block (the edit engine's format, markers included) suggested by the model."""

    def to_dict(self) -> dict[str, object]:
        """The JSON form of the finding."""
        return {
            "file": self.path,
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def severity_of(word: str) -> Severity | None:
    """The severity a word stands for, or None when it is not one."""
    return _SEVERITY_WORDS.get(word.strip().lower())


def at_or_over(finding: Finding, fail_on: FailOn) -> bool:
    """Whether a finding is severe enough to fail the review under `--fail-on`."""
    return SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[fail_on]


def parse_findings(text: str, reviewed: Iterable[str]) -> list[Finding]:
    """Read findings from a model's reply; lines that are not findings about a reviewed file are ignored."""
    resolver = _PathResolver(reviewed)
    lines = _findings_section(text).splitlines()
    findings: list[Finding] = []
    index = 0
    while index < len(lines):
        parsed = _parse_line(lines[index], resolver)
        index += 1
        if parsed is None:
            continue
        block, index = _suggestion_after(lines, index, resolver)
        finding = Finding(parsed[0], parsed[1], parsed[2], parsed[3], block)
        if finding not in findings:  # small models repeat themselves
            findings.append(finding)
    return findings


def answered(text: str) -> bool:
    """Whether a reply reached its answer: a FINDINGS line, a NO FINDINGS line or a finding-shaped line."""
    lines = _THINK_LINES_RE.sub("", _THINK_RE.sub("", text)).splitlines()
    return any(
        _MARKER_RE.match(line) or "no findings" in line.lower() or _FINDING_RE.match(line.replace("**", ""))
        for line in lines
    )


def _findings_section(text: str) -> str:
    """Drop reasoning: `<think>` and THINK/END THINK blocks, or all before the last `FINDINGS:` line."""
    text = _THINK_RE.sub("", text)
    lines = text.splitlines()
    markers = [i for i, line in enumerate(lines) if _MARKER_RE.match(line)]
    if markers:
        return "\n".join(lines[markers[-1] + 1 :])
    return _THINK_LINES_RE.sub("", text)


def _parse_line(line: str, resolver: _PathResolver) -> tuple[str, int, Severity, str] | None:
    match = _FINDING_RE.match(line.replace("**", ""))  # markdown bold lands anywhere; paths never hold it
    if match is None:
        return None
    severity = severity_of(match["severity"])
    path = resolver.resolve(match["path"])
    if severity is None or path is None:
        return None
    message = match["message"].strip().strip("*_").strip()
    if not message:
        return None
    return path, max(1, int(match["line"])), severity, message


def _suggestion_after(lines: list[str], index: int, resolver: _PathResolver) -> tuple[str | None, int]:
    """A SEARCH/REPLACE block that follows a finding (before the next finding), and where reading resumes."""
    start = index
    while index < len(lines) and _parse_line(lines[index], resolver) is None:
        if _SEARCH_RE.match(lines[index]):
            end = index
            while end < len(lines) and not _REPLACE_END_RE.match(lines[end]):
                end += 1
            if end == len(lines):
                return None, start  # an unfinished block is no suggestion
            return "\n".join(lines[index : end + 1]) + "\n", end + 1
        index += 1
    return None, start


class _PathResolver:
    """Maps what a model wrote for a path onto one of the reviewed paths."""

    def __init__(self, reviewed: Iterable[str]) -> None:
        self.paths = list(dict.fromkeys(reviewed))
        self.exact = set(self.paths)

    def resolve(self, written: str) -> str | None:
        path = written.replace("\\", "/").strip().rstrip(".,;")
        for prefix in ("a/", "b/", "./"):
            if path.startswith(prefix) and path not in self.exact:
                path = path[len(prefix) :]
        path = path.lstrip("/")
        if path in self.exact:
            return path
        # a bare name or a path with a leading directory we don't know: accept one unambiguous suffix match
        tails = [p for p in self.paths if p.endswith("/" + path) or path.endswith("/" + p)]
        return tails[0] if len(tails) == 1 else None
