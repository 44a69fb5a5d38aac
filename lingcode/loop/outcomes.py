"""How a run ends: small typed exceptions carrying the status, exit code and message, and the RunResult.

The loop reads as its happy path; every way out (success included) is raised from the step that found it
and caught once, where the result is built.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lingcode.errors import ExitCode
from lingcode.events import Usage

__all__ = [
    "Applied",
    "Cancelled",
    "IterationLimit",
    "ModelDown",
    "NoTestCommand",
    "Passed",
    "Proposed",
    "Rejected",
    "RepeatedEdit",
    "RepeatedFailure",
    "RunEnded",
    "RunResult",
    "StillFailing",
    "TestsCannotRun",
    "TestsFailed",
    "TokenLimit",
    "Unparseable",
    "WallTime",
]


class RunEnded(Exception):
    """Base of every way a run ends; `status` names it and `exit_code` is what headless mode exits with."""

    status = "ended"
    exit_code = ExitCode.FAILED
    limit: str | None = None
    """Which limit ended the run: iterations, tokens, wall_time, repeated_edit or repeated_failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Passed(RunEnded):
    """The checks pass after the model's edits."""

    status, exit_code = "passed", ExitCode.OK


class Applied(RunEnded):
    """Edits were applied and there is no check command to verify them."""

    status, exit_code = "applied", ExitCode.OK


class Proposed(RunEnded):
    """Edits were validated but not written (--no-apply)."""

    status, exit_code = "proposed", ExitCode.OK


class StillFailing(RunEnded):
    """The model stopped sending edits while the checks still fail."""

    status, exit_code = "failed", ExitCode.FAILED


class TestsFailed(RunEnded):
    """The edit-and-test rounds ran out with the checks still failing."""

    status, exit_code, limit = "tests_failed", ExitCode.FAILED, "iterations"


class TestsCannotRun(RunEnded):
    """The test command cannot run here (a missing program, a failed download or configure)."""

    status, exit_code = "test_env_error", ExitCode.TESTS_CANNOT_RUN


class NoTestCommand(RunEnded):
    """No test command was found or given, and `run` was not told to apply edits untested (--no-test)."""

    status, exit_code = "no_test_command", ExitCode.TESTS_CANNOT_RUN


class Unparseable(RunEnded):
    """The model's replies could not be read as edits, several times in a row."""

    status, exit_code = "unparseable", ExitCode.EDITS_REJECTED


class Rejected(RunEnded):
    """The run ended with the model's edits rejected and nothing changed."""

    status, exit_code = "rejected", ExitCode.EDITS_REJECTED


class IterationLimit(RunEnded):
    """The edit-and-test rounds ran out."""

    status, exit_code, limit = "limit_iterations", ExitCode.LIMIT_REACHED, "iterations"


class TokenLimit(RunEnded):
    """The run used its token budget."""

    status, exit_code, limit = "limit_tokens", ExitCode.LIMIT_REACHED, "tokens"


class RepeatedEdit(RunEnded):
    """The model sent the same edit several times in a row."""

    status, exit_code, limit = "repeated_edit", ExitCode.LIMIT_REACHED, "repeated_edit"


class RepeatedFailure(RunEnded):
    """The checks failed the same way several times in a row."""

    status, exit_code, limit = "repeated_failure", ExitCode.LIMIT_REACHED, "repeated_failure"


class WallTime(RunEnded):
    """The run took longer than its wall-time limit."""

    status, exit_code, limit = "timeout", ExitCode.TIMEOUT, "wall_time"


class ModelDown(RunEnded):
    """The model server could not be reached or broke off; the tree was restored."""

    status, exit_code = "model_unavailable", ExitCode.MODEL_UNAVAILABLE


class Cancelled(RunEnded):
    """The user stopped the run."""

    status, exit_code = "cancelled", ExitCode.INTERRUPTED


@dataclass(frozen=True)
class RunResult:
    """What a run did; `to_json()` is the headless JSON result."""

    status: str
    exit_code: int
    message: str
    iterations: int
    tests_passed: bool | None
    files_changed: tuple[str, ...]
    usage: Usage
    timings: dict[str, float] = field(default_factory=dict)
    diff: str = ""
    log_path: str | None = None
    turns: tuple[dict[str, Any], ...] = ()
    context_requests: dict[str, int] = field(default_factory=dict)
    """Requests for more context the model made, by kind (file, lines, symbol, callers, search, ...)."""
    limit: str | None = None
    """The limit that ended the run (see RunEnded.limit); None when none did."""
    test_command: dict[str, Any] | None = None
    """The test command used and why it was chosen (TestPlan.to_json()); None when none ran."""

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON-ready data."""
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "limit": self.limit,
            "message": self.message,
            "iterations": self.iterations,
            "tests_passed": self.tests_passed,
            "files_changed": list(self.files_changed),
            "usage": {
                "prompt": self.usage.prompt_tokens,
                "completion": self.usage.completion_tokens,
                "cached": self.usage.cached_tokens,
            },
            "timings": dict(self.timings),
            "turns": [dict(t) for t in self.turns],
            "context_requests": dict(self.context_requests),
            "test_command": self.test_command,
            "log": self.log_path,
            "diff": self.diff,
        }


def usage_json(usage: Usage) -> dict[str, int]:
    """A Usage as the JSON object the run log and results use."""
    data = asdict(usage)
    return {
        "prompt": data["prompt_tokens"],
        "completion": data["completion_tokens"],
        "cached": data["cached_tokens"],
    }
