"""The interactive Session API the terminal UI drives: one conversation in one repository.

Every method blocks and may be called from a worker thread (calls are serialised by a lock); events go to
`sink`. It never imports the UI. `ask` proposes edits without writing; `apply` writes the accepted ones.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingcode.config import Config
from lingcode.errors import UsageError
from lingcode.events import EventSink
from lingcode.loop.agent import Agent
from lingcode.loop.changes import Changes, edit_paths
from lingcode.loop.checkpoint import diff_since, drop_checkpoint, load_checkpoint, restore
from lingcode.loop.checks import CheckResult
from lingcode.loop.commit import commit_changes, commit_message
from lingcode.loop.gitcmd import git_dir
from lingcode.loop.lock import RunLock
from lingcode.loop.outcomes import Cancelled, RunResult
from lingcode.loop.requests import find_requests, send_answers
from lingcode.loop.stream import split_reasoning
from lingcode.loop.workspace import Workspace
from lingcode.prompts import render

if TYPE_CHECKING:
    from lingcode.context import Context
    from lingcode.edit import ApplyResult, Edit
    from lingcode.model import ModelClient

__all__ = ["Proposal", "Session"]


@dataclass(frozen=True)
class Proposal:
    """One model turn's proposal: its text, reasoning, parsed edits and per-file diffs (nothing written)."""

    reply: str
    reasoning: str
    edits: list[Edit] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    """path -> unified diff the edits would make."""
    error: str | None = None
    """Why the reply cannot be applied (format error or rejection); it is sent back on the next ask."""


