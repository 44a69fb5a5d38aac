"""The agent loop: ask the model, apply its edits, run the checks, feed failures back, until green or a limit.

Every way out, success included, is a RunEnded exception raised by the step that found it (see outcomes.py),
so `run` reads as the happy path.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lingcode.config import Config
from lingcode.errors import ModelUnavailable
from lingcode.events import EventSink, Finished, RunStarted
from lingcode.loop.checkpoint import Checkpoint, diff_since, drop_checkpoint, restore
from lingcode.loop.checks import withheld_names
from lingcode.loop.limits import Deadline, Limits, wall_time_message
from lingcode.loop.lock import RunLock
from lingcode.loop.outcomes import (
    Applied,
    Cancelled,
    IterationLimit,
    ModelDown,
    NoTestCommand,
    Passed,
    Proposed,
    Rejected,
    RepeatedEdit,
    RunEnded,
    RunResult,
    StillFailing,
    TestsCannotRun,
    TestsFailed,
    Unparseable,
    WallTime,
    usage_json,
)
from lingcode.loop.requests import find_requests, send_answers
from lingcode.loop.resample import resample, wants_resample
from lingcode.loop.workspace import Workspace

if TYPE_CHECKING:
    from lingcode.edit import ApplyResult, Edit
    from lingcode.loop.checks import CheckResult
    from lingcode.model import ModelClient

__all__ = ["Agent"]


class Agent:
    """Runs one task to an end in one repository and returns a RunResult; emits events to `sink`."""

    def __init__(
        self,
        config: Config,
        model: ModelClient,
        root: Path,
        sink: EventSink,
        *,
        no_apply: bool = False,
        log: bool = True,
        checkpoint: Checkpoint | None = None,
        require_tests: bool = False,
    ) -> None:
        self.config, self.model, self.root, self.sink = config, model, root.resolve(), sink
        self.no_apply, self.log = no_apply, log
        self.require_tests = require_tests
        """End `no_test_command` (exit 6) rather than apply edits untested when no test command is found."""
        self.tests_passed: bool | None = None
        self.last_rejected = False
        self.proposed_diff = ""
        self.checkpoint = checkpoint
        """The checkpoint to keep (a Session's earlier one); None takes a fresh one before the first edit."""
        self.context_requests: dict[str, int] = {}
        """Requests for more context the model made this run, by kind (refused ones included)."""
        self.resample = False
        """model.resample: a failed edit is undone and the first reply sampled afresh (set per run)."""
        self._prompt_len = self._samples = 0
        self._sampling: tuple[float, int | None] | None = None
        """(temperature, seed) of the next reply once resampling has begun; None: the configured ones."""

    def run(self, task: str, cancel: threading.Event | None = None) -> RunResult:
        """Each turn: reply -> edits (or a context answer) -> apply -> checks -> done or feedback."""
        started = time.monotonic()
        self.sink(RunStarted(task, str(self.root)))
        self.limits = limits = Limits(self.config.loop)
        deadline = Deadline(self.config.loop.wall_time, cancel)
        try:
            with RunLock(self.root), deadline:
                cancel = deadline.event  # set by the caller or when the wall time runs out
                self.ws = ws = Workspace(self.config, self.model, self.root, self.sink, log=self.log)
                ws.checkpoint = self.checkpoint
                ws.record(
                    "start", task=task, root=str(self.root), test_cmd=ws.test_cmd, no_apply=self.no_apply
                )
                self._begin(task, cancel)
                self._prompt_len, self._samples, self._sampling = len(ws.messages), 0, None
                self.resample = wants_resample(self.config.model.resample, self.model.info().model)
                self._loop_start = (time.monotonic(), ws.timings["model_s"], ws.timings["checks_s"])
                while True:
                    limits.check_time()
                    reply = ws.ask(cancel, self._sampling)
                    limits.add_usage(reply.usage)
                    edits = self._read(reply.text, truncated=reply.truncated)
                    if edits is None:
                        continue  # a format error or a context answer went back; not an edit round
                    limits.edit_round(repr(edits))
                    result = ws.apply(edits, dry_run=self.no_apply)
                    self.last_rejected = not result.ok
                    if result.ok and not result.changed_paths:
                        # a small model copies SEARCH into REPLACE; rerunning the tests would only repeat them
                        limits.next_round()
                        if self.resample:  # told so, it sends the same copy again: ask afresh instead
                            self._resample("the edit changed nothing")
                        else:
                            ws.user("edit_unchanged")
                    elif not result.ok:
                        limits.next_round()
                        ws.user("edit_rejected", message=result.rejection_message())
                    elif self.no_apply:
                        self.proposed_diff = result.diff
                        raise Proposed("the edits apply cleanly (not written: --no-apply)")
                    else:
                        self._verify(result, cancel)
        except Cancelled as end:
            return self._finish(
                WallTime(wall_time_message(self.config.loop.wall_time)) if deadline.expired else end, started
            )
        except RunEnded as end:
            return self._finish(end, started)
        except ModelUnavailable as exc:
            return self._finish(ModelDown(f"model server unavailable: {exc.message}"), started)

    def _begin(self, task: str, cancel: threading.Event | None) -> None:
        """The byte-stable prefix: the system prompt, then context and task (with failing tests, if any)."""
        ws = self.ws
        ws.note_task(task)
        self._tests_can_run()
        ws.say("system", ws.system_prompt())
        failing = ""
        if self.config.loop.check_first and ws.test_cmd:
            first = ws.check((), self.limits.remaining_time(), cancel)
            if first is not None and not first.passed:
                self._environment_ok(first)
                failing = ws.failure_text(first)[0]
        # the failing output names files and functions: it helps the ranking find the code to fix
        context = ws.build_context(
            f"{task}\n{failing[-2000:]}" if failing else task,
            around=ws.messages[0]["content"] + task + failing,
        )
        ws.context_paths = [f.path for f in context.files if f.included]
        ws.user(
            "task", context=context.text, task=task, check_output=failing, check_command=ws.test_cmd or ""
        )

    def _tests_can_run(self) -> None:
        """Say which test command runs and why; end the run before any model call when none can."""
        ws, plan = self.ws, self.ws.test_plan
        if plan is None:
            if self.require_tests and not self.no_apply and not self.config.loop.no_test:
                raise NoTestCommand(
                    "no test command found (looked for pytest, package.json, Cargo.toml, go.mod, pom.xml, "
                    "Gradle, .NET, CMake, Meson, Ruby and Makefile test targets): give --test-cmd CMD, "
                    "or --no-test to apply edits untested"
                )
            return
        ws.notice(f"tests: {plan.command} ({plan.reason})")
        withheld = withheld_names()
        if withheld:
            ws.notice(f"tests run without these secret-looking variables: {', '.join(withheld)}")
        problem = ws.preflight()
        if problem is not None:
            raise TestsCannotRun(problem)

    def _environment_ok(self, check: CheckResult) -> None:
        """A failed check that the environment caused ends the run: an edit cannot install a toolchain."""
        problem = self.ws.cannot_run(check)
        if problem is not None:
            raise TestsCannotRun(problem)

    def _read(self, text: str, truncated: bool = False) -> list[Edit] | None:
        """The reply's edits; None after sending back a format error or the context it asked for."""
        from lingcode.edit import FormatError, parse_reply

        try:
            edits = parse_reply(text)
        except FormatError as exc:
            cut = (
                " (your reply was cut off at the token limit: send fewer, shorter blocks)"
                if truncated
                else ""
            )
            self.limits.format_error(exc.message)
            self.ws.user("format_error", message=exc.message + cut)
            return None
        if edits:
            # a small model that loses its place repeats a block word for word; applied twice, the copy
            # cannot find its SEARCH any more and the whole reply is refused, so a repeat counts once
            return list(dict.fromkeys(edits))
        requests = find_requests(text)
        if requests and self.limits.context_request():
            for answer in send_answers(self.ws, requests):
                kind = answer.request.kind
                self.context_requests[kind] = self.context_requests.get(kind, 0) + 1
            # the grammar stops offering requests once the run's allowance is spent
            self.ws.may_request = self.limits.context_requests < self.config.loop.max_context_requests
            return None
        message = "the reply held no SEARCH/REPLACE blocks"
        if requests:
            message += " (no more context requests this run: write your edits from what you have)"
        self.limits.format_error(message)
        self.ws.user("format_error", message=message)
        return None

    def _verify(self, result: ApplyResult, cancel: threading.Event | None) -> None:
        """Run the checks; raise Passed (or Applied without a command), else send the failure back."""
        ws, limits = self.ws, self.limits
        check = ws.check(result.changed_paths, limits.remaining_time(), cancel)
        if check is None:
            untested = (
                "--no-test" if self.config.loop.no_test else "no test command found; set one with --test-cmd"
            )
            raise Applied(f"edits applied, not tested ({untested})")
        if check.passed:
            self.tests_passed = True
            raise Passed(f"the checks pass after {limits.iterations} round(s) of edits")
        self._environment_ok(check)
        self.tests_passed = False
        if self.resample:  # a fresh sample of the first reply instead of the feedback (the last edit stays)
            limits.next_round()
            self._resample("the tests still fail")
            return
        limits.failure(check.output)
        limits.next_round()
        output, trimmed = ws.failure_text(check)
        remaining = limits.max_iterations - limits.iterations
        ws.user(
            "tests_failed",
            command=check.command,
            output=output,
            trimmed=trimmed,
            diff=ws.changes.diff(),
            remaining=remaining,
        )

    def _resample(self, why: str) -> None:
        """Undo this run's edits and ask the first prompt again at the next seed (model.resample)."""
        self._sampling = resample(self.ws, self._prompt_len, self._samples, why)
        self._samples += 1

    def _finish(self, end: RunEnded, started: float) -> RunResult:
        """Turn the way the run ended into its result: restore on a dead server, log, emit Finished."""
        loop_end = time.monotonic()
        ws: Workspace | None = getattr(self, "ws", None)
        changed = ws.changes.changed() if ws is not None else ()
        end = self._settle(end, changed)
        changed, diff = self._wrap_up(ws, end, changed)
        total = time.monotonic() - started
        timings = {"total_s": round(total, 4)}
        if ws is not None:
            timings.update({k: round(v, 4) for k, v in ws.timings.items()})
            timings["overhead_s"] = round(total - ws.timings["model_s"] - ws.timings["checks_s"], 4)
            timings.update(self._loop_overhead(ws, loop_end))
        result = RunResult(
            status=end.status,
            exit_code=int(end.exit_code),
            message=end.message,
            iterations=self.limits.iterations,
            tests_passed=self.tests_passed,
            files_changed=changed,
            usage=self.limits.usage,
            timings=timings,
            diff=diff,
            log_path=str(ws.log.path) if ws is not None and ws.log is not None else None,
            turns=tuple(ws.turns) if ws is not None else (),
            context_requests=dict(self.context_requests),
            limit=end.limit,
            test_command=ws.test_plan.to_json() if ws is not None and ws.test_plan is not None else None,
        )
        if ws is not None:
            self.checkpoint = ws.checkpoint
            ws.record(
                "end",
                status=result.status,
                message=result.message,
                iterations=result.iterations,
                tests_passed=result.tests_passed,
                files_changed=list(changed),
                usage=usage_json(result.usage),
                timings=timings,
            )
            if ws.log is not None:
                ws.log.close()
        self.sink(
            Finished(
                result.status,
                result.iterations,
                result.tests_passed,
                changed,
                result.usage,
                timings,
                result.message,
            )
        )
        return result

    def _loop_overhead(self, ws: Workspace, loop_end: float) -> dict[str, float]:
        """lingcode's own time in the edit rounds (setup and wrap-up excluded), in all and per round."""
        mark = getattr(self, "_loop_start", None)
        if mark is None:
            return {}
        started, model_s, checks_s = mark
        spent = (loop_end - started) - (ws.timings["model_s"] - model_s) - (ws.timings["checks_s"] - checks_s)
        rounds = max(1, self.limits.iterations)
        return {"loop_overhead_s": round(spent, 4), "overhead_per_iteration_s": round(spent / rounds, 4)}

    def _settle(self, end: RunEnded, changed: tuple[str, ...]) -> RunEnded:
        """Name the ending by its effect: still failing after edits, or rejected with nothing changed."""
        if isinstance(end, IterationLimit) and self.tests_passed is False and changed:
            return TestsFailed(f"the checks still fail after {self.limits.iterations} round(s) of edits")
        if isinstance(end, Unparseable) and changed and self.tests_passed is False:
            return StillFailing(f"the checks still fail and the model stopped sending edits ({end.message})")
        if (
            isinstance(end, (IterationLimit, RepeatedEdit, Unparseable))
            and self.last_rejected
            and not changed
        ):
            return Rejected(f"{end.message}; the last edits were rejected and nothing was changed")
        return end

    def _wrap_up(
        self, ws: Workspace | None, end: RunEnded, changed: tuple[str, ...]
    ) -> tuple[tuple[str, ...], str]:
        """(files changed, diff) as the run leaves them; a dead server's half-done run is rolled back."""
        if ws is None or ws.checkpoint is None or not changed:
            return changed, self.proposed_diff
        if isinstance(end, ModelDown) and ws.checkpoint is not self.checkpoint:
            # only a checkpoint this run took: an inherited one also holds edits the user accepted earlier
            restore(self.root, ws.checkpoint)
            drop_checkpoint(self.root)
            ws.checkpoint = None
            end.message += "; the work tree was restored to how it was before the run"
            return (), ""
        return changed, diff_since(self.root, ws.checkpoint, changed)
