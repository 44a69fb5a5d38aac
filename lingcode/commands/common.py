"""Options and helpers shared by subcommands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lingcode.errors import UsageError

if TYPE_CHECKING:
    import click

    from lingcode.config import Config

F = TypeVar("F", bound=Callable[..., Any])


def root_option(func: F) -> F:
    """`--root DIR`: the repository to work in (default: the current directory)."""
    import click  # here, not at the top: the hook's fast path uses resolve_root without click

    option = click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Repository root (default: the current directory).",
    )
    return option(func)


# The per-invocation model settings, defined once: (flag, parameter name, config key, help). Every command
# that talks to a model and the bare `lingcode` (the interactive session) take exactly these, so a user of
# Aider or Codex can put them before or after the subcommand (tests/test_model_flags.py walks every command).
MODEL_FLAGS: tuple[tuple[str, str, str, str], ...] = (
    ("--model-url", "model_url", "model.base_url", "OpenAI-compatible base URL (…/v1)."),
    ("--model", "model_name", "model.model", "Model name to request."),
)


def model_options(func: F) -> F:
    """`--model-url` and `--model`: which server and model to use (the shared MODEL_FLAGS)."""
    import click

    for flag, param, _, help_text in reversed(MODEL_FLAGS):
        func = click.option(flag, param, default=None, help=help_text)(func)
    return func


def model_flags(values: dict[str, Any]) -> dict[str, Any]:
    """The config flags ("model.base_url": ...) for the MODEL_FLAGS parameters found in `values`."""
    return {key: values.get(param) for _, param, key, _ in MODEL_FLAGS}


def resolve_root(root: Path | None) -> Path:
    """The repository root as an absolute path; a missing directory is a usage error.

    A command's own `--root` wins; else the one given before the subcommand (`lingcode --root DIR map`).
    """
    import sys

    click = sys.modules.get("click")  # the hook's fast path runs without click: then there is no group
    if root is None and click is not None:
        ctx = click.get_current_context(silent=True)
        given = ((ctx.find_root().obj or {}) if ctx else {}).get("root")
        root = Path(given) if given else None
    path = (root or Path.cwd()).resolve()
    if not path.is_dir():
        raise UsageError(f"--root {path}: not a directory")
    return path


def load(ctx: click.Context, root: Path | None, flags: dict[str, Any] | None = None) -> Config:
    """Load the effective Config for a command, with the group's `-c` overrides and the command's flags."""
    # imported here: pydantic is most of a command's start-up, and `--help` or a usage error needs none of it
    from lingcode.config import load_config

    obj = ctx.find_root().obj or {}
    # flags given before the subcommand (`lingcode --model-url URL run ...`) apply unless the subcommand
    # repeats them: the nearer flag wins, as in git and codex
    merged = {**obj.get("flags", {}), **{k: v for k, v in (flags or {}).items() if v is not None}}
    url = merged.get("model.base_url")
    if url is not None and not str(url).lower().startswith(("http://", "https://")):
        # refused as usage before any connection is tried (httpx would report it as a dropped connection)
        raise UsageError(
            f"--model-url {url}: expected an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1"
        )
    return load_config(root=root, overrides=obj.get("overrides", []), flags=merged)
