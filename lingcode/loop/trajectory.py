"""Run logs: every run as JSON lines under GITDIR/lingcode/runs/, and their export as fine-tuning data.

Each line is an object with `type` and `t` (seconds since the run began). Types: `start` (task, model),
`message` (role, content: every chat message in order, so a run can be replayed), `reply` (usage, timings),
`edits`, `check`, `notice`, `context_requests` (kind, target, title, answered, tokens of each request one
reply made), `end` (status, iterations, usage, timings).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lingcode.loop.gitcmd import git_dir

__all__ = ["RunLog", "export_sft", "iter_runs", "runs_dir"]

SUCCESS_STATUSES = frozenset({"passed"})
"""Run statuses whose conversations are worth learning from."""


def runs_dir(root: Path) -> Path:
    """Where run logs of a repository live."""
    return git_dir(root) / "lingcode" / "runs"


class RunLog:
    """Append-only JSON-lines log of one run; the file is opened per record, so no handle outlives a write and
    a crash loses nothing already recorded."""

    def __init__(self, root: Path) -> None:
        folder = runs_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        self.path = folder / f"{stamp}-{os.getpid()}.jsonl"
        self._started = time.monotonic()
        self._closed = False

    def record(self, kind: str, **data: Any) -> None:
        """Append one record."""
        if self._closed:
            return
        line = {"type": kind, "t": round(time.monotonic() - self._started, 4), **data}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        """Stop logging; later records are dropped."""
        self._closed = True


def iter_runs(root: Path) -> Iterator[list[dict[str, Any]]]:
    """Every logged run of the repository, oldest first, as its list of records (bad lines skipped)."""
    folder = runs_dir(root)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.jsonl")):
        records: list[dict[str, Any]] = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(record, dict):
                records.append(record)
        yield records


def export_sft(root: Path, out: IO[str]) -> int:
    """Write each successful run as one chat-format line `{"messages": [...]}`; return how many."""
    count = 0
    for records in iter_runs(root):
        end = next((r for r in reversed(records) if r.get("type") == "end"), None)
        if end is None or end.get("status") not in SUCCESS_STATUSES:
            continue
        messages = [
            {"role": r["role"], "content": r["content"]}
            for r in records
            if r.get("type") == "message" and isinstance(r.get("content"), str)
        ]
        if not messages or messages[-1]["role"] != "assistant":
            continue
        out.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
        count += 1
    return count