class Session:
    """One interactive conversation in one repository."""

    def __init__(self, config: Config, root: Path, model: ModelClient, sink: EventSink) -> None:
        self.config, self.root, self.model, self.sink = config, root.resolve(), model, sink
        self.named_files: list[str] = []
        self._lock = threading.RLock()
        self._pending: list[str] = []
        self._shown: set[str] = set()
        self._task = ""
        # the session takes its own checkpoint before its first edit; an older one (a headless run's) is only
        # used by undo when the session has none
        self.ws = Workspace(config, model, self.root, sink)

    @property
    def history(self) -> list[dict[str, str]]:
        """The chat messages so far (system prompt first)."""
        return self.ws.messages

    # -- files in context ------------------------------------------------------------------------------------

    def add_files(self, paths: list[str]) -> list[str]:
        """Add files to the context (repository-relative); UsageError for missing paths or paths outside."""
        added: list[str] = []
        for raw in paths:
            rel = self._relative(raw)
            if rel not in self.named_files:
                self.named_files.append(rel)
                added.append(rel)
        return added

    def drop_files(self, paths: list[str]) -> list[str]:
        """Remove files from the context; returns those that were there."""
        dropped = [
            p for p in (self._relative(raw, must_exist=False) for raw in paths) if p in self.named_files
        ]
        self.named_files = [p for p in self.named_files if p not in dropped]
        return dropped

    def _relative(self, raw: str, must_exist: bool = True) -> str:
        path = (self.root / raw).resolve() if not Path(raw).is_absolute() else Path(raw).resolve()
        if not path.is_relative_to(self.root) or ".git" in path.relative_to(self.root).parts:
            raise UsageError(f"{raw}: outside the repository {self.root}")
        if must_exist and not path.is_file():
            raise UsageError(f"{raw}: no such file")
        return path.relative_to(self.root).as_posix()

    def context(self, task: str = "") -> Context:
        """What the context engine would show the model for `task` (files with scores and reasons, tokens)."""
        with self._lock:
            return self.ws.build_context(task or self._task, self.named_files)

    # -- model turns and edits -------------------------------------------------------------------------------

    def ask(self, text: str, cancel: threading.Event | None = None) -> Proposal:
        """One model turn: the reply streams out as events; its edits are checked but not written."""
        with self._lock:
            self._send(text)
            try:
                allowance = self.config.loop.max_context_requests
                self.ws.may_request = allowance > 0
                reply = self.ws.ask(cancel)
                for asked in range(1, allowance + 1):
                    requests = find_requests(reply.text)
                    if not requests or self._edits(reply.text):
                        break
                    send_answers(self.ws, requests)
                    self.ws.may_request = asked < allowance  # the last answer is followed by edits only
                    reply = self.ws.ask(cancel)
            except Cancelled:
                return Proposal(
                    reply=self.ws.messages[-1]["content"], reasoning="", error="stopped by the user"
                )
            return self._propose(reply.text)

    def _send(self, text: str) -> None:
        ws = self.ws
        ws.note_task(text)
        if not ws.messages:
            self._task = text
            ws.say("system", ws.system_prompt())
            context = ws.build_context(text, self.named_files, around=ws.messages[0]["content"] + text)
            ws.context_paths = [f.path for f in context.files if f.included]
            self._shown = set(self.named_files)
            ws.user("task", context=context.text, task=text, check_output="", check_command=ws.test_cmd or "")
        else:
            from lingcode.context import read_file_for_prompt

            new = [p for p in self.named_files if p not in self._shown]
            self._shown.update(new)
            ws.context_paths = [*ws.context_paths, *new]
            files = [(p, _read_or_note(self.root, p, read_file_for_prompt)) for p in new]
            ws.user("followup", text=text, notes=self._pending, files=files)
        self._pending = []

    @staticmethod
    def _edits(text: str) -> list[Edit]:
        from lingcode.edit import FormatError, parse_reply

        try:
            return parse_reply(text)
        except FormatError:
            return []

    def _propose(self, text: str) -> Proposal:
        from lingcode.edit import FormatError, parse_reply

        reasoning, _ = split_reasoning(text)
        try:
            edits = parse_reply(text)
        except FormatError as exc:
            self._pending.append(render("format_error", self.root, message=exc.message))
            return Proposal(text, reasoning, error=exc.message)
        if not edits:
            return Proposal(text, reasoning)
        preview = self.ws.apply(edits, dry_run=True)
        if not preview.ok:
            message = preview.rejection_message()
            self._pending.append(render("edit_rejected", self.root, message=message))
            return Proposal(text, reasoning, edits, error=message)
        return Proposal(text, reasoning, edits, split_diff(preview.diff))

    def apply(self, proposal: Proposal, files: list[str] | None = None) -> ApplyResult:
        """Write the proposal's edits (all, or those touching `files`), all or nothing among them."""
        with self._lock, RunLock(self.root, "session"):
            chosen = proposal.edits if files is None else [e for e in proposal.edits if _touches(e, files)]
            left_out = sorted({p for e in proposal.edits if e not in chosen for p in edit_paths([e])})
            if chosen:
                result = self.ws.apply(chosen)
            else:
                from lingcode.edit import ApplyResult

                result = ApplyResult()  # nothing accepted: nothing to write, no checkpoint needed
            if left_out:
                applied = result.changed_paths
                self._pending.append(render("user_rejected", self.root, files=left_out, applied=applied))
            if not result.ok:
                self._pending.append(render("edit_rejected", self.root, message=result.rejection_message()))
            return result

    def run_checks(self, cancel: threading.Event | None = None) -> CheckResult:
        """Run the checks (related tests first); a failure is told to the model on the next ask."""
        with self._lock, RunLock(self.root, "session"):
            if not self.ws.test_cmd:
                raise UsageError(
                    "no test command found; set loop.test_cmd (e.g. -c loop.test_cmd='pytest -q')"
                )
            result = self.ws.check(self.ws.changes.changed(), self.config.loop.test_timeout, cancel)
            assert result is not None
            if not result.passed:
                output, trimmed = self.ws.failure_text(result)
                note = render(
                    "tests_failed", self.root, command=result.command, output=output, trimmed=trimmed, diff=""
                )
                self._pending.append(note)
            return result

    def run_until_green(self, text: str, cancel: threading.Event | None = None) -> RunResult:
        """The whole loop on `text`, applying edits itself; undo still returns to the first checkpoint."""
        with self._lock:
            agent = Agent(self.config, self.model, self.root, self.sink, checkpoint=self.ws.checkpoint)
            result = agent.run(text, cancel)
            if agent.checkpoint is not None:
                self.ws.checkpoint = agent.checkpoint
            if getattr(agent, "ws", None) is not None:
                self.ws.changes.merge(agent.ws.changes)
            self._pending.append(f"(The user ran the task {text!r} with lingcode's loop: {result.message}.)")
            return result

    # -- safety and git --------------------------------------------------------------------------------------

    def diff(self) -> str:
        """The work tree against the checkpoint taken before lingcode's first edit ('' when none)."""
        with self._lock:
            checkpoint = self.ws.checkpoint
            return diff_since(self.root, checkpoint) if checkpoint is not None else ""

    def undo(self) -> str:
        """Restore the checkpoint; returns a one-line message."""
        with self._lock, RunLock(self.root, "undo"):
            checkpoint = self.ws.checkpoint or load_checkpoint(self.root)
            if checkpoint is None:
                return "nothing to undo: lingcode has not changed anything here"
            restored = restore(self.root, checkpoint)
            drop_checkpoint(self.root)
            self.ws.checkpoint = None
            self.ws.changes = Changes(self.root)
            self._pending.append(render("undone", self.root))
            return f"restored {len(restored)} file(s) to how they were before lingcode's first edit"

    def commit(self, message: str | None = None) -> str:
        """Commit lingcode's changes (generated message when None; hooks run); returns the new sha."""
        with self._lock, RunLock(self.root, "commit"):
            paths = self.ws.changes.changed()
            if message is None:
                message = commit_message(self.model, self.root, self._task, self.ws.changes.diff())
            sha = commit_changes(self.root, paths, message)
            drop_checkpoint(self.root)
            self.ws.checkpoint = None
            self.ws.changes = Changes(self.root)
            return sha

    # -- conversation ----------------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the conversation (the files and the checkpoint stay)."""
        with self._lock:
            self.ws.messages.clear()
            self._pending = []
            self._shown = set()
            self._task = ""

    def save(self) -> Path:
        """Persist the conversation under the git dir, for `lingcode --resume`."""
        with self._lock:
            path = _session_path(self.root)
            path.parent.mkdir(parents=True, exist_ok=True)
            state: dict[str, Any] = {
                "named_files": self.named_files,
                "history": self.history,
                "pending": self._pending,
                "shown": sorted(self._shown),
                "task": self._task,
            }
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
            return path

    @classmethod
    def resume(cls, config: Config, root: Path, model: ModelClient, sink: EventSink) -> Session:
        """The last saved session of this repository; UsageError when there is none."""
        path = _session_path(root.resolve())
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UsageError(f"no saved session to resume in {root}") from None
        session = cls(config, root, model, sink)
        session.named_files = [str(p) for p in state.get("named_files", [])]
        session.ws.messages.extend(dict(m) for m in state.get("history", []))
        session._pending = [str(n) for n in state.get("pending", [])]
        session._shown = {str(p) for p in state.get("shown", [])}
        session._task = str(state.get("task", ""))
        return session


