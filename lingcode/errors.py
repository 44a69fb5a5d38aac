"""Typed errors, each carrying the one-line message a user sees and the exit code lingcode ends with.

Exit codes (documented in the README):
    0   success (tests pass, edits applied, no findings over the threshold)
    1   tests still failing / review findings at or over --fail-on
    2   usage or configuration error
    3   model server unavailable
    4   edits rejected (nothing was changed)
    5   a limit was reached (tokens, wall time, repeated edit or failure; iterations with nothing applied)
    6   the tests could not run (no test command found, a missing toolchain, a failed download or configure)
    70  internal error (a bug in lingcode; --verbose shows the traceback)
    124 timeout
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, shared by every command."""

    OK = 0
    FAILED = 1
    USAGE = 2
    MODEL_UNAVAILABLE = 3
    EDITS_REJECTED = 4
    LIMIT_REACHED = 5
    TESTS_CANNOT_RUN = 6
    INTERNAL = 70
    TIMEOUT = 124
    INTERRUPTED = 130


class LingcodeError(Exception):
    """Base of every error lingcode reports to the user as one line plus an exit code."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LingcodeError):
    """Bad flags, arguments or input."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """An invalid or untrusted configuration value; the message names the file and the key."""


class ModelUnavailable(LingcodeError):
    """The model server cannot be reached, keeps failing, or broke a stream."""

    exit_code = ExitCode.MODEL_UNAVAILABLE


class EditsRejected(LingcodeError):
    """The model's edits could not be applied; nothing was changed."""

    exit_code = ExitCode.EDITS_REJECTED


class LimitReached(LingcodeError):
    """A run hit one of its limits."""

    exit_code = ExitCode.LIMIT_REACHED


class TimeoutReached(LingcodeError):
    """A run or a command ran past its time limit."""

    exit_code = ExitCode.TIMEOUT
