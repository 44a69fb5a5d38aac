"""Writing a review's outcome: terminal text (quiet when there is nothing to say), JSON, or SARIF."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TextIO

from lingcode.model.reply import Usage
from lingcode.run.review_findings import Finding

if TYPE_CHECKING:
    from lingcode.run.sarif import ReadFile

Format = Literal["text", "json", "sarif"]


@dataclass
class ReviewOutcome:
    """What a review found (or why it was skipped), ready to be written in any format."""

    mode: str
    files: list[str]
    findings: list[Finding] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    duration_s: float = 0.0
    skipped: str | None = None
    """Why the model was not asked (server down, over budget); None when the review ran."""

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        counted = Counter(f.severity for f in self.findings)
        return {sev: counted.get(sev, 0) for sev in ("error", "warning", "info")}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the outcome."""
        return {
            "status": "skipped" if self.skipped else "ok",
            "reason": self.skipped,
            "mode": self.mode,
            "files": self.files,
            "findings": [f.to_dict() for f in self.findings],
            "counts": self.counts(),
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cached_tokens": self.usage.cached_tokens,
            },
            "duration_s": round(self.duration_s, 3),
        }


def write_outcome(
    outcome: ReviewOutcome, fmt: Format, out: TextIO, read_file: ReadFile | None = None
) -> None:
    """Write `outcome` to `out` in `fmt`; text says nothing at all when there are no findings."""
    if fmt == "json":
        out.write(json.dumps(outcome.to_dict(), indent=2) + "\n")
    elif fmt == "sarif":
        from lingcode.run.sarif import to_sarif  # with hashlib: not worth loading for the hook's text output

        out.write(json.dumps(to_sarif(outcome.findings, read_file), indent=2) + "\n")
    elif outcome.findings:
        out.write(format_text(outcome.findings))
    out.flush()


def format_text(findings: list[Finding]) -> str:
    """Findings as `path:line: severity: message` lines (the form editors jump to), then a summary."""
    lines: list[str] = []
    for finding in findings:
        lines.append(f"{finding.path}:{finding.line}: {finding.severity}: {finding.message}")
        if finding.suggestion:
            lines.append("  suggested fix:")
            lines.extend(f"    {row}" for row in finding.suggestion.rstrip("\n").splitlines())
    counted: Counter[str] = Counter(f.severity for f in findings)
    names = {"error": "errors", "warning": "warnings", "info": "info"}
    parts = [f"{counted[s]} {s if counted[s] == 1 else names[s]}" for s in names if counted[s]]
    shown = ", ".join(parts)
    lines.append(f"lingcode review: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({shown})")
    return "\n".join(lines) + "\n"
