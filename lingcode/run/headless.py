"""`lingcode run`: one task, no UI. Progress goes to stderr, the result to stdout; it never prompts.

Output formats: `text` (a short summary), `json` (one JSON object, one line), `stream-json` (every event as a
JSON line as it happens, then the result line with `"type": "result"`).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Literal, TextIO

from lingcode.config import Config
from lingcode.errors import ExitCode, LingcodeError, ModelUnavailable, UsageError
from lingcode.events import (
    CheckFinished,
    CheckStarted,
    ContextBuilt,
    ContextRequested,
    EditsApplied,
    EditsRejected,
    ModelDelta,
    ModelReplied,
    Notice,
    Usage,
)
from lingcode.loop.agent import Agent
from lingcode.loop.commit import commit_changes, commit_message
from lingcode.loop.outcomes import RunResult

__all__ = ["OutputFormat", "run_headless"]

OutputFormat = Literal["text", "json", "stream-json"]


def run_headless(
    config: Config,
    root: Path,
    task: str,
    *,
    output_format: OutputFormat = "text",
    patch_out: Path | None = None,
    no_apply: bool = False,
    commit: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one task to an end and print the result; return the exit code (see lingcode.errors)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    if not task.strip():
        raise UsageError("the task is empty")
    if no_apply and commit:
        raise UsageError("--commit and --no-apply cannot be used together")
    progress = _Progress(err, out if output_format == "stream-json" else None)
    from lingcode.model.embedded import open_model

    try:
        model = open_model(config, progress=lambda line: progress.say(line))
    except ModelUnavailable as exc:
        result = _unavailable(exc)
    else:
        with model:
            agent = Agent(config, model, root, progress, no_apply=no_apply, require_tests=True)
            result = agent.run(task)
            if commit and result.exit_code == ExitCode.OK and result.files_changed:
                result = _commit(model, root, task, result, progress)
    if patch_out is not None:
        patch_out.write_text(result.diff, encoding="utf-8")
    _print_result(result, output_format, out)
    return result.exit_code


def _commit(model: Any, root: Path, task: str, result: RunResult, progress: _Progress) -> RunResult:
    try:
        sha = commit_changes(root, result.files_changed, commit_message(model, root, task, result.diff))
    except LingcodeError as exc:
        progress.say(f"commit failed: {exc.message}")
        message = f"{result.message}; the commit failed: {exc}"
        return dataclasses.replace(
            result, status="commit_failed", exit_code=int(ExitCode.FAILED), message=message
        )
    progress.say(f"committed {sha[:12]}")
    return dataclasses.replace(result, message=f"{result.message}; committed {sha[:12]}")


def _unavailable(exc: ModelUnavailable) -> RunResult:
    return RunResult(
        status="model_unavailable",
        exit_code=int(ExitCode.MODEL_UNAVAILABLE),
        message=f"model server unavailable: {exc.message}",
        iterations=0,
        tests_passed=None,
        files_changed=(),
        usage=Usage(),
    )


def _print_result(result: RunResult, output_format: OutputFormat, out: TextIO) -> None:
    if output_format == "json":
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    elif output_format == "stream-json":
        out.write(json.dumps({"type": "result", **result.to_json()}, ensure_ascii=False) + "\n")
    else:
        out.write(f"{result.status}: {result.message}\n")
        if result.files_changed:
            out.write(f"files changed: {', '.join(result.files_changed)}\n")
        usage = result.usage
        out.write(
            f"iterations: {result.iterations}; tokens: {usage.prompt_tokens} prompt "
            f"({usage.cached_tokens} cached), {usage.completion_tokens} completion; "
            f"{result.timings.get('total_s', 0.0):.1f}s\n"
        )
    out.flush()


class _Progress:
    """The event sink of a headless run: one short line per step on stderr, every event on the stream."""

    def __init__(self, err: TextIO, stream: TextIO | None) -> None:
        self.err = err
        self.stream = stream
        self._replying = False

    def say(self, line: str) -> None:
        self.err.write(f"lingcode: {line}\n")
        self.err.flush()

    def __call__(self, event: Any) -> None:
        if self.stream is not None and dataclasses.is_dataclass(event) and not isinstance(event, type):
            data = {"type": type(event).__name__, **dataclasses.asdict(event)}
            self.stream.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
            self.stream.flush()
        line = self._line(event)
        if line:
            self.say(line)

    def _line(self, event: Any) -> str | None:
        if isinstance(event, ModelDelta):
            if self._replying:
                return None
            self._replying = True
            return "model is replying..."
        self._replying = False
        if isinstance(event, ContextBuilt):
            return f"context: {len(event.files)} files, {event.tokens} tokens"
        if isinstance(event, ModelReplied):
            u = event.usage
            return (
                f"reply: {u.completion_tokens} tokens, {event.tokens_per_s:.1f} tok/s, "
                f"prompt {u.prompt_tokens} ({u.cached_tokens} cached)"
            )
        if isinstance(event, EditsApplied):
            return (
                f"applied edits to {', '.join(event.files)}" if event.files else "the edits changed no file"
            )
        if isinstance(event, EditsRejected):
            first = event.message.strip().splitlines()
            return f"edits rejected: {first[-1] if first else ''}"
        if isinstance(event, CheckStarted):
            return f"checks: $ {event.command}"
        if isinstance(event, CheckFinished):
            state = "passed" if event.passed else ("timed out" if event.timed_out else "failed")
            return f"checks {state} in {event.duration_s:.1f}s"
        if isinstance(event, ContextRequested):
            refused = "" if event.answered else " (refused or not found)"
            return f"the model asked for {event.kind} {event.target}{refused}"
        if isinstance(event, Notice):
            return event.message
        return None
