"""`lingcode review`: review a diff (staged, a range, or paths) with the model."""

from __future__ import annotations

from pathlib import Path

import click

from lingcode.commands.common import load, model_options, resolve_root, root_option


@click.command("review")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--staged", is_flag=True, help="Review the index: exactly what the next commit holds.")
@click.option("--base", metavar="REF", default=None, help="Review what HEAD adds since REF.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error", "never"]),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: review.fail_on, error).",
)
@click.option("--fix", is_flag=True, help="Apply the suggested edits (all or nothing).")
@click.option(
    "--patch-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the suggested edits as a patch file instead of applying them.",
)
@click.option("--hook", is_flag=True, help="Run as a pre-commit hook: time budget, fail open, quiet.")
@click.option(
    "--fail-closed/--fail-open",
    default=None,
    help="In hook mode, exit 3 (or 0) when the model is down or slow (default: review.fail_closed, open).",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds the review may take (hook mode: review.hook_budget, 20).",
)
@model_options
@root_option
@click.pass_context
def command(
    ctx: click.Context,
    paths: tuple[str, ...],
    staged: bool,
    base: str | None,
    fmt: str,
    fail_on: str | None,
    fix: bool,
    patch_out: Path | None,
    hook: bool,
    fail_closed: bool | None,
    budget: float | None,
    model_url: str | None,
    model_name: str | None,
    root: Path | None,
) -> int:
    """Review a diff with the model and report findings.

    With --staged, the index (what will be committed); with --base REF, the commits since REF; with PATHS
    alone, those whole files; with nothing, the uncommitted changes. PATHS also narrow --staged and --base.
    Exit code 1 when a finding is at or over --fail-on.
    """
    from lingcode.run.review import ReviewOptions, review

    repo = resolve_root(root)
    config = load(ctx, repo, {"model.base_url": model_url, "model.model": model_name})
    options = ReviewOptions(
        staged=staged,
        base=base,
        paths=list(paths),
        format=fmt,  # type: ignore[arg-type]
        fail_on=fail_on,  # type: ignore[arg-type]
        fix=fix,
        patch_out=patch_out,
        hook=hook,
        fail_closed=fail_closed,
        budget=budget,
    )
    return review(repo, config, options)
