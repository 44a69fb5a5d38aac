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


def model_options(func: F) -> F:
    """`--model-url` and `--model`: which server and model to use."""
    import click

    func = click.option("--model", "model_name", default=None, help="Model name to request.")(func)
    func = click.option("--model-url", default=None, help="OpenAI-compatible base URL (…/v1).")(func)
    return func


def resolve_root(root: Path | None) -> Path:
    """The repository root as an absolute path; a missing directory is a usage error."""
    path = (root or Path.cwd()).resolve()
    if not path.is_dir():
        raise UsageError(f"--root {path}: not a directory")
    return path


def load(ctx: click.Context, root: Path | None, flags: dict[str, Any] | None = None) -> Config:
    """Load the effective Config for a command, with the group's `-c` overrides and the command's flags."""
    # imported here: pydantic is most of a command's start-up, and `--help` or a usage error needs none of it
    from lingcode.config import load_config

    obj = ctx.find_root().obj or {}
    return load_config(root=root, overrides=obj.get("overrides", []), flags=flags or {})
