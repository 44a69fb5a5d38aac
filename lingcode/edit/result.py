"""What applying a reply did, per file, and the message that tells the model what to fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["modified", "created", "deleted", "renamed", "rejected"]


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file; `reason` says why it was rejected (empty otherwise)."""

    path: str
    status: Status
    reason: str = ""
    new_path: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    """Per-file outcomes of one reply and the unified diff of what changed (empty when nothing did)."""

    files: list[FileResult] = field(default_factory=list)
    diff: str = ""

    @property
    def ok(self) -> bool:
        """True when no file was rejected (so every edit was applied, or would be on a dry run)."""
        return all(item.status != "rejected" for item in self.files)

    @property
    def changed_paths(self) -> list[str]:
        """Paths this reply changed (both sides of a rename), in order; empty when anything was rejected."""
        if not self.ok:
            return []
        paths: list[str] = []
        for item in self.files:
            paths.append(item.path)
            if item.new_path:
                paths.append(item.new_path)
        return paths

    def rejection_message(self) -> str:
        """A message for the model: which edits failed, why, what to send instead ('' if none failed)."""
        rejected = [item for item in self.files if item.status == "rejected" and item.reason]
        if not rejected:
            return ""
        parts = [
            "None of your edits were applied (a reply is applied all or nothing). Fix these and send all "
            "of your edits again:"
        ]
        parts += [f"\n{item.path}: {item.reason}" for item in rejected]
        return "\n".join(parts)
