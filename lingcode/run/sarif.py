"""Review findings as a SARIF 2.1.0 log, the format code-scanning tools (GitHub, GitLab, IDEs) read.

One run, one tool (`lingcode`), one rule per severity (lingcode's findings are free text, so a rule only
says how bad a finding is). Locations are relative to the `SRCROOT` base. A suggested edit becomes a SARIF
`fix` when its SEARCH text is found in the reviewed file, so a viewer can show the replacement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from lingcode import __version__
from lingcode.run.review_findings import Finding

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/lingcode/lingcode"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_RULES = {
    "error": ("lingcode.review.error", "A likely bug or crash found by model review."),
    "warning": ("lingcode.review.warning", "Likely wrong or risky code found by model review."),
    "info": ("lingcode.review.info", "Code worth a second look, found by model review."),
}

ReadFile = Callable[[str], str | None]
"""Returns the reviewed content of a repository-relative path (None when unknown)."""


def to_sarif(findings: list[Finding], read_file: ReadFile | None = None) -> dict[str, Any]:
    """A SARIF log holding `findings`; `read_file` lets suggested edits become SARIF fixes."""
    rule_ids = list(_RULES)
    rules = [
        {
            "id": _RULES[sev][0],
            "name": f"Review{sev.capitalize()}",
            "shortDescription": {"text": _RULES[sev][1]},
            "defaultConfiguration": {"level": _LEVELS[sev]},
        }
        for sev in rule_ids
    ]
    results = [_result(f, rule_ids.index(f.severity), read_file) for f in findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lingcode",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"description": {"text": "The repository root."}}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _result(finding: Finding, rule_index: int, read_file: ReadFile | None) -> dict[str, Any]:
    location = {"uri": finding.path, "uriBaseId": "SRCROOT"}
    result: dict[str, Any] = {
        "ruleId": _RULES[finding.severity][0],
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            # code scanning rejects a region line below 1 (a model may answer "line 0" for a whole file)
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": max(1, finding.line)},
                }
            }
        ],
        # lets code scanning recognise the same finding across runs even when lines move
        "partialFingerprints": {"lingcodeFinding/v1": _fingerprint(finding)},
    }
    fix = _fix(finding, read_file) if read_file is not None else None
    if fix is not None:
        result["fixes"] = [fix]
    return result


def _fingerprint(finding: Finding) -> str:
    return hashlib.sha256(f"{finding.path}\0{finding.severity}\0{finding.message}".encode()).hexdigest()[:32]


def _fix(finding: Finding, read_file: ReadFile) -> dict[str, Any] | None:
    """A SARIF fix replacing the suggestion's SEARCH lines, when they occur exactly once in the file."""
    if finding.suggestion is None:
        return None
    parts = _split_block(finding.suggestion)
    content = read_file(finding.path)
    if parts is None or content is None:
        return None
    search, replace = parts
    if not search or content.count(search) != 1:
        return None
    replacement = {
        # character offsets count code points, matching the run's columnKind
        "deletedRegion": {"charOffset": content.index(search), "charLength": len(search)},
        "insertedContent": {"text": replace},
    }
    return {
        "description": {"text": f"Suggested fix: {finding.message}"},
        "artifactChanges": [
            {"artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"}, "replacements": [replacement]}
        ],
    }


def _split_block(block: str) -> tuple[str, str] | None:
    """SEARCH and REPLACE text (whole lines, newline-terminated) of one SEARCH/REPLACE block."""
    lines = block.splitlines()
    try:
        divider = next(i for i, line in enumerate(lines) if line.strip().startswith("=====") and i > 0)
    except StopIteration:
        return None
    search = lines[1:divider]
    replace = lines[divider + 1 : -1]
    return "".join(f"{line}\n" for line in search), "".join(f"{line}\n" for line in replace)