def _read_or_note(root: Path, path: str, read: Callable[[Path, str], str]) -> str:
    try:
        return read(root, path)
    except (
        Exception
    ) as exc:  # a file removed or made unreadable since /add: say so instead of failing the turn
        return f"(cannot show this file: {exc})"


def _session_path(root: Path) -> Path:
    return git_dir(root) / "lingcode" / "session.json"


def _touches(edit: Edit, files: list[str]) -> bool:
    return any(p in files for p in edit_paths([edit]))


_DIFF_START = re.compile(r"^--- (?:a/)?(\S.*)\n\+\+\+ (?:b/)?(\S.*)$", re.MULTILINE)


def split_diff(diff: str) -> dict[str, str]:
    """A multi-file unified diff split into path -> that file's diff (new path; old path for deletions)."""
    starts = list(_DIFF_START.finditer(diff))
    out: dict[str, str] = {}
    for i, match in enumerate(starts):
        begin = match.start()
        # a preceding `diff --git` header belongs to this file
        header = diff.rfind("diff --git ", starts[i - 1].end() if i else 0, begin)
        begin = header if header >= 0 else begin
        end = starts[i + 1].start() if i + 1 < len(starts) else len(diff)
        next_header = diff.rfind("diff --git ", match.end(), end)
        end = next_header if next_header >= 0 else end
        old, new = match.group(1).strip(), match.group(2).strip()
        out[old if new == "/dev/null" else new] = diff[begin:end]
    return out
