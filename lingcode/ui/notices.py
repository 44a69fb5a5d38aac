"""Errors as notices a person can act on: what happened, in one line, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from lingcode import errors


@dataclass(frozen=True)
class NoticeText:
    """A notice's level ("info", "warning" or "error"), its message and the suggested next step."""

    level: str
    message: str
    hint: str = ""


_HINTS: tuple[tuple[type[errors.LingcodeError], str], ...] = (
    (
        errors.ModelUnavailable,
        "Start a server with `lingcode serve` (or check model.base_url with `lingcode doctor`), "
        "then send your message again.",
    ),
    (errors.ConfigError, "Fix the setting named above, then restart lingcode."),
    (errors.UsageError, ""),
    (
        errors.EditsRejected,
        "Nothing was changed. Send a message to let the model try again, or /diff to see the work tree.",
    ),
    (
        errors.TimeoutReached,
        "Raise loop.test_timeout (or model timeouts) with `-c`, or press /test to try again.",
    ),
    (errors.LimitReached, "Type /run to continue, or raise the limit in the loop settings."),
)


def describe(exc: BaseException) -> NoticeText:
    """A readable notice for any exception a worker raised; never a traceback."""
    if isinstance(exc, errors.LingcodeError):
        hint = next((h for kind, h in _HINTS if isinstance(exc, kind)), "")
        return NoticeText("error", exc.message, hint)
    return NoticeText(
        "error",
        f"internal error: {type(exc).__name__}: {exc}",
        "This is a bug in lingcode; please report it. /diff shows what changed so far.",
    )


def level_of(level: str) -> str:
    """Normalise a loop Notice level to one of info, warning, error."""
    return level if level in ("info", "warning", "error") else "info"
