"""The errors `lingcode tune` ends with, each one line and a documented exit code (README's table)."""

from __future__ import annotations

from lingcode.errors import ConfigError, ExitCode, LingcodeError, UsageError

TUNE_EXTRA_HINT = "pip install 'lingcode[tune]'"


class TuneExtraMissing(UsageError):
    """torch, transformers or peft is not installed (exit 2): the message says what to install."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"training needs {missing}, which is not installed; run: {TUNE_EXTRA_HINT}")


class BaseModelError(ConfigError):
    """The base model is unknown, missing, corrupt or of an architecture the adapter cannot be written for."""


class OutputError(LingcodeError):
    """The output could not be written (no space, no permission); nothing partial is left behind (exit 1)."""


class TrainingInterrupted(LingcodeError):
    """Ctrl-C or SIGTERM during training (exit 130); the last checkpoint stays for the rerun to resume."""

    exit_code = ExitCode.INTERRUPTED


def require_tune_extra() -> None:
    """Raise TuneExtraMissing unless the tune extra's packages import (training needs them all anyway)."""
    import importlib

    for module in ("torch", "transformers", "peft", "gguf"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise TuneExtraMissing(module) from None
