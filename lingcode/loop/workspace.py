"""The steps a conversation takes in one repository: prompts, model turns, edits, checks, safety and the log.

`Agent` (the headless loop) and `Session` (the interactive API) are both thin drivers of a Workspace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingcode.config import Config
from lingcode.context.tokens import estimate_tokens
from lingcode.events import (
    CheckFinished,
    CheckOutput,
    CheckStarted,
    ContextBuilt,
    EditsApplied,
    EditsProposed,
    EditsRejected,
    EventSink,
    ModelReplied,
    Notice,
)
from lingcode.loop.changes import Changes, edit_paths
from lingcode.loop.checkpoint import Checkpoint, create_checkpoint
from lingcode.loop.checks import (
    CheckResult,
    can_narrow,
    related_command,
    run_check,
    trim_output,
    withheld_names,
)
from lingcode.loop.focus import Focus, replace_lines, wants_focus, wants_reasoning
from lingcode.loop.outcomes import Cancelled, usage_json
from lingcode.loop.stream import ReasoningStream
from lingcode.loop.taskwords import edits_tests, new_paths_named
from lingcode.loop.testcmd import plan_for
from lingcode.loop.testenv import cannot_run, preflight, setup_failed
from lingcode.loop.trajectory import RunLog
from lingcode.model.reply import kept_reply
from lingcode.prompts import project_instructions, render

if TYPE_CHECKING:
    from lingcode.context import Context
    from lingcode.edit import ApplyResult, Edit
    from lingcode.model import ModelClient
    from lingcode.model.reply import Constraint, Reply

__all__ = ["Workspace"]


class Workspace:
    """Prompts, model turns, edits, checks, checkpoint and run log of one conversation in one repository."""

    def __init__(
        self, config: Config, model: ModelClient, root: Path, sink: EventSink, *, log: bool = True
    ) -> None:
        self.config = config
        self.model = model
        self.root = root.resolve()
        self.sink = sink
        self.messages: list[dict[str, str]] = []
        self.log = RunLog(self.root) if log else None
        self.checkpoint: Checkpoint | None = None
        self.changes = Changes(self.root)
        self.test_plan = plan_for(config.loop, self.root)
        self.test_cmd = self.test_plan.command if self.test_plan is not None else None
        self._set_up = False
        self.timings: dict[str, float] = {"model_s": 0.0, "checks_s": 0.0, "context_s": 0.0}
        self.turns: list[dict[str, Any]] = []
        self._related_cache: dict[frozenset[str], list[str]] = {}
        self._info = model.info()
        self.constrained = bool(config.model.constrain and self._info.supports_grammar)
        self.reasoning = wants_reasoning(config.model.reasoning, self._info.model)
        self.focus = (
            Focus() if self.constrained and wants_focus(config.model.focus, self._info.model) else None
        )
        """Where constrained replies may edit (None: anywhere in the files shown)."""
        self.failing = ""
        """The latest failing test output the model was shown (what the focus is read from)."""
        self.may_request = config.loop.max_context_requests > 0
        """Whether the grammar offers context requests (False once the run's allowance is spent)."""

    # -- prompts ---------------------------------------------------------------------------------------------

    def say(self, role: str, content: str) -> None:
        """Append one chat message (and log it); earlier messages never change, so the prefix stays cached."""
        self.messages.append({"role": role, "content": content})
        self.record("message", role=role, content=content)

    def user(self, template: str, **variables: Any) -> None:
        """Append a user message rendered from a template, with the format reminder when decoding is free."""
        text = render(template, self.root, reasoning=self.reasoning, **variables)
        if not self.constrained:
            text += render("format_reminder", self.root, reasoning=self.reasoning)
        self.say("user", text)

    def system_prompt(self) -> str:
        """The system message: rules, format, worked example and the project's instructions."""
        cwd = Path.cwd()
        here = cwd if cwd.is_relative_to(self.root) else self.root
        instructions = project_instructions(self.root, here)
        return render(
            "system",
            self.root,
            instructions=instructions,
            constrained=self.constrained,
            reasoning=self.reasoning,
            requests=self.may_request,
        )

    def note_task(self, task: str) -> None:
        """Remember what the user's own words ask for (not the failing output that joins them later)."""
        self.task_new_files = new_paths_named(task, self.root)
        self.task_edits_tests = edits_tests(task)
        self.failing = ""  # a new task in a session starts from its own test run
        if self.focus is not None:
            self.focus = Focus()

    def _editable(self, paths: Sequence[str]) -> list[str]:
        """The files the grammar lets the model edit: test files only when the task asks to change tests.

        "Fix the failing test" means fix the code; a small model left free to edit the test makes it pass by
        deleting the assertion (the embedded model did exactly that to examples/calc)."""
        from lingcode.context.files import is_test_path

        if self.task_edits_tests:
            return list(paths)
        code = [p for p in paths if not is_test_path(p)]
        return code or list(paths)

    def build_context(self, task: str, named_files: Sequence[str] = (), *, around: str = "") -> Context:
        """Ask the context engine what the model should see for `task`, within what the window leaves.

        `around` is the rest of the prompt the context will sit in (system prompt, task, failing output): the
        budget is the window less the reply, that text, and room for a few turns of feedback."""
        from lingcode.context import build_context

        started = time.monotonic()
        window = self._info.context_window
        reserve = self.config.model.max_tokens + estimate_tokens(around) + window // 8
        budget = max(256, min(self.config.context.budget, window - reserve))
        context = build_context(
            task,
            self.root,
            budget,
            named_files,
            config=self.config.context,
            count_tokens=self.model.count_tokens,
        )
        self.timings["context_s"] += time.monotonic() - started
        included = tuple(f.path for f in context.files if f.included)
        self.sink(ContextBuilt(included, context.tokens))
        self.record("context", files=list(included), tokens=context.tokens)
        return context

    # -- the model -------------------------------------------------------------------------------------------

    def ask(
        self, cancel: threading.Event | None = None, sampling: tuple[float, int | None] | None = None
    ) -> Reply:
        """One model turn over the conversation so far; streams deltas out and appends the reply.

        `sampling` (temperature, seed) replaces the configured ones for this reply (model.resample)."""
        stream = ReasoningStream(self.sink)
        constraint = self._constraint()
        self._fit_window()
        started = time.monotonic()
        try:
            reply = self.model.complete(
                self.messages,
                constraint=constraint,
                on_delta=stream.feed,
                cancel=cancel,
                max_tokens=self.config.model.max_tokens,
                sampling=sampling,
            )
        finally:
            self.timings["model_s"] += time.monotonic() - started
        if reply.finish_reason == "cancelled" or (cancel is not None and cancel.is_set()):
            # keep user/assistant turns alternating (some chat templates insist), with what had arrived
            self.say(
                "assistant", kept_reply(reply.text, self.config.model.max_tokens) + "\n[stopped by the user]"
            )
            raise Cancelled("stopped by the user")
        self.sink(
            ModelReplied(reply.text, reply.usage, reply.finish_reason, reply.ttft_s, reply.tokens_per_s)
        )
        turn = {
            "usage": usage_json(reply.usage),
            "ttft_s": round(reply.ttft_s, 4),
            "duration_s": round(reply.duration_s, 4),
            "tokens_per_s": round(reply.tokens_per_s, 2),
            "finish_reason": reply.finish_reason,
            "constrained": constraint is not None,
        }
        self.turns.append(turn)
        self.record("reply", **turn)
        # a reply far past max_tokens is cut before it is resent and logged; its edits are read whole
        self.say("assistant", kept_reply(reply.text, self.config.model.max_tokens))
        return reply

    def _fit_window(self) -> None:
        """Drop the oldest feedback turns when the conversation would overflow the context window.

        Only the middle goes (system prompt, task and the latest turns stay); it costs the prefix cache, so it
        happens only when the alternative is a request the server refuses."""
        limit = self._info.context_window - self.config.model.max_tokens
        dropped = 0
        while len(self.messages) > 4 and sum(estimate_tokens(m["content"]) for m in self.messages) > limit:
            del self.messages[2:4]  # an assistant reply and the feedback on it: turns keep alternating
            dropped += 1
        if dropped:
            self.notice(f"dropped the {dropped} oldest turn(s) to fit the model's context window", "warning")

    def _constraint(self) -> Constraint | None:
        if not self.constrained:
            return None
        from lingcode.edit.grammar import (
            MAX_REPLACE_LINES,
            REASONING_LINES,
            GrammarLimits,
            constrained_grammar,
        )
        from lingcode.model.reply import Constraint

        files: dict[str, str] = {}
        for rel in self._editable(self.context_paths):
            try:
                files[rel] = (self.root / rel).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        windows = self.focus.windows(files, self.failing, self.notice) if self.focus else {}
        if windows:  # the place is known: no context requests, a REPLACE about as long as the function
            files = {path: files[path] for path in windows}
        # the new-file form's path is free text: a small model given it invents files instead of editing
        # the real ones, so it is offered only when the task names a file that does not exist yet
        limits = GrammarLimits(
            new_files=bool(self.task_new_files),
            reasoning_lines=REASONING_LINES if self.reasoning else 0,
            requests=self.config.loop.max_requests_per_turn if self.may_request and not windows else 0,
            max_replace_lines=replace_lines(windows) if windows else MAX_REPLACE_LINES,
        )
        grammar = constrained_grammar(files, syntax="gbnf", windows=windows or None, limits=limits)
        if grammar.fallback:
            self.record("notice", message=f"grammar fallback: {grammar.reason}")
        return Constraint(grammar=grammar.text, syntax="gbnf")

    context_paths: Sequence[str] = ()
    """Files in the prompt, which the constrained grammar lets the model edit."""
    task_new_files: Sequence[str] = ()
    """Paths the task names that do not exist yet: the only reason to offer the new-file form."""
    task_edits_tests: bool = False
    """Whether the task asks to write or change tests (else the grammar keeps test files read-only)."""

    # -- edits -----------------------------------------------------------------------------------------------

    def apply(self, edits: Sequence[Edit], *, dry_run: bool = False) -> ApplyResult:
        """Apply all edits or none; a checkpoint of the user's work is taken before the first real write."""
        from lingcode.edit import apply_edits
        from lingcode.edit.retarget import retarget

        # before the paths are remembered; never onto a test file the task does not ask to change
        edits, moved = retarget(edits, self.root, self._editable(self.context_paths))
        for note in moved:
            self.notice(note)
        if not dry_run:
            if self.checkpoint is None:
                self.checkpoint = create_checkpoint(self.root)
            self.changes.remember(edit_paths(edits))
        result = apply_edits(list(edits), self.root, dry_run=dry_run)
        if result.ok:
            self.sink(EditsProposed(tuple(result.changed_paths), result.diff))
            if not dry_run:
                self.sink(EditsApplied(tuple(result.changed_paths), result.diff))
        else:
            self.sink(EditsRejected(result.rejection_message()))
        self.record(
            "edits",
            ok=result.ok,
            dry_run=dry_run,
            files=result.changed_paths,
            diff=result.diff,
            rejection=result.rejection_message(),
        )
        return result

    # -- checks ----------------------------------------------------------------------------------------------

    def check(
        self, changed: Sequence[str], timeout: float, cancel: threading.Event | None = None
    ) -> CheckResult | None:
        """Run the tests related to `changed` first, then the full command; None when there is no command."""
        if not self.test_cmd:
            return None
        plan = self.test_plan
        if plan is not None and plan.setup and not self._set_up:
            configured = self._run(plan.setup, timeout, cancel)
            if not configured.passed:
                return configured
            self._set_up = True
        narrowed = None
        if changed and can_narrow(self.test_cmd):
            narrowed = related_command(self.test_cmd, self._related(changed))
        if narrowed is not None:
            result = self._run(narrowed, timeout, cancel)
            if not result.passed:
                return result
        return self._run(self.test_cmd, timeout, cancel)

    def _related(self, changed: Sequence[str]) -> list[str]:
        # asked once per set of changed files in a run: the reference graph barely moves between rounds,
        # and asking re-lists the whole repository (hundreds of ms on 10,000 files)
        key = frozenset(changed)
        if key not in self._related_cache:
            try:
                from lingcode.context import related_tests

                self._related_cache[key] = related_tests(self.root, sorted(key))
            except Exception as exc:  # the narrowed run is an optimisation; the full command still runs
                self.record("notice", message=f"related tests unavailable: {exc}")
                self._related_cache[key] = []
        return [t for t in self._related_cache[key] if (self.root / t).is_file()]

    def _run(self, command: str, timeout: float, cancel: threading.Event | None) -> CheckResult:
        self.sink(CheckStarted(command))
        result = run_check(
            command,
            self.root,
            max(1.0, min(timeout, self.config.loop.test_timeout)),
            on_line=lambda line: self.sink(CheckOutput(line)),
            cancel=cancel,
        )
        self.timings["checks_s"] += result.duration_s
        self.sink(
            CheckFinished(
                command, result.passed, result.returncode, result.timed_out, result.duration_s, result.output
            )
        )
        self.record(
            "check",
            command=command,
            passed=result.passed,
            returncode=result.returncode,
            timed_out=result.timed_out,
            duration_s=round(result.duration_s, 4),
            output=trim_output(result.output, 100, 200, 40_000)[0],
            withheld=withheld_names(),  # the secret-looking variables kept from the command: names only
        )
        if result.cancelled:
            raise Cancelled("stopped by the user")
        return result

    def cannot_run(self, result: CheckResult) -> str | None:
        """Why the tests could not run at all (before any model call, or from a check's result); None if
        they can: a missing program, a failed setup or download is not something an edit fixes."""
        plan = self.test_plan
        if plan is None:
            return None
        if plan.setup and not self._set_up and result.command == plan.setup:
            return setup_failed(plan, result)
        return cannot_run(plan, result)

    def preflight(self) -> str | None:
        """Why the test command cannot start here (a program it needs is missing); None when it may."""
        return preflight(self.test_plan) if self.test_plan is not None else None

    def failure_text(self, result: CheckResult) -> tuple[str, bool]:
        """The failing output as the model sees it: head and tail, with a note when the run was killed."""
        output, trimmed = trim_output(result.output)
        if result.timed_out:
            output += f"\n[the command ran longer than {self.config.loop.test_timeout:g}s and was killed]"
        self.failing = output
        return output, trimmed

    # -- the log ---------------------------------------------------------------------------------------------

    def record(self, kind: str, **data: Any) -> None:
        """Append a record to the run log (when logging)."""
        if self.log is not None:
            self.log.record(kind, **data)

    def notice(self, message: str, level: str = "info") -> None:
        """Tell the user something (and log it)."""
        self.sink(Notice(message, level))
        self.record("notice", message=message, level=level)
