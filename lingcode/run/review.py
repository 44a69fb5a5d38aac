"""`lingcode review`: ask the model to review a diff, read its findings, write them, maybe apply its fixes.

As a pre-commit hook (`hook=True`) the review must never be what breaks a commit by accident: it reviews only
staged content, writes nothing, stays within a time budget, and when the model server is missing, failing
or slow it lets the commit through with one warning line (fail open) unless asked to fail closed (exit 3).
It never starts the embedded server then (loading a model takes longer than a hook may); it uses the
configured URL or a server that is already running.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lingcode.config import Config, ModelConfig
from lingcode.errors import (
    ConfigError,
    EditsRejected,
    ExitCode,
    LingcodeError,
    ModelUnavailable,
    TimeoutReached,
    UsageError,
)
from lingcode.run import review_diff
from lingcode.run.review_findings import FailOn, Finding, answered, at_or_over, parse_findings
from lingcode.run.review_output import Format, ReviewOutcome, write_outcome

if TYPE_CHECKING:
    from lingcode.model.client import ModelClient
    from lingcode.model.reply import Reply
    from lingcode.run.sarif import ReadFile

HOOK_GUARD_ENV = "LINGCODE_HOOK_ACTIVE"
"""Set while lingcode runs as a hook; a nested hook run (a commit made by something the review started)
sees it and does nothing."""


@dataclass
class ReviewOptions:
    """What to review and how, from the command line."""

    staged: bool = False
    base: str | None = None
    paths: list[str] = field(default_factory=list)
    format: Format = "text"
    fail_on: FailOn | None = None
    """None uses review.fail_on from the config."""
    fix: bool = False
    patch_out: Path | None = None
    hook: bool = False
    fail_closed: bool | None = None
    """None uses review.fail_closed from the config."""
    budget: float | None = None
    """Seconds; None means review.hook_budget in hook mode and no limit otherwise."""


CHARS_PER_TOKEN = 4
"""Rough characters per token of code, to keep the prompt within context.budget without a tokenizer call."""
MAX_CONTEXT_CHARS = 6_000
"""Cap on the related-code part of the prompt (a small model's context is precious)."""


class _Skip(Exception):
    """The review could not ask the model; carries the one-line reason."""


def review(root: Path, config: Config, options: ReviewOptions, out: TextIO | None = None) -> int:
    """Run one review; the exit code is 0 (clean or skipped), 1 (findings at --fail-on) or 3 (fail closed)."""
    out = out or sys.stdout
    if options.hook and os.environ.get(HOOK_GUARD_ENV):
        return int(ExitCode.OK)  # a commit made from inside our own hook run
    guard_was = os.environ.get(HOOK_GUARD_ENV)
    if options.hook:
        os.environ[HOOK_GUARD_ENV] = "1"  # inherited by everything this review starts
    try:
        return _review(root, config, options, out)
    finally:
        if guard_was is None:
            os.environ.pop(HOOK_GUARD_ENV, None)


def _review(root: Path, config: Config, options: ReviewOptions, out: TextIO) -> int:
    started = time.monotonic()
    target = _target(root, options)
    outcome = ReviewOutcome(target.mode, target.paths)
    if not target.paths and not options.hook:
        what = {"staged": "nothing is staged", "worktree": "the work tree has no changes"}.get(target.mode)
        print(f"lingcode: nothing to review: {what or 'the diff is empty'}", file=sys.stderr)
    if target.paths:
        try:
            _ask_model(root, config, options, target, outcome, started)
        except (_Skip, ModelUnavailable, TimeoutReached) as exc:
            if not options.hook:
                raise _as_error(exc) from None
            return _fail_open_or_closed(root, config, options, target, outcome, str(exc), out)
    outcome.duration_s = time.monotonic() - started
    write_outcome(outcome, options.format, out, _reader(root, options))
    if (options.fix or options.patch_out) and outcome.findings:
        _apply_fixes(root, outcome.findings, options.patch_out)
    fail_on = options.fail_on or config.review.fail_on
    failed = fail_on != "never" and any(at_or_over(f, fail_on) for f in outcome.findings)
    return int(ExitCode.FAILED if failed else ExitCode.OK)


def _target(root: Path, options: ReviewOptions) -> review_diff.ReviewTarget:
    if options.staged and options.base:
        raise UsageError("choose one of --staged and --base")
    if options.hook and not options.staged:
        raise UsageError("--hook reviews staged content only; add --staged")
    paths = [_relative(root, p) for p in options.paths]
    if options.staged:
        return review_diff.staged_target(root, paths)
    if options.base:
        return review_diff.base_target(root, options.base, paths)
    if paths:
        return review_diff.paths_target(root, paths)
    return review_diff.worktree_target(root, [])


def _relative(root: Path, path: str) -> str:
    """A path as given (relative to the current directory, or absolute) made relative to the root."""
    absolute = (Path.cwd() / path).resolve()
    if absolute.is_relative_to(root):
        return absolute.relative_to(root).as_posix()
    return Path(path).as_posix()  # already relative to the root (pre-commit passes root-relative names)


def _ask_model(
    root: Path,
    config: Config,
    options: ReviewOptions,
    target: review_diff.ReviewTarget,
    outcome: ReviewOutcome,
    started: float,
) -> None:
    budget = options.budget
    if budget is None and options.hook:
        budget = config.review.hook_budget
    deadline = None if budget is None else started + budget
    messages, shown = _messages(root, config, options, target)
    try:
        client = _client(config, options.hook, budget)
        reply = _complete_by(client, messages, deadline, budget)
    except ConfigError as exc:
        if not options.hook:
            raise
        raise _Skip(f"the model server refused the request: {exc}") from None  # wrong key or model name
    outcome.findings = parse_findings(reply.text, shown)
    outcome.usage = reply.usage
    if not outcome.findings and (reply.truncated or not answered(reply.text)):
        # say so, or a reply cut off in its reasoning would read as a clean review
        ending = "was cut off" if reply.truncated else "has no FINDINGS section"
        print(f"lingcode: warning: the model's review {ending}; nothing to report from it", file=sys.stderr)


def _client(config: Config, hook: bool, budget: float | None) -> ModelClient:
    """The model client: in hook mode only an already running server, with timeouts inside the budget."""
    from lingcode.model.client import ModelClient

    if not hook:
        if config.model.base_url:
            return ModelClient(config.model, config.model.base_url)
        from lingcode.model import open_model  # may start the embedded server: fine outside a hook

        return open_model(config, progress=lambda line: print(line, file=sys.stderr))
    model = config.model
    url = model.base_url
    if url is None:
        url, model = _running_server(config)
    limit = budget or config.review.hook_budget
    model = replace(
        model,
        connect_timeout=min(model.connect_timeout, limit),
        first_token_timeout=min(model.first_token_timeout, limit),
        idle_timeout=min(model.idle_timeout, limit),
        max_retries=0,  # a hook has no time to wait out a struggling server
    )
    return ModelClient(model, url)


def _running_server(config: Config) -> tuple[str, ModelConfig]:
    """The embedded server an earlier lingcode command left running; never starts one (too slow)."""
    from lingcode.model.embedded import running_server

    state = running_server()
    if state is None:
        raise _Skip(
            "no model server is running; start one with `lingcode serve --detach` or set model.base_url"
        )
    model = replace(
        config.model,
        context_window=config.model.context_window or state.n_ctx,
        engine="llama-cpp-python" if config.model.engine == "auto" else config.model.engine,
    )
    return state.base_url, model


def _messages(
    root: Path, config: Config, options: ReviewOptions, target: review_diff.ReviewTarget
) -> tuple[list[dict[str, str]], list[str]]:
    """The review prompt, and the paths of the files it shows (findings about others are dropped)."""
    from lingcode.context.secrets import is_denied, redact
    from lingcode.prompts import project_instructions, render
    from lingcode.run.review_context import related_code

    scrub = redact if config.context.redact_secrets else str
    room = config.context.budget * CHARS_PER_TOKEN
    files: list[dict[str, str]] = []
    omitted: list[str] = []
    for file in (f for f in target.files if not f.deleted and not is_denied(f.path)):
        numbered = scrub(file.numbered())
        if files and len(numbered) > room:
            omitted.append(file.path)  # reviewed another time, or with a larger context.budget
            continue
        if len(numbered) > room:
            numbered = numbered[:room] + "\n[rest of this file's change left out]"
        files.append({"path": file.path, "numbered": numbered})
        room -= len(numbered)
    # the symbol index costs more than a hook's whole overhead budget on a large repository: opt-in there
    definitions = config.review.hook_definitions or not options.hook
    limit = min(MAX_CONTEXT_CHARS, max(room, 0))
    context = related_code(root, config, target, staged=options.staged, definitions=definitions, limit=limit)
    prompt = render(
        "review",
        root=root,
        files=files,
        omitted=omitted,
        context=scrub(context),
        instructions=project_instructions(root, root),
        suggest_edits=True,
    )
    return [{"role": "user", "content": prompt}], [f["path"] for f in files]


def _complete_by(
    client: ModelClient, messages: list[dict[str, str]], deadline: float | None, budget: float | None
) -> Reply:
    """Ask the model; give up at `deadline` even if the server never answers (the call runs in a thread)."""
    cancel = threading.Event()
    box: dict[str, object] = {}

    def call() -> None:
        try:
            box["reply"] = client.complete(messages, cancel=cancel)
        except BaseException as exc:  # handed to the waiting thread, which decides what it means
            box["error"] = exc

    worker = threading.Thread(target=call, name="review-model", daemon=True)
    worker.start()
    worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        cancel.set()
        raise TimeoutReached(f"the review ran past its {budget:g} s budget")
    error = box.get("error")
    if isinstance(error, BaseException):
        raise error
    reply: Reply = box["reply"]  # type: ignore[assignment]
    return reply


def _fail_open_or_closed(
    root: Path,
    config: Config,
    options: ReviewOptions,
    target: review_diff.ReviewTarget,
    outcome: ReviewOutcome,
    reason: str,
    out: TextIO,
) -> int:
    closed = options.fail_closed if options.fail_closed is not None else config.review.fail_closed
    verdict = "commit blocked (fail closed)" if closed else "commit allowed"
    print(f"lingcode: review skipped: {reason}; {verdict}", file=sys.stderr)
    if options.format != "text":
        outcome.skipped = reason
        write_outcome(outcome, options.format, out, _reader(root, options))
    return int(ExitCode.MODEL_UNAVAILABLE if closed else ExitCode.OK)


def _as_error(exc: Exception) -> LingcodeError:
    if isinstance(exc, LingcodeError):
        return exc
    return ModelUnavailable(str(exc))


def _reader(root: Path, options: ReviewOptions) -> ReadFile:
    """Reads a reviewed file's content the way the review saw it (the index for --staged, HEAD for --base)."""

    def read(path: str) -> str | None:
        if options.staged or options.base:
            return review_diff.staged_blob(root, path, "HEAD" if options.base else "")
        try:
            return (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return read


def _apply_fixes(root: Path, findings: list[Finding], patch_out: Path | None) -> None:
    """Apply the suggested edits (all or nothing), or write them as a patch file when `patch_out` is set."""
    from lingcode.edit import FormatError, apply_edits, parse_reply

    reply = "".join(f"{f.path}\n{f.suggestion}" for f in findings if f.suggestion)
    if not reply:
        return
    try:
        edits = parse_reply(reply)
    except FormatError as exc:
        raise EditsRejected(f"suggested fixes not applied: {str(exc).splitlines()[0]}") from None
    result = apply_edits(edits, root, dry_run=patch_out is not None)
    if not result.ok:
        reasons = "; ".join(f"{f.path}: {f.reason}" for f in result.files if f.reason)
        raise EditsRejected(f"suggested fixes not applied, nothing changed: {reasons}")
    if patch_out is not None:
        partial = patch_out.with_name(patch_out.name + ".partial")
        partial.write_text(result.diff, encoding="utf-8")
        partial.replace(patch_out)  # never leave half a patch behind
    else:
        print(f"lingcode: applied suggested fixes to {len(edits)} place(s)", file=sys.stderr)
